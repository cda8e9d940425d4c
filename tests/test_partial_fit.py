"""partial_fit: one epoch per chunk, declared label spaces, dask-ml's Incremental."""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.utils import estimator_checks

import skmtl
from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor, MultiTaskTagger
from skmtl.base import _partial_fit_rng
from skmtl.encoders import TextEncoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (8,), "batch_size": 32, "random_state": 0}
CLASSES = [[0, 1], [0, 1, 2]]


def _same_network(a, b):
    for p, q in zip(a.module_.state_dict().values(), b.module_.state_dict().values(), strict=True):
        assert torch.equal(p, q)


def _chunks(n, k):
    return np.array_split(np.arange(n), k)


@pytest.fixture
def Y_mixed(X):
    return pd.DataFrame(
        {
            "sentiment": np.where(X[:, 0] > 0, "pos", "neg").astype(object),
            "topics": [
                tuple(t for t, on in zip("ab", r, strict=True) if on) for r in X[:, 1:3] > 0
            ],
            "score": X[:, 3] * 10.0 + 50.0,
        }
    )


MIXED_CLASSES = {"sentiment": ["neg", "pos"], "topics": ["a", "b"]}


# ---------------------------------------------------------------- the engine, one epoch a call


def test_one_call_over_all_rows_is_fit_with_one_epoch(X, Y, Y_mixed):
    one = MultiTaskClassifier(**FAST).partial_fit(X, Y, classes=CLASSES)
    ref = MultiTaskClassifier(**FAST, max_epochs=1).fit(X, Y)
    _same_network(one, ref)
    for p, q in zip(one.predict_proba(X), ref.predict_proba(X), strict=True):
        np.testing.assert_array_equal(p, q)
    mixed = MultiTaskEstimator(**FAST).partial_fit(X, Y_mixed, classes=MIXED_CLASSES)
    _same_network(mixed, MultiTaskEstimator(**FAST, max_epochs=1).fit(X, Y_mixed))
    reg = MultiTaskRegressor(**FAST).partial_fit(X, X[:, :2] * 3)
    _same_network(reg, MultiTaskRegressor(**FAST, max_epochs=1).fit(X, X[:, :2] * 3))


def test_each_call_is_one_epoch_that_continues_the_model(X, Y):
    model = MultiTaskClassifier(**FAST)
    steps = 0
    for i, rows in enumerate(_chunks(len(X), 4)):
        before = None if i == 0 else copy.deepcopy(model.module_.state_dict())
        assert model.partial_fit(X[rows], Y[rows], classes=CLASSES) is model
        steps += -(-len(rows) // FAST["batch_size"])
        assert len(model.history_) == i + 1 and model.n_iter_ == 1
        assert model.best_epoch_ is None
        # the AdamW state continues: its step count is every batch so far
        state = model.optimizer_.state[next(iter(model.module_.parameters()))]
        assert int(state["step"]) == steps
        if before is not None:
            after = model.module_.state_dict()
            assert any(not torch.equal(before[k], after[k]) for k in before)
    assert [r["epoch"] for r in model.history_] == [1, 2, 3, 4]


def test_a_sequence_of_calls_is_reproducible_and_draws_per_call(X, Y):
    def run(seed):
        model = MultiTaskClassifier(**{**FAST, "random_state": seed, "dropout": 0.3})
        for rows in _chunks(len(X), 3):
            model.partial_fit(X[rows], Y[rows], classes=CLASSES)
        model.partial_fit(X[:40], Y[:40])
        return model

    a, b = run(0), run(0)
    _same_network(a, b)
    c = run(1)
    assert not torch.equal(next(iter(a.module_.parameters())), next(iter(c.module_.parameters())))
    # each later call draws from (random_state, epochs so far): other shuffles and masks
    draws = [_partial_fit_rng(0, n).randint(10**9) for n in (0, 1, 2)]
    assert draws[0] == np.random.RandomState(0).randint(10**9)
    assert len(set(draws)) == 3


def test_partial_fit_after_fit_continues_and_fit_after_partial_fit_starts_over(X, Y):
    model = MultiTaskClassifier(**FAST, max_epochs=3).fit(X, Y)
    weights = copy.deepcopy(model.module_.state_dict())
    model.partial_fit(X[:50], Y[:50])  # no classes needed: the model has them
    assert len(model.history_) == 4 and model.n_iter_ == 1
    assert any(not torch.equal(weights[k], v) for k, v in model.module_.state_dict().items())
    model.fit(X, Y)
    assert len(model.history_) == 3
    _same_network(model, MultiTaskClassifier(**FAST, max_epochs=3).fit(X, Y))


def test_no_validation_split_and_no_early_stopping(X, Y):
    model = MultiTaskClassifier(**FAST, early_stopping=True, validation_fraction=0.5)
    model.partial_fit(X, Y, classes=CLASSES)
    record = model.history_[-1]
    assert "valid_score" not in record
    assert record["task_draws"] == {"0": len(X), "1": len(X)}  # every row trained on


def test_sparse_features_and_sample_weight(X, Y):
    model = MultiTaskClassifier(**FAST)
    for rows in _chunks(len(X), 2):
        model.partial_fit(
            sp.csr_matrix(X[rows]), Y[rows], classes=CLASSES, sample_weight=np.ones(len(rows))
        )
    assert len(model.history_) == 2
    assert model.predict(sp.csr_matrix(X)).shape == Y.shape


# ---------------------------------------------------------------- classes


def test_classes_is_required_for_every_classification_task(X, Y, Y_mixed):
    with pytest.raises(ValueError, match=r"task '0' \(binary\) has none"):
        MultiTaskClassifier(**FAST).partial_fit(X, Y)
    with pytest.raises(ValueError, match=r"task 'topics' \(multilabel\) has none"):
        MultiTaskEstimator(**FAST).partial_fit(X, Y_mixed, classes={"sentiment": ["neg", "pos"]})
    # continuous tasks need none
    MultiTaskRegressor(**FAST).partial_fit(X, X[:, :2])
    model = MultiTaskEstimator(**FAST).partial_fit(X, Y_mixed, classes=MIXED_CLASSES)
    assert [t.type for t in model.tasks_.values()] == ["binary", "multilabel", "continuous"]


def test_classes_layouts(X, Y, Y_mixed):
    y = Y[:, 1]
    for classes in ([0, 1, 2], np.array([2, 1, 0]), [np.array([0, 1, 2])], {"0": [0, 1, 2]}):
        model = MultiTaskClassifier(**FAST).partial_fit(X, y, classes=classes)
        np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    series = pd.Series(np.where(y == 0, "a", "b"), name="label")
    model = MultiTaskClassifier(**FAST).partial_fit(X, series, classes=["a", "b", "c"])
    assert model.classes_.tolist() == ["a", "b", "c"]
    frame = pd.DataFrame(Y, columns=["x", "y"])
    by_list = MultiTaskClassifier(**FAST).partial_fit(X, frame, classes=CLASSES)
    by_dict = MultiTaskClassifier(**FAST).partial_fit(
        X, frame, classes={"y": [0, 1, 2], "x": [0, 1]}
    )
    _same_network(by_list, by_dict)
    # a list for a DataFrame with a continuous column: None there
    model = MultiTaskEstimator(**FAST).partial_fit(
        X, Y_mixed, classes=[["neg", "pos"], ["a", "b"], None]
    )
    assert model.tasks_["score"].type == "continuous"


def test_declared_classes_beyond_the_first_chunk(X, Y):
    first = Y[:, 1] < 2  # the first chunk has no row of class 2
    model = MultiTaskClassifier(**FAST).partial_fit(X[first], Y[first], classes=CLASSES)
    assert model.tasks_["1"].type == "multiclass"
    assert model.classes_[1].tolist() == [0, 1, 2]
    assert model.predict_proba(X)[1].shape == (len(X), 3)
    model.partial_fit(X[~first], Y[~first])  # class 2 trains now
    # a float column with NaN (pandas) keeps integer classes
    frame = pd.DataFrame(Y.astype(float), columns=["a", "b"])
    frame.loc[::4, "b"] = np.nan
    model = MultiTaskClassifier(**FAST).partial_fit(X, frame, classes=CLASSES)
    assert model.classes_[1].dtype.kind == "i"
    # string labels beside missing cells
    labels = np.array(["neg", "pos", None, "pos"] * 30, dtype=object)
    model = MultiTaskClassifier(**FAST).partial_fit(X, labels, classes=["neg", "pos", "mixed"])
    assert model.classes_.tolist() == ["mixed", "neg", "pos"]


def test_a_label_outside_the_declared_classes(X, Y, Y_mixed):
    with pytest.raises(ValueError, match=re.escape("Task '1', row 0: label 2 is not one of the")):
        MultiTaskClassifier(**FAST).partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    model = MultiTaskClassifier(**FAST).partial_fit(X, Y, classes=CLASSES)
    before = pickle.dumps(model)
    bad = Y[:20].copy()
    bad[7, 1] = 5
    with pytest.raises(ValueError) as info:
        model.partial_fit(X[:20], bad)
    message = str(info.value)
    assert "Task '1', row 7: label 5" in message and "[0, 1, 2]" in message
    assert "first call to partial_fit" in message
    assert pickle.dumps(model) == before  # the failed call left the model as it was
    mixed = MultiTaskEstimator(**FAST).partial_fit(X, Y_mixed, classes=MIXED_CLASSES)
    bad = Y_mixed[:10].copy()
    bad.at[4, "topics"] = ("a", "z")
    with pytest.raises(ValueError, match=r"Task 'topics', row 4: label 'z'.*\['a', 'b'\]"):
        mixed.partial_fit(X[:10], bad)


def test_missing_labels_are_data(X, Y_mixed):
    chunk = Y_mixed.copy()
    chunk.loc[::3, "sentiment"] = None
    chunk.loc[1::3, "topics"] = np.nan
    chunk.loc[2::3, "score"] = np.nan
    model = MultiTaskEstimator(**FAST).partial_fit(X, chunk, classes=MIXED_CLASSES)
    unlabelled = chunk[:20].copy()
    unlabelled["sentiment"] = None  # a later chunk with no label of a task
    model.partial_fit(X[:20], unlabelled)
    assert model.history_[-1]["task_draws"]["sentiment"] == 0


def test_tasks_the_first_chunk_does_not_show(X, Y_mixed):
    first = Y_mixed[:40].copy()
    first["sentiment"] = None
    first["topics"] = None
    # a classification task without a label in the first chunk: its type from classes
    model = MultiTaskEstimator(**FAST).partial_fit(X[:40], first, classes=MIXED_CLASSES)
    assert model.tasks_["sentiment"].type == "binary"
    assert model.tasks_["topics"].type == "binary"  # looks single-label: set `tasks`
    model = MultiTaskEstimator(**FAST, tasks={"topics": "multilabel"})
    model.partial_fit(X[:40], first, classes=MIXED_CLASSES)
    assert model.tasks_["topics"].type == "multilabel"
    model.partial_fit(X[40:], Y_mixed[40:])
    # a continuous task learns its scale from the first chunk: it must have values there
    first["score"] = np.nan
    with pytest.raises(ValueError, match="Task 'score' has no labelled row in the first chunk"):
        MultiTaskEstimator(**FAST).partial_fit(X[:40], first, classes=MIXED_CLASSES)


def test_classes_errors(X, Y, Y_mixed):
    model = MultiTaskClassifier(**FAST)
    cases = [
        ({"nope": [0, 1]}, r"classes names unknown tasks \['nope'\]"),
        ([[0, 1]], "classes has 1 entries but Y has 2 columns"),
        ([0, 1], "classes for task '0' must be an array-like of labels"),
        ([[0, 1], [0, None, 2]], "classes for task '1' holds a missing value"),
        ([[0, 1], []], "classes for task '1' is empty"),
    ]
    for classes, message in cases:
        with pytest.raises(ValueError, match=message):
            model.partial_fit(X, Y, classes=classes)
        assert not hasattr(model, "module_") and not hasattr(model, "n_features_in_")
    with pytest.raises(ValueError, match="Task 'score' is continuous: it takes no classes"):
        MultiTaskEstimator(**FAST).partial_fit(X, Y_mixed, classes={**MIXED_CLASSES, "score": [1]})
    model.partial_fit(X, Y, classes=CLASSES)
    model.partial_fit(X[:10], Y[:10], classes=[[1, 0], [2, 1, 0]])  # equal sets: fine
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] for task '1' is not the label"):
        model.partial_fit(X[:10], Y[:10], classes=[[0, 1], [0, 1, 2, 3]])


def test_class_weight(X, Y):
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        MultiTaskClassifier(**FAST, class_weight="balanced").partial_fit(X, Y, classes=CLASSES)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        MultiTaskClassifier(**FAST, class_weight={"1": "balanced"}).partial_fit(
            X, Y, classes=CLASSES
        )
    MultiTaskClassifier(**FAST, class_weight={"1": {2: 3.0}}).partial_fit(X, Y, classes=CLASSES)


# ---------------------------------------------------------------- later chunks must match


def test_a_chunk_with_other_features_or_tasks(X, Y):
    model = MultiTaskClassifier(**FAST).partial_fit(X, Y, classes=CLASSES)
    before = pickle.dumps(model)
    with pytest.raises(
        ValueError, match="X has 5 features, but MultiTaskClassifier is expecting 6"
    ):
        model.partial_fit(X[:, :5], Y)
    with pytest.raises(ValueError, match=r"Y has columns \['2'\] that are no task of the model"):
        model.partial_fit(X, np.column_stack([Y, Y[:, 0]]))
    assert pickle.dumps(model) == before
    single = MultiTaskClassifier(**FAST).partial_fit(X, Y[:, 1], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="y must be 1-D, as in the first call"):
        single.partial_fit(X, Y)
    named = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    model = MultiTaskClassifier(**FAST).partial_fit(named, Y, classes=CLASSES)
    with pytest.raises(ValueError, match="The feature names should match"):
        model.partial_fit(named.rename(columns={"f0": "g0"}), Y)


def test_continuous_scaling_is_the_first_chunks(X):
    Y = np.column_stack([X[:, 0] * 100 + 7, X[:, 1]])
    model = MultiTaskRegressor(**FAST).partial_fit(X[:60], Y[:60])
    mean, scale = model.tasks_["0"].mean.copy(), model.tasks_["0"].scale.copy()
    np.testing.assert_allclose(mean, [Y[:60, 0].mean()])
    np.testing.assert_allclose(scale, [Y[:60, 0].std()])
    model.partial_fit(X[60:], Y[60:] * 2)
    np.testing.assert_array_equal(model.tasks_["0"].mean, mean)
    np.testing.assert_array_equal(model.tasks_["0"].scale, scale)


def test_nothing_the_user_passes_is_mutated(X, Y, Y_mixed):
    classes = {"sentiment": np.array(["neg", "pos"], dtype=object), "topics": ["a", "b"]}
    saved = [copy.deepcopy(v) for v in (X, Y_mixed, classes)]
    weights = np.linspace(0.5, 2, len(X))
    saved_w = weights.copy()
    model = MultiTaskEstimator(**FAST)
    model.partial_fit(X, Y_mixed, classes=classes, sample_weight=weights)
    model.partial_fit(X, Y_mixed, classes=classes, sample_weight=weights)
    np.testing.assert_array_equal(X, saved[0])
    pd.testing.assert_frame_equal(Y_mixed, saved[1])
    assert classes.keys() == saved[2].keys()
    for key in classes:
        np.testing.assert_array_equal(classes[key], saved[2][key])
    np.testing.assert_array_equal(weights, saved_w)


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_estimators_partial_fit_n_features,
        estimator_checks.check_n_features_in_after_fitting,
        estimator_checks.check_dataframe_column_names_consistency,
        estimator_checks.check_fit_score_takes_y,
    ],
    ids=lambda c: c.__name__,
)
def test_sklearn_partial_fit_checks_on_the_mixed_estimator(check):
    # scikit-learn's checks pass `classes` to classifiers only; MultiTaskEstimator is
    # none (tests/test_sklearn_compat.py lists these checks as expected failures for
    # it), so here its one task is continuous and needs no classes.
    estimator = MultiTaskEstimator(**FAST, tasks={"0": "continuous"})
    check(type(estimator).__name__, estimator)


# ---------------------------------------------------------------- clone, pickle, save


def test_clone_params_pickle_and_save_then_continue(X, Y, tmp_path):
    spec = MultiTaskClassifier(**FAST)
    params = spec.get_params()
    model = clone(spec).partial_fit(X[:60], Y[:60], classes=CLASSES)
    assert model.get_params() == params
    assert not hasattr(clone(model), "module_")
    pickled = pickle.loads(pickle.dumps(model))
    path = tmp_path / "model.safetensors"
    skmtl.save(model, path)
    loaded = skmtl.load(path)
    for other in (pickled, loaded):
        other.partial_fit(X[60:], Y[60:])
    model.partial_fit(X[60:], Y[60:])
    for other in (pickled, loaded):
        assert len(other.history_) == 2
        for p, q in zip(model.module_.parameters(), other.module_.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=0)


# ---------------------------------------------------------------- raw text and the tagger


TEXTS = ["good movie", "great plot and good acting", "i loved it", "bad movie", "awful"] * 8
LABELS = np.array(["pos", "pos", "pos", "neg", "neg"] * 8, dtype=object)


def _text_model(**kw):
    encoder = TextEncoder(width=16, embed_dim=8, depth=1)
    return MultiTaskClassifier(
        encoder=encoder, hidden_layer_sizes=(), batch_size=8, random_state=0, **kw
    )


def test_text_encoder_partial_fit():
    one = _text_model().partial_fit(TEXTS, LABELS, classes=["neg", "pos"])
    _same_network(one, _text_model(max_epochs=1).fit(TEXTS, LABELS))
    model = _text_model(learning_rate=0.01)
    for _ in range(10):
        for rows in _chunks(len(TEXTS), 4):
            model.partial_fit([TEXTS[i] for i in rows], LABELS[rows], classes=["neg", "pos"])
    # words never seen in training are hashed like any other
    assert model.predict(["a good movie", "zyzzyva qwerty"]).shape == (2,)
    assert model.score(TEXTS, LABELS) > 0.9


SENTENCES = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"], ["We", "see", "Rome"]] * 4
TAGS = pd.DataFrame(
    {
        "pos": [
            ["PRON", "VERB", "PROPN"],
            ["PRON", "VERB", "ADV", "PUNCT"],
            ["VERB"],
            ["PRON", "VERB", "PROPN"],
        ]
        * 4,
        "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]] * 4,
    }
)
TAG_CLASSES = {
    "pos": ["PRON", "VERB", "PROPN", "ADV", "PUNCT", "NOUN"],
    "ner": ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"],
}


def _tagger(**kw):
    encoder = TextEncoder(width=16, embed_dim=8, depth=1)
    return MultiTaskTagger(encoder, batch_size=4, random_state=0, **kw)


def test_tagger_partial_fit():
    one = _tagger(crf="auto").partial_fit(SENTENCES, TAGS, classes=TAG_CLASSES)
    ref = _tagger(crf="auto", max_epochs=1).fit(SENTENCES, TAGS)
    assert one.tasks_["ner"].type == "token_crf"
    assert one.classes_["ner"].tolist() == ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
    assert one.classes_["pos"].tolist() != ref.classes_["pos"].tolist()  # NOUN is declared
    model = _tagger(crf="auto")
    for rows in _chunks(len(SENTENCES), 4):
        model.partial_fit([SENTENCES[i] for i in rows], TAGS.iloc[rows], classes=TAG_CLASSES)
    assert len(model.history_) == 4
    assert [len(t) for t in model.predict([["They", "like", "Oslo"]])["pos"]] == [3]
    bad = TAGS.iloc[:4].copy()
    bad.at[2, "ner"] = ["B-ORG"]
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=r"Task 'ner', row 2: label 'B-ORG' is not one of"):
        model.partial_fit(SENTENCES[:4], bad)
    assert pickle.dumps(model) == before
    with pytest.raises(ValueError, match=r"task 'pos' \(token\) has none"):
        _tagger().partial_fit(SENTENCES, TAGS, classes={"ner": TAG_CLASSES["ner"]})


def test_tagger_one_call_is_fit_with_one_epoch():
    classes = {"pos": sorted(set(sum(TAGS["pos"], []))), "ner": ["O", "B-LOC"]}
    one = _tagger().partial_fit(SENTENCES, TAGS, classes=classes)
    _same_network(one, _tagger(max_epochs=1).fit(SENTENCES, TAGS))


def test_tagger_token_task_without_labels_in_the_first_chunk():
    first = TAGS.iloc[:4].copy()
    first["ner"] = None
    model = _tagger(tasks={"ner": "token"}).partial_fit(SENTENCES[:4], first, classes=TAG_CLASSES)
    assert model.tasks_["ner"].type == "token"
    model.partial_fit(SENTENCES[4:], TAGS.iloc[4:])
    assert model.history_[-1]["task_draws"]["ner"] == len(SENTENCES) - 4


# ---------------------------------------------------------------- dask-ml's Incremental


def _dask():
    """dask, dask.array, dask.dataframe and dask_ml.wrappers (in the dev extra), or a skip.

    Imported per test, so that a missing dask-ml skips these tests only.
    """
    names = ("dask", "dask.array", "dask.dataframe", "dask_ml.wrappers")
    return tuple(pytest.importorskip(name) for name in names)


@pytest.fixture
def tfidf_like():
    """Dense blocks of non-negative, row-normalised features (like TF-IDF rows)."""
    rng = np.random.RandomState(0)
    X = rng.gamma(0.3, size=(400, 30)) * (rng.rand(400, 30) < 0.2)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    Y = np.column_stack([X[:, 0] > X[:, 1], (X[:, 2] > 0).astype(int) + (X[:, 3] > 0)])
    return X.astype(np.float32), Y.astype(int)


def _manual(X, Y, classes, blocks):
    model = MultiTaskClassifier(**FAST)
    for rows in blocks:
        model.partial_fit(X[rows], Y[rows], classes=classes)
    return model


def test_dask_ml_incremental_on_a_dask_array(tfidf_like):
    dask, da, dd, wrappers = _dask()
    X, Y = tfidf_like
    blocks = _chunks(len(X), 4)
    Xd = da.from_array(X, chunks=(100, X.shape[1]))
    with dask.config.set(scheduler="synchronous"):
        inc = wrappers.Incremental(MultiTaskClassifier(**FAST), shuffle_blocks=False)
        inc.fit(Xd, da.from_array(Y[:, 1], chunks=100), classes=[0, 1, 2])
        assert len(inc.estimator_.history_) == 4
        _same_network(inc.estimator_, _manual(X, Y[:, 1], [0, 1, 2], blocks))
        pred = inc.predict(Xd)
        assert isinstance(pred, da.Array)
        np.testing.assert_array_equal(pred.compute(), inc.estimator_.predict(X))


def test_dask_ml_incremental_multi_output_via_a_dask_dataframe(tfidf_like):
    dask, da, dd, wrappers = _dask()
    X, Y = tfidf_like
    Xd = da.from_array(X, chunks=(100, X.shape[1]))
    Yd = da.from_array(Y, chunks=(100, 2))
    classes = {"spam": [False, True], "topic": [0, 1, 2]}
    frame = pd.DataFrame({"spam": Y[:, 0].astype(bool), "topic": Y[:, 1]})
    with dask.config.set(scheduler="synchronous"):
        Ydf = dd.from_dask_array(Yd, columns=["spam", "topic"]).astype({"spam": bool})
        inc = wrappers.Incremental(MultiTaskClassifier(**FAST), shuffle_blocks=False)
        inc.fit(Xd, Ydf, classes=classes)
        model = MultiTaskClassifier(**FAST)
        for rows in _chunks(len(X), 4):
            model.partial_fit(X[rows], frame.iloc[rows], classes=classes)
        _same_network(inc.estimator_, model)
        assert inc.estimator_.classes_[0].tolist() == [False, True]
        # shuffled blocks (dask-ml's default) train too
        inc = wrappers.Incremental(MultiTaskClassifier(**FAST), random_state=0)
        inc.fit(Xd, Ydf, classes=classes)
        assert len(inc.estimator_.history_) == 4
        # a 2-D dask array y is not passed block-wise by dask-ml: a clear error
        with pytest.raises(ValueError, match="key of a dask block"):
            wrappers.Incremental(MultiTaskClassifier(**FAST)).fit(Xd, Yd, classes=classes)


def test_dask_ml_incremental_on_raw_text_blocks():
    dask, da, dd, wrappers = _dask()
    texts = np.array(TEXTS, dtype=object)
    with dask.config.set(scheduler="synchronous"):
        inc = wrappers.Incremental(_text_model(), shuffle_blocks=False)
        inc.fit(
            da.from_array(texts, chunks=10),
            da.from_array(LABELS, chunks=10),
            classes=["neg", "pos"],
        )
    model = _text_model()
    for rows in _chunks(len(texts), 4):
        model.partial_fit(texts[rows], LABELS[rows], classes=["neg", "pos"])
    _same_network(inc.estimator_, model)
