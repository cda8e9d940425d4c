"""Generation metrics of skmtl.metrics: bleu, chrf, rouge1/2/L, corpus_bleu, corpus_bleu_ids.

Each metric is checked against sacrebleu / rouge-score computed directly (skmtl's
scores are on the 0-1 scale: sacrebleu's 0-100 divided by 100).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV

from skmtl.metrics import (
    GENERATION_METRICS,
    METRICS,
    REPORT_METRICS,
    corpus_bleu,
    corpus_bleu_ids,
    default_metric,
    multitask_scorers,
    task_report,
    task_score,
    task_scores,
)

sacrebleu = pytest.importorskip("sacrebleu")
rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

REFS = [
    "The cat sat on the mat.",
    "A quick brown fox jumps over the lazy dog.",
    "It is raining in Paris today.",
    "She reads a book every evening.",
]
HYPS = [
    "The cat sat on a mat.",
    "The quick brown fox jumped over a lazy dog.",
    "Today it rains in Paris.",
    "",
]
ROUGE = ("rouge1", "rouge2", "rougeL")


def _sacre(metric, hyps, ref_streams, **options):
    cls = sacrebleu.metrics.BLEU if metric == "bleu" else sacrebleu.metrics.CHRF
    return cls(**options).corpus_score(hyps, ref_streams).score / 100


def _rouge_rows(metric, refs, hyps):
    scorer = rouge_scorer.RougeScorer([metric], use_stemmer=True)
    return [
        max(scorer.score(r, h)[metric].fmeasure for r in ([r] if isinstance(r, str) else r))
        for r, h in zip(refs, hyps, strict=True)
    ]


# ---------------------------------------------------------------- registry


def test_metric_names_and_types():
    assert GENERATION_METRICS == ("bleu", "chrf", "rouge1", "rouge2", "rougeL")
    assert all(m in METRICS for m in GENERATION_METRICS)
    assert REPORT_METRICS["generation"] == GENERATION_METRICS
    assert default_metric("generation") == "chrf"


@pytest.mark.parametrize("metric", GENERATION_METRICS)
@pytest.mark.parametrize("task_type", ["multiclass", "binary", "token", "continuous"])
def test_generation_metric_only_on_generation(metric, task_type):
    with pytest.raises(ValueError, match="generation"):
        task_score(REFS, HYPS, metric, task_type=task_type)


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro", "r2", "span_f1"])
def test_other_metrics_do_not_apply_to_generation(metric):
    with pytest.raises(ValueError, match="appl(y|ies) to"):
        task_score(REFS, HYPS, metric, task_type="generation")


# ---------------------------------------------------------------- against the references


@pytest.mark.parametrize("metric", ["bleu", "chrf"])
@pytest.mark.parametrize("task_type", [None, "generation"])
def test_corpus_metrics_equal_sacrebleu(metric, task_type):
    got = task_score(REFS, HYPS, metric, task_type=task_type)
    assert got == pytest.approx(_sacre(metric, HYPS, [REFS]), abs=1e-12)
    assert 0 < got < 1


@pytest.mark.parametrize("metric", ROUGE)
def test_rouge_equals_rouge_score_mean_f(metric):
    expected = np.mean(_rouge_rows(metric, REFS, HYPS))
    assert task_score(REFS, HYPS, metric) == pytest.approx(expected, abs=1e-12)
    assert task_score(REFS, HYPS, metric, task_type="generation") == pytest.approx(expected)


@pytest.mark.parametrize("metric", GENERATION_METRICS)
def test_containers(metric):
    expected = task_score(REFS, HYPS, metric)
    for true, pred in [
        (np.array(REFS, dtype=object), np.array(HYPS, dtype=object)),
        (np.array(REFS), np.array(HYPS)),  # numpy str_ cells
        (pd.Series(REFS), pd.Series(HYPS)),
        (pd.Series(REFS, dtype="string"), pd.Series(HYPS, dtype="string")),
        (tuple(REFS), pd.DataFrame({"t": HYPS})),  # a one-column frame of predictions
    ]:
        assert task_score(true, pred, metric) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("metric", GENERATION_METRICS)
def test_perfect_prediction_is_one(metric):
    assert task_score(REFS, list(REFS), metric) == 1.0


@pytest.mark.parametrize("metric", GENERATION_METRICS)
def test_empty_predictions_score_zero(metric):
    assert task_score(REFS, [""] * len(REFS), metric) == 0.0


# ---------------------------------------------------------------- missing references


@pytest.mark.parametrize("metric", GENERATION_METRICS)
@pytest.mark.parametrize("missing", [None, np.nan, pd.NA], ids=["None", "nan", "pd.NA"])
def test_missing_references_are_skipped(metric, missing):
    refs = [REFS[0], missing, REFS[1], REFS[2], missing, REFS[3]]
    # predictions of unlabelled rows are never looked at, even when they are not text
    hyps = [HYPS[0], "anything at all", HYPS[1], HYPS[2], 42, HYPS[3]]
    expected = task_score(REFS, HYPS, metric)
    assert task_score(refs, hyps, metric) == pytest.approx(expected, abs=1e-12)
    assert task_score(pd.Series(refs), hyps, metric) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("metric", GENERATION_METRICS)
def test_all_missing_raises(metric):
    with pytest.raises(ValueError, match="missing"):
        task_score([None, np.nan], ["a", "b"], metric)


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="different lengths"):
        task_score(REFS, HYPS[:-1], "bleu")


# ---------------------------------------------------------------- several references

MULTI_REFS = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ["A quick brown fox jumps over the lazy dog."],  # a list cell with one reference
    ("It is raining in Paris today.", "Today it rains in Paris.", "Paris has rain today."),
    "She reads a book every evening.",  # a plain str among collections
]


def _streams(refs):
    refs = [[r] if isinstance(r, str) else list(r) for r in refs]
    width = max(map(len, refs))
    return [[r[k] if k < len(r) else None for r in refs] for k in range(width)]


@pytest.mark.parametrize("metric", ["bleu", "chrf"])
def test_multi_reference_corpus_metrics(metric):
    got = task_score(MULTI_REFS, HYPS, metric)
    assert got == pytest.approx(_sacre(metric, HYPS, _streams(MULTI_REFS)), abs=1e-12)
    # the extra references can only help here: row 2's hypothesis is one of them
    assert got > task_score([r if isinstance(r, str) else r[0] for r in MULTI_REFS], HYPS, metric)


@pytest.mark.parametrize("metric", ROUGE)
def test_multi_reference_rouge_is_best_per_row(metric):
    expected = np.mean(_rouge_rows(metric, MULTI_REFS, HYPS))
    assert task_score(MULTI_REFS, HYPS, metric) == pytest.approx(expected, abs=1e-12)
    scorer = rouge_scorer.RougeScorer([metric], use_stemmer=True)
    direct = [
        scorer.score_multi([r] if isinstance(r, str) else list(r), h)[metric].fmeasure
        for r, h in zip(MULTI_REFS, HYPS, strict=True)
    ]
    assert task_score(MULTI_REFS, HYPS, metric) == pytest.approx(np.mean(direct), abs=1e-12)


@pytest.mark.parametrize("metric", GENERATION_METRICS)
def test_multi_reference_block_with_padding(metric):
    # a 2-D block (one row of references per sample), None padding the shorter rows;
    # a row of only None is a missing row
    block = np.array(
        [
            ["The cat sat on the mat.", "A cat was sitting on the mat.", None],
            [None, None, None],
            ["A quick brown fox jumps over the lazy dog.", None, None],
            ["It is raining in Paris today.", "Today it rains in Paris.", "Paris has rain today."],
            ["She reads a book every evening.", None, None],
        ],
        dtype=object,
    )
    hyps = [HYPS[0], "skipped", *HYPS[1:]]
    assert task_score(block, hyps, metric) == pytest.approx(
        task_score(MULTI_REFS, HYPS, metric), abs=1e-12
    )
    frame = pd.DataFrame(block)
    assert task_score(frame, hyps, metric) == pytest.approx(
        task_score(MULTI_REFS, HYPS, metric), abs=1e-12
    )


def test_empty_reference_collection_raises():
    with pytest.raises(ValueError, match="Row 1: an empty collection"):
        task_score(["a b", ()], ["a b", "c"], "chrf")


def test_non_text_reference_raises():
    with pytest.raises(ValueError, match="Row 1"):
        task_score(["a b", 3], ["a b", "c"], "bleu")
    with pytest.raises(ValueError, match="Row 0.*must be strs"):
        task_score([("a b", 3)], ["a b"], "rouge1")


# ---------------------------------------------------------------- bad input, weights


@pytest.mark.parametrize("metric", GENERATION_METRICS)
@pytest.mark.parametrize(
    "bad", [None, 3, ["a", "b"], b"bytes"], ids=["None", "int", "list", "bytes"]
)
def test_bad_prediction_type_names_the_row(metric, bad):
    with pytest.raises(ValueError, match=r"Row 2: .*prediction must be a str"):
        task_score(REFS[:3], [HYPS[0], HYPS[1], bad], metric)


@pytest.mark.parametrize("metric", ["bleu", "chrf"])
def test_sample_weight_on_corpus_metric_raises(metric):
    with pytest.raises(ValueError, match="corpus-level metric, no sample weights"):
        task_score(REFS, HYPS, metric, sample_weight=np.ones(len(REFS)))


@pytest.mark.parametrize("metric", ROUGE)
def test_rouge_weighted_mean(metric):
    refs = [REFS[0], None, *REFS[1:]]
    hyps = [HYPS[0], "x", *HYPS[1:]]
    weights = np.array([1.0, 100.0, 2.0, 0.5, 3.0])  # the missing row's weight is dropped
    rows = _rouge_rows(metric, REFS, HYPS)
    expected = np.average(rows, weights=[1.0, 2.0, 0.5, 3.0])
    got = task_score(refs, hyps, metric, sample_weight=weights)
    assert got == pytest.approx(expected, abs=1e-12)
    assert got != pytest.approx(np.mean(rows))
    assert task_score(refs, hyps, metric, sample_weight=np.ones(5)) == pytest.approx(np.mean(rows))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        task_score(refs, hyps, metric, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="not all zero"):
        task_score(refs, hyps, metric, sample_weight=[0.0, 1.0, 0.0, 0.0, 0.0])


def test_missing_optional_package_says_how_to_install(monkeypatch):
    import skmtl.metrics as metrics

    monkeypatch.setitem(sys.modules, "sacrebleu", None)
    for call in (
        lambda: task_score(REFS, HYPS, "bleu"),
        lambda: corpus_bleu(REFS, HYPS),
        lambda: corpus_bleu_ids([[1, 2]], [[1, 2]]),
    ):
        with pytest.raises(ImportError, match=r"needs sacrebleu: pip install 'skmtl\[seq2seq\]'"):
            call()
    monkeypatch.setitem(sys.modules, "rouge_score", None)
    monkeypatch.setitem(sys.modules, "rouge_score.rouge_scorer", None)
    metrics._rouge_scorer.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"needs rouge-score: pip install 'skmtl\[seq2seq\]'"):
            task_score(REFS, HYPS, "rouge2")
    finally:
        metrics._rouge_scorer.cache_clear()


# ---------------------------------------------------------------- corpus_bleu


def test_corpus_bleu_defaults_are_the_bleu_metric():
    assert corpus_bleu(REFS, HYPS) == task_score(REFS, HYPS, "bleu")
    assert corpus_bleu(MULTI_REFS, HYPS) == task_score(MULTI_REFS, HYPS, "bleu")
    assert corpus_bleu([REFS[0], None], [HYPS[0], "x"]) == corpus_bleu(REFS[:1], HYPS[:1])


def test_corpus_bleu_lowercase_and_tokenize():
    refs = ["The Cat sat on the mat , said Anna .", "Paris is LOVELY in spring ."]
    hyps = ["the cat sat on the mat , said anna .", "paris is lovely in the spring ."]
    cased = corpus_bleu(refs, hyps)
    lower = corpus_bleu(refs, hyps, lowercase=True)
    assert cased == pytest.approx(_sacre("bleu", hyps, [refs]))
    assert lower == pytest.approx(_sacre("bleu", hyps, [refs], lowercase=True))
    assert lower > cased
    tok_lower = corpus_bleu(refs, hyps, lowercase=True, tokenize="none")
    assert tok_lower == pytest.approx(_sacre("bleu", hyps, [refs], lowercase=True, tokenize="none"))
    # tokenize="none" splits on whitespace only: "mat." stays one token
    glued_refs, glued_hyps = ["the cat sat on the mat."], ["the cat sat on the mat ."]
    assert corpus_bleu(glued_refs, glued_hyps) == 1.0
    assert corpus_bleu(glued_refs, glued_hyps, tokenize="none") < 1.0
    with pytest.raises(ValueError, match="Unknown tokenize"):
        corpus_bleu(refs, hyps, tokenize="bogus")


# ---------------------------------------------------------------- corpus_bleu_ids


def test_corpus_bleu_ids():
    refs = [[5, 6, 7, 8, 9], [10, 11, 12, 13]]
    assert corpus_bleu_ids(refs, refs) == 1.0
    assert corpus_bleu_ids(refs, [np.array(r, dtype=np.int64) for r in refs]) == 1.0
    disjoint = corpus_bleu_ids(refs, [[1, 2, 3, 4, 0], [20, 21, 22, 23]])
    assert 0 <= disjoint < 0.01
    assert corpus_bleu_ids(refs, [[], []]) == 0.0
    # equal to sacrebleu on the ids joined by spaces, tokenize="none", exp smoothing
    hyps = [[5, 6, 7, 1], [10, 11, 12, 13, 14]]
    expected = _sacre(
        "bleu", ["5 6 7 1", "10 11 12 13 14"], [["5 6 7 8 9", "10 11 12 13"]], tokenize="none"
    )
    assert corpus_bleu_ids(refs, hyps) == pytest.approx(expected, abs=1e-12)
    # a short corpus without any matching 4-gram (or 3-gram) is smoothed above 0 ...
    smoothed = corpus_bleu_ids([[1, 2, 3, 4, 5]], [[1, 2, 7, 4, 5]])
    assert smoothed == pytest.approx(_sacre("bleu", ["1 2 7 4 5"], [["1 2 3 4 5"]]))
    assert smoothed > 0.1
    # ... but hypotheses without any 4-gram (all shorter than 4 ids) score 0, as in sacrebleu
    assert corpus_bleu_ids([[1, 2, 3]], [[1, 2, 3]]) == 0.0


def test_corpus_bleu_ids_bad_input():
    with pytest.raises(ValueError, match="different lengths"):
        corpus_bleu_ids([[1, 2]], [])
    with pytest.raises(ValueError, match="nothing to score"):
        corpus_bleu_ids([], [])
    with pytest.raises(ValueError, match=r"hypotheses\[0\] must hold int ids"):
        corpus_bleu_ids([[1, 2]], [[1.5, 2]])
    with pytest.raises(ValueError, match=r"references\[0\] must be a sequence"):
        corpus_bleu_ids(["1 2"], [[1, 2]])


def test_generation_task_score_uses_corpus_bleu_ids():
    from skmtl.tasks import TASK_TYPES, EncodedTarget

    task = TASK_TYPES["generation"]("de", None, 50, bos_id=1, eos_id=2, max_length=8)
    target = np.full((3, 8), -1, dtype=np.int64)
    target[0, :6] = [5, 6, 7, 8, 9, 2]
    target[2, :5] = [10, 11, 12, 13, 2]
    encoded = EncodedTarget(target, np.array([True, False, True]))
    prediction = target.copy()
    prediction[1, :3] = [3, 4, 2]
    assert task.score(encoded, prediction) == 1.0


# ---------------------------------------------------------------- reports and scorers


def test_task_report_row():
    Y_true = pd.DataFrame({"de": [REFS[0], None, *REFS[1:]], "spam": [1, 0, 1, None, 0]})
    Y_pred = pd.DataFrame({"de": [HYPS[0], "x", *HYPS[1:]], "spam": [1, 0, 0, 1, 0]})
    report = task_report(Y_true, Y_pred, task_types={"de": "generation"}, output_dict=True)
    row = report["de"]
    assert set(row) == {"type", "n_labelled", *REPORT_METRICS["generation"]}
    assert row["type"] == "generation" and row["n_labelled"] == 4
    for metric in GENERATION_METRICS:
        assert row[metric] == pytest.approx(task_score(REFS, HYPS, metric), abs=1e-12)
    text = task_report(Y_true, Y_pred, task_types={"de": "generation"}, digits=2)
    header, de_line, spam_line = text.splitlines()
    assert header.split() == [
        "task", "type", "n_labelled", "accuracy", "f1_macro", "f1_micro", *GENERATION_METRICS
    ]  # fmt: skip
    assert de_line.split()[:6] == ["de", "generation", "4", "-", "-", "-"]
    assert de_line.split()[6] == f"{task_score(REFS, HYPS, 'bleu'):.2f}"
    assert spam_line.split()[-5:] == ["-"] * 5


def test_generation_metric_implies_the_type_in_reports():
    Y_true = {"de": REFS, "spam": [1, 0, 1, 0]}
    Y_pred = {"de": HYPS, "spam": [1, 0, 0, 0]}
    scores = task_scores(Y_true, Y_pred, metrics={"de": ["bleu", "rougeL"]})
    assert scores["de"] == {
        "bleu": pytest.approx(task_score(REFS, HYPS, "bleu")),
        "rougeL": pytest.approx(task_score(REFS, HYPS, "rougeL")),
    }
    report = task_report(Y_true, Y_pred, metrics={"de": "chrf"}, output_dict=True)
    assert report["de"]["type"] == "generation"
    # a str metric is applied where it fits: a generation task must be named
    with pytest.raises(ValueError, match="task_types"):
        task_scores(Y_true, Y_pred, metrics="bleu")
    assert task_scores(Y_true, Y_pred, metrics="bleu", task_types={"de": "generation"}) == {
        "de": {"bleu": pytest.approx(task_score(REFS, HYPS, "bleu"))},
        "spam": {},
    }
    # a type given explicitly is kept, and the generation metric does not fit it
    with pytest.raises(ValueError, match="Task 'de'.*generation"):
        task_scores(Y_true, Y_pred, metrics={"de": "bleu"}, task_types={"de": "multiclass"})


class _Truncator(BaseEstimator):
    """Predicts, for each task, the first ``n_words`` words of the source text."""

    def __init__(self, n_words=1):
        self.n_words = n_words

    def fit(self, X, Y):
        self.tasks_ = list(Y.columns)
        return self

    def predict(self, X):
        texts = [" ".join(str(s).split()[: self.n_words]) for s in np.asarray(X)[:, 0]]
        return pd.DataFrame({task: texts for task in self.tasks_})


def _text_data(n=12):
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    rng = np.random.RandomState(0)
    sources = [" ".join(rng.choice(words, size=8)) for _ in range(n)]
    X = np.array(sources, dtype=object).reshape(-1, 1)
    Y = pd.DataFrame(
        {
            "de": [s if i % 5 else None for i, s in enumerate(sources)],  # some missing
            "subject": [" ".join(s.split()[:6]) for s in sources],
        }
    )
    return X, Y


def test_multitask_scorers_direct():
    X, Y = _text_data()
    model = _Truncator(n_words=100).fit(X, Y)
    scoring = multitask_scorers({"de": "bleu", "subject": ["rougeL", "chrf"]})
    assert sorted(scoring) == ["de_bleu", "mean", "subject_chrf", "subject_rougeL"]
    pred = model.predict(X)
    assert scoring["de_bleu"](model, X, Y) == 1.0
    assert scoring["subject_rougeL"](model, X, Y) == pytest.approx(
        task_score(Y["subject"], pred["subject"], "rougeL")
    )
    expected_mean = np.mean(
        [
            task_score(Y["de"], pred["de"], "bleu"),
            task_score(Y["subject"], pred["subject"], "rougeL"),
            task_score(Y["subject"], pred["subject"], "chrf"),
        ]
    )
    assert scoring["mean"](model, X, Y) == pytest.approx(expected_mean)


def test_multitask_scorers_in_grid_search():
    X, Y = _text_data()
    scoring = multitask_scorers({"de": "bleu", "subject": "rougeL"})
    search = GridSearchCV(
        _Truncator(), {"n_words": [2, 6, 100]}, scoring=scoring, refit="mean", cv=3
    )
    search.fit(X, Y)
    # n_words=6 gives "subject" exactly, 100 gives "de" exactly: their mean decides
    results = search.cv_results_
    assert set(scoring) <= {k.removeprefix("mean_test_") for k in results}
    assert results["mean_test_subject_rougeL"][1] == pytest.approx(1.0)
    assert results["mean_test_de_bleu"][2] == pytest.approx(1.0)
    best = int(np.argmax(results["mean_test_mean"]))
    assert search.best_params_ == {"n_words": [2, 6, 100][best]}
    assert results["mean_test_mean"][0] < results["mean_test_mean"][best]
    assert search.best_estimator_.n_words == search.best_params_["n_words"]
