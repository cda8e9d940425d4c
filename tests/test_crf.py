"""The linear-chain CRF head: exact likelihood, constrained Viterbi, and the tagger option."""

import itertools
import pickle

import pytest
import torch

from skmtl import MultiTaskTagger
from skmtl._spans import spans
from skmtl.datasets import load_ewt
from skmtl.encoders import TextEncoder
from skmtl.heads import LinearChainCRF, bio_transition_mask, is_bio_tagset

LABELS = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]


def random_crf(seed=0, constrained=True):
    torch.manual_seed(seed)
    allowed, start = bio_transition_mask(LABELS) if constrained else (None, None)
    crf = LinearChainCRF(len(LABELS), allowed, start)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def path_score(crf, emissions, seq, constrained=False):
    s = crf.start[seq[0]] + emissions[0, seq[0]]
    if constrained:
        s = s + crf.start_bias[seq[0]]
    for t in range(1, len(seq)):
        s = s + crf.transitions[seq[t - 1], seq[t]] + emissions[t, seq[t]]
        if constrained:
            s = s + crf.decode_bias[seq[t - 1], seq[t]]
    return s + crf.end[seq[-1]]


def test_is_bio_tagset():
    assert is_bio_tagset(["O", "B-PER", "I-PER"])
    assert not is_bio_tagset(["O"])
    assert not is_bio_tagset(["NOUN", "VERB"])
    assert not is_bio_tagset(["O", "B-PER", "X"])


def test_bio_transition_mask_forbids_only_invalid_inside_tags():
    allowed, start = bio_transition_mask(LABELS)
    index = {label: i for i, label in enumerate(LABELS)}
    for frm, to in itertools.product(LABELS, LABELS):
        valid = not to.startswith("I-") or frm[2:] == to[2:]
        assert allowed[index[frm], index[to]] == valid, (frm, to)
    assert [bool(start[index[label]]) for label in LABELS] == [True, True, False, False, True]


def test_negative_log_likelihood_matches_brute_force():
    crf = random_crf(constrained=False)
    B, T, C = 3, 4, len(LABELS)
    emissions = torch.randn(B, T, C)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    tags = torch.randint(0, C, (B, T))
    nll = crf.neg_log_likelihood(emissions, tags, mask)
    for b in range(B):
        n = int(mask[b].sum())
        e = emissions[b, :n]
        paths = list(itertools.product(range(C), repeat=n))
        log_z = torch.logsumexp(torch.stack([path_score(crf, e, p) for p in paths]), 0)
        expected = log_z - path_score(crf, e, tags[b, :n].tolist())
        assert nll[b].item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-5)


def test_nll_is_a_proper_likelihood():
    # The probabilities of all tag sequences of a sentence sum to one.
    crf = random_crf(seed=1, constrained=False)
    T, C = 3, len(LABELS)
    emissions = torch.randn(1, T, C)
    mask = torch.ones(1, T, dtype=torch.bool)
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        nll = crf.neg_log_likelihood(emissions, torch.tensor([path]), mask)
        total += float(torch.exp(-nll.detach()))
    assert total == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_is_the_best_valid_path(seed):
    crf = random_crf(seed)
    B, T, C = 3, 4, len(LABELS)
    emissions = torch.randn(B, T, C) * 3
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.bool)
    decoded = crf.decode(emissions, mask)
    assert (decoded[~mask] == 0).all()
    for b in range(B):
        n = int(mask[b].sum())
        e = emissions[b, :n]
        best = max(
            itertools.product(range(C), repeat=n),
            key=lambda p: float(path_score(crf, e, p, constrained=True)),
        )
        assert decoded[b, :n].tolist() == list(best)


def test_viterbi_never_outputs_an_invalid_bio_sequence():
    # Emissions that shout I-PER after O, and I-LOC first: decoding must still be valid.
    crf = random_crf(seed=3)
    T = 6
    emissions = torch.full((1, T, len(LABELS)), -5.0)
    emissions[0, :, LABELS.index("I-LOC")] = 5.0
    emissions[0, 2, LABELS.index("O")] = 6.0
    emissions[0, 3, LABELS.index("I-PER")] = 9.0
    tags = [LABELS[i] for i in crf.decode(emissions, torch.ones(1, T, dtype=torch.bool))[0]]
    assert not tags[0].startswith("I-")
    for prev, cur in itertools.pairwise(tags):
        if cur.startswith("I-"):
            assert prev[2:] == cur[2:], tags


@pytest.fixture(scope="module")
def ewt():
    data = load_ewt()
    return data.tokens, data.targets[["upos", "ner"]]


def encoder():
    return TextEncoder(width=32, embed_dim=32, depth=1)


def test_tagger_with_crf_predicts_valid_spans(ewt):
    X, Y = ewt
    tagger = MultiTaskTagger(encoder(), crf="auto", max_epochs=3, random_state=0).fit(X, Y)
    # upos is not an IOB2 tag set
    assert [t.type for t in tagger.tasks_.values()] == ["token", "token_crf"]
    pred = tagger.predict(X)
    for words, tags in zip(X, pred["ner"], strict=True):
        assert len(tags) == len(words)
        assert not (tags and tags[0].startswith("I-"))
        for prev, cur in itertools.pairwise(tags):
            assert not cur.startswith("I-") or prev[2:] == cur[2:]
    # every predicted I- tag belongs to a strict span
    n_inside = sum(t != "O" for tags in pred["ner"] for t in tags)
    n_span_tokens = sum(e - s for tags in pred["ner"] for _, s, e in spans(tags))
    assert n_inside == n_span_tokens
    # and the model is trained: the loss fell
    losses = tagger.history_[:, "task_loss", "ner"]
    assert losses[-1] < losses[0]


def test_tagger_crf_pickles_and_is_deterministic(ewt):
    X, Y = ewt
    X, Y = X[:60], Y.iloc[:60]
    a = MultiTaskTagger(encoder(), crf=["ner"], max_epochs=1, random_state=0).fit(X, Y)
    b = MultiTaskTagger(encoder(), crf=["ner"], max_epochs=1, random_state=0).fit(X, Y)
    assert a.predict(X).equals(b.predict(X))
    again = pickle.loads(pickle.dumps(a))
    assert again.predict(X).equals(a.predict(X))


def test_crf_on_a_non_bio_task_is_a_plain_chain(ewt):
    X, Y = ewt
    X, Y = X[:40], Y.iloc[:40]
    tagger = MultiTaskTagger(encoder(), crf=["upos"], max_epochs=1, random_state=0).fit(X, Y)
    crf = tagger.module_.head("upos").crf
    assert (crf.decode_bias == 0).all() and (crf.start_bias == 0).all()
    assert [len(t) for t in tagger.predict(X)["upos"]] == [len(w) for w in X]


@pytest.mark.parametrize(
    "crf, match",
    [
        (["nope"], "unknown task 'nope'"),
        (["doc"], "document-level task"),
        ("yes", "crf must be None"),
        ([1], "crf must be None"),
    ],
)
def test_crf_bad_values(crf, match):
    X = [["a", "b"], ["c"]]
    Y = {"ner": [["B-PER", "O"], ["O"]], "doc": ["x", "y"]}
    with pytest.raises(ValueError, match=match):
        MultiTaskTagger(encoder(), crf=crf, max_epochs=1).fit(X, Y)


def test_unlabelled_batch_contributes_zero():
    crf_loss = MultiTaskTagger(encoder(), crf=["ner"], max_epochs=1, random_state=0)
    X = [["a", "b"], ["c"]]
    Y = {"pos": [["X", "Y"], ["X"]], "ner": [None, ["O"]]}
    crf_loss.fit(X, Y)
    task, head = crf_loss.tasks_["ner"], crf_loss.module_.head("ner")
    output = torch.randn(1, 2, 1, requires_grad=True)
    target = torch.tensor([-1, -1])
    loss = task.loss(output, target, torch.zeros(2), mask=torch.ones(1, 2, dtype=bool), head=head)
    assert loss.item() == 0.0
    loss.backward()
    assert (output.grad == 0).all()
