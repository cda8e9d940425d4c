"""Tests for skmtl._spans: strict IOB2 spans, span scores and token accuracy.

The comparisons with seqeval (strict mode, IOB2 scheme) need seqeval, which is
not a dependency of skmtl; they are skipped where it is not installed.
"""

import math

import numpy as np
import pytest

from skmtl._spans import span_scores, spans, token_accuracy

# ----------------------------------------------------------------------------
# Hand-computed expectations (no seqeval needed)
# ----------------------------------------------------------------------------
SPAN_CASES = [
    ([], []),
    (["O", "O"], []),
    (["B-PER"], [("PER", 0, 1)]),
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    # strict mode: an I- that does not continue an entity of its type starts nothing
    (["I-PER", "I-PER", "O"], []),
    (["O", "I-LOC", "B-LOC"], [("LOC", 2, 3)]),
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1)]),
    # B-X right after B-X / I-X starts a new entity
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    (["B-ORG", "I-ORG", "I-ORG"], [("ORG", 0, 3)]),
    (["B-ORG", "I-ORG", "B-LOC", "I-LOC", "I-ORG"], [("ORG", 0, 2), ("LOC", 2, 4)]),
    # the draft UNER train's odd tags are syntactically valid IOB2
    (["O", "B-O"], [("O", 1, 2)]),
    # types may contain hyphens
    (["B-GPE-LOC", "I-GPE-LOC"], [("GPE-LOC", 0, 2)]),
]


@pytest.mark.parametrize("tags, expected", SPAN_CASES)
def test_spans_hand_made(tags, expected):
    assert spans(tags) == expected
    assert spans(tuple(tags)) == expected


@pytest.mark.parametrize("bad", ["B", "I-", "E-PER", "S-PER", "PER", "", None, "b-PER"])
def test_spans_rejects_non_iob2_tags(bad):
    with pytest.raises(ValueError, match="invalid IOB2 tag .* at position 1"):
        spans(["O", bad])


def test_span_scores_hand_computed():
    y_true = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # PER(0,2), LOC(3,4)
        ["B-ORG", "I-ORG", "I-ORG", "O"],  # ORG(0,3)
        ["O", "B-LOC", "O", "O"],  # LOC(1,2)
    ]
    y_pred = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # both right
        ["B-ORG", "I-ORG", "O", "O"],  # ORG(0,2): wrong end
        ["O", "I-LOC", "O", "B-PER"],  # I-LOC starts nothing (strict); PER(3,4) wrong
    ]
    s = span_scores(y_true, y_pred)
    # true: 4 entities; pred: PER, LOC, ORG(0,2), PER(3,4) = 4; tp = 2
    assert s["support"] == 4
    assert s["precision"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(0.5)
    assert list(s["per_type"]) == ["LOC", "ORG", "PER"]
    assert s["per_type"]["PER"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    )
    assert s["per_type"]["LOC"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    assert s["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_span_scores_types_only_predicted_and_zero_division():
    s = span_scores([["O", "O"]], [["B-MISC", "O"]])
    assert s["support"] == 0
    assert (s["precision"], s["recall"], s["f1"]) == (0.0, 0.0, 0.0)
    assert s["per_type"] == {"MISC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}}
    assert span_scores([], []) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
        "per_type": {},
    }


def test_missing_truth_is_skipped():
    y_true = [["B-PER", "O"], None, ["O"]]
    y_pred = [["B-PER", "O"], ["B-LOC", "I-LOC", "O"], ["O"]]  # length of skipped one ignored
    s = span_scores(y_true, y_pred)
    assert (s["precision"], s["recall"], s["support"]) == (1.0, 1.0, 1)
    assert "LOC" not in s["per_type"]
    assert token_accuracy(y_true, y_pred) == 1.0
    # a None prediction is skipped with its missing truth too
    assert token_accuracy([None, ["O"]], [None, ["B-PER"]]) == 0.0


def test_token_accuracy_hand_computed():
    y_true = [["NOUN", "VERB", "PUNCT"], ["PRON"]]
    y_pred = [["NOUN", "NOUN", "PUNCT"], ["PRON"]]
    assert token_accuracy(y_true, y_pred) == 0.75
    # works on arrays and tuples too
    assert token_accuracy(np.array(y_true, dtype=object), [tuple(p) for p in y_pred]) == 0.75
    assert math.isnan(token_accuracy([None], [["O"]]))
    assert math.isnan(token_accuracy([], []))


@pytest.mark.parametrize("scorer", [span_scores, token_accuracy])
def test_length_errors_name_the_sentence(scorer):
    with pytest.raises(ValueError, match="sentence 1: y_true has 2 tags but y_pred has 3"):
        scorer([["O"], ["O", "O"]], [["O"], ["O", "O", "O"]])
    with pytest.raises(ValueError, match="different numbers of sentences: 2 and 1"):
        scorer([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="sentence 0: the prediction is None"):
        scorer([["O"]], [None])


def test_span_scores_bad_tag_names_the_sentence():
    with pytest.raises(ValueError, match="sentence 1: invalid IOB2 tag 'X-PER' at position 0"):
        span_scores([["O"], ["X-PER"]], [["O"], ["O"]])


# ----------------------------------------------------------------------------
# Agreement with seqeval (strict mode, IOB2)
# ----------------------------------------------------------------------------
def _random_sequences(rng, n_sentences, types, p_outside=0.5):
    tags = ["O"] + [f"{p}-{t}" for t in types for p in "BI"]
    probs = np.array([p_outside] + [(1 - p_outside) / (len(tags) - 1)] * (len(tags) - 1))
    lengths = rng.integers(0, 12, size=n_sentences)
    return [list(rng.choice(tags, size=k, p=probs)) for k in lengths]


def _perturb(rng, seqs, types, rate):
    """Copy of seqs with a fraction ``rate`` of tags replaced at random."""
    tags = ["O"] + [f"{p}-{t}" for t in types for p in "BI"]
    out = []
    for seq in seqs:
        seq = list(seq)
        for i in range(len(seq)):
            if rng.random() < rate:
                seq[i] = str(rng.choice(tags))
        out.append(seq)
    return out


@pytest.fixture(scope="module")
def seqeval():
    pytest.importorskip("seqeval", reason="seqeval (test-only reference) is not installed")
    from seqeval.metrics import classification_report, f1_score
    from seqeval.scheme import IOB2, Entities

    return {
        "report": classification_report,
        "f1": f1_score,
        "IOB2": IOB2,
        "Entities": Entities,
    }


def _compare(seqeval, y_true, y_pred):
    import warnings

    ours = span_scores(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval's zero-division warnings
        ref = seqeval["report"](
            y_true, y_pred, mode="strict", scheme=seqeval["IOB2"], output_dict=True
        )
        ref_f1 = seqeval["f1"](y_true, y_pred, mode="strict", scheme=seqeval["IOB2"])
    assert ours["f1"] == pytest.approx(ref_f1, abs=1e-12)
    micro = ref["micro avg"]
    assert ours["precision"] == pytest.approx(micro["precision"], abs=1e-12)
    assert ours["recall"] == pytest.approx(micro["recall"], abs=1e-12)
    assert ours["f1"] == pytest.approx(micro["f1-score"], abs=1e-12)
    assert ours["support"] == micro["support"]
    ref_types = {k: v for k, v in ref.items() if not k.endswith(" avg")}
    assert set(ours["per_type"]) == set(ref_types)
    for typ, r in ref_types.items():
        o = ours["per_type"][typ]
        assert o["precision"] == pytest.approx(r["precision"], abs=1e-12), typ
        assert o["recall"] == pytest.approx(r["recall"], abs=1e-12), typ
        assert o["f1"] == pytest.approx(r["f1-score"], abs=1e-12), typ
        assert o["support"] == r["support"], typ


def test_spans_match_seqeval_entities(seqeval):
    rng = np.random.default_rng(0)
    seqs = _random_sequences(rng, 400, ["PER", "LOC", "ORG"], p_outside=0.3)
    seqs += [tags for tags, _ in SPAN_CASES]
    ref = seqeval["Entities"](seqs, seqeval["IOB2"]).entities
    for seq, ents in zip(seqs, ref, strict=True):
        assert spans(seq) == [(e.tag, e.start, e.end) for e in ents], seq


@pytest.mark.parametrize("seed", range(6))
def test_span_scores_match_seqeval_random(seqeval, seed):
    rng = np.random.default_rng(seed)
    types = ["PER", "LOC", "ORG", "MISC"][: 1 + seed % 4]
    y_true = _random_sequences(rng, 60, types, p_outside=0.3 + 0.1 * (seed % 3))
    y_pred = _perturb(rng, y_true, types, rate=0.05 + 0.1 * (seed % 3))
    _compare(seqeval, y_true, y_pred)
    # unrelated predictions, and predictions equal to the truth
    _compare(seqeval, y_true, _perturb(rng, y_true, types, rate=1.0))
    _compare(seqeval, y_true, y_true)


HAND_MADE_PAIRS = [
    ([["B-PER", "I-PER", "O"]], [["I-PER", "I-PER", "O"]]),
    ([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]]),
    ([["B-PER", "B-PER"]], [["B-PER", "I-PER"]]),
    ([["B-LOC", "I-ORG"]], [["B-LOC", "O"]]),
    ([["O", "B-O", "O"]], [["O", "O", "O"]]),
    ([["B-A", "I-A", "I-A"], ["B-B"]], [["B-A", "I-A", "B-A"], ["I-B"]]),
    ([["O"]], [["B-X"]]),
]


@pytest.mark.parametrize("y_true, y_pred", HAND_MADE_PAIRS)
def test_span_scores_match_seqeval_hand_made(seqeval, y_true, y_pred):
    _compare(seqeval, y_true, y_pred)
