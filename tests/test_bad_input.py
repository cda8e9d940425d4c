"""Bad input gives a clear ValueError; nothing the user passes is mutated."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.metrics import multitask_scorers
from skmtl.weighting import UncertaintyWeighting


@pytest.fixture
def tiny():
    return {"hidden_layer_sizes": (4,), "max_epochs": 1, "random_state": 0}


def test_X_and_Y_of_different_lengths(X, Y, tiny):
    with pytest.raises(ValueError, match=r"X has 100 samples but Y has 120 rows"):
        MultiTaskClassifier(**tiny).fit(X[:100], Y)
    with pytest.raises(ValueError, match=r"different numbers of rows.*'a': 120.*'b': 100"):
        MultiTaskClassifier(**tiny).fit(X, {"a": Y[:, 0], "b": Y[:100, 1]})
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    with pytest.raises(ValueError, match=r"X has 100 samples but Y has 120 rows"):
        model.score(X[:100], Y)


def test_unknown_task_names(X, Y, tiny):
    with pytest.raises(ValueError, match=r"task_weights names unknown tasks \['nope'\].*'0', '1'"):
        MultiTaskClassifier(**tiny, task_weights={"nope": 2.0}).fit(X, Y)
    with pytest.raises(ValueError, match=r"task_weights has 3 entries but there are 2 tasks"):
        MultiTaskClassifier(**tiny, task_weights=[1, 1, 1]).fit(X, Y)
    with pytest.raises(ValueError, match=r"`tasks` names unknown tasks \['nope'\]"):
        MultiTaskClassifier(**tiny, tasks={"nope": "binary"}).fit(X, Y)
    with pytest.raises(ValueError, match=r"`tasks\['vad'\]` names unknown columns \['Q'\]"):
        MultiTaskRegressor(
            **tiny, tasks={"vad": {"type": "continuous", "columns": ["0", "Q"]}}
        ).fit(X, X[:, :2])
    with pytest.raises(ValueError, match=r"type must be one of"):
        MultiTaskClassifier(**tiny, tasks={"0": "ordinal"}).fit(X, Y)
    with pytest.raises(ValueError, match=r"class_weight names unknown tasks \['nope'\]"):
        MultiTaskClassifier(**tiny, class_weight={"nope": "balanced", "0": None}).fit(X, Y)
    with pytest.raises(ValueError, match=r"threshold names unknown tasks \['nope'\]"):
        MultiTaskClassifier(**tiny, threshold={"nope": 0.3}).fit(X, Y)


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_task_column_entirely_missing(X, Y, tiny, missing):
    Yf = pd.DataFrame({"a": Y[:, 0], "empty": pd.Series([missing] * len(X), dtype=object)})
    with pytest.raises(ValueError, match=r"Task 'empty' has no labelled rows"):
        MultiTaskClassifier(**tiny).fit(X, Yf)


def test_classification_task_with_a_single_class(X, Y, tiny):
    Yf = pd.DataFrame({"a": Y[:, 0], "const": ["spam"] * len(X)})
    with pytest.raises(ValueError, match=r"Task 'const' has only one class \('spam'\)"):
        MultiTaskClassifier(**tiny).fit(X, Yf)
    Yc = Y.astype(float)
    Yc[:, 1] = 3
    Yc[:5, 1] = np.nan  # the other labels are missing, not a second class
    with pytest.raises(ValueError, match=r"Task '1' has only one class \(3\)"):
        MultiTaskClassifier(**tiny).fit(X, Yc)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [False, True])
def test_nan_or_inf_in_X(X, Y, tiny, bad, sparse):
    Xb = X.copy()
    Xb[3, 2] = bad
    Xb = sp.csr_matrix(Xb) if sparse else Xb
    word = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=rf"Input X contains {word}"):
        MultiTaskClassifier(**tiny).fit(Xb, Y)
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    with pytest.raises(ValueError, match=rf"Input X contains {word}"):
        model.predict(Xb)


def test_different_number_of_features_at_predict(X, Y, tiny):
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"X has 5 features, but MultiTaskClassifier is expecting 6"
    ):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match=r"X has 5 features.*expecting 6"):
        model.predict_proba(sp.csr_matrix(X[:, :5]))
    with pytest.raises(ValueError, match=r"X has 7 features.*expecting 6"):
        model.score(np.hstack([X, X[:, :1]]), Y)


@pytest.mark.parametrize("weights", [{"1": -1.0}, [1.0, np.nan], {"0": np.inf}, [True, 1.0]])
def test_negative_or_non_finite_task_weights(X, Y, tiny, weights):
    with pytest.raises(ValueError, match=r"task_weights\['[01]'\] must be a finite number >= 0"):
        MultiTaskClassifier(**tiny, task_weights=weights).fit(X, Y)


def test_labels_at_score_time_never_seen_in_fit(X, Y, tiny):
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    Y_new = Y.copy()
    Y_new[4, 1] = 7
    with pytest.warns(UserWarning, match=r"Task '1': labels 7 were never seen in fit.*\[0, 1, 2\]"):
        score = model.score(X, Y_new)
    # the unseen label counts as an error, exactly as in the multi-task scorers
    scorers = multitask_scorers({"0": "accuracy", "1": "accuracy"})
    assert score == pytest.approx(scorers["mean"](model, X, Y_new))
    assert score <= model.score(X, Y)
    tags = [("a",) if v > 0 else ("a", "b") for v in X[:, 0]]
    ml = MultiTaskClassifier(**tiny).fit(X, pd.DataFrame({"tags": tags}))
    tags[9] = ("a", "zzz")
    with pytest.warns(UserWarning, match=r"Task 'tags', row 9: label 'zzz' was never seen in fit"):
        ml.score(X, pd.DataFrame({"tags": tags}))


def test_multilabel_cell_that_is_not_a_list(X, tiny):
    tags = [("a",) if v > 0 else ("a", "b") for v in X[:, 0]]
    bad = list(tags)
    bad[5] = "a"
    with pytest.raises(ValueError, match=r"Task 'tags', row 5: a multilabel cell must be a list"):
        MultiTaskClassifier(**tiny, tasks={"tags": "multilabel"}).fit(
            X, pd.DataFrame({"tags": bad})
        )
    # Mixed cells: inferred multilabel, then the string cell is named.
    with pytest.raises(ValueError, match=r"row 5: a multilabel cell must be a list.*got 'a'"):
        MultiTaskClassifier(**tiny).fit(X, pd.DataFrame({"tags": bad}))
    model = MultiTaskClassifier(**tiny).fit(X, pd.DataFrame({"tags": tags}))
    with pytest.raises(ValueError, match=r"row 5: a multilabel cell must be a list"):
        model.score(X, pd.DataFrame({"tags": bad}))


def test_mismatched_sample_weight_shape(X, Y, tiny):
    n = len(X)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(119,\), expected \(120,\)"):
        MultiTaskClassifier(**tiny).fit(X, Y, sample_weight=np.ones(n - 1))
    with pytest.raises(ValueError, match=r"sample_weight has shape \(120, 3\), expected"):
        MultiTaskClassifier(**tiny).fit(X, Y, sample_weight=np.ones((n, 3)))
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0"):
        MultiTaskClassifier(**tiny).fit(X, Y, sample_weight=-np.ones((n, 2)))
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(119,\), expected"):
        model.score(X, Y, sample_weight=np.ones(n - 1))
    with pytest.raises(ValueError, match=r"sample_weight has shape \(120, 3\), expected"):
        model.score(X, Y, sample_weight=np.ones((n, 3)))
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0"):
        model.score(X, Y, sample_weight=np.full(n, np.nan))


def test_bad_hyper_parameters_are_named(X, Y, tiny):
    cases = [
        ({"hidden_layer_sizes": (4, 0)}, r"hidden_layer_sizes must be positive"),
        ({"activation": "swish"}, r"activation must be one of"),
        ({"normalization": "group"}, r"normalization must be one of"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"batch_size": 0}, r"batch_size must be > 0"),
        ({"device": "tpu"}, r"device must be 'cpu', 'cuda'"),
        ({"weighting": "uncertainty"}, r"weighting must be None or a skmtl.weighting strategy"),
        ({"threshold": 1.5}, r"threshold for task .* in \[0, 1\]"),
    ]
    tags = pd.DataFrame({"tags": [("a",) if v > 0 else ("a", "b") for v in X[:, 0]]})
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            MultiTaskClassifier(**{**tiny, **params}).fit(X, tags)


def test_classifier_rejects_continuous_and_regressor_rejects_strings(X, tiny):
    with pytest.raises(ValueError, match=r"task '0' looks continuous.*MultiTaskEstimator"):
        MultiTaskClassifier(**tiny).fit(X, X[:, :2])
    with pytest.raises(ValueError, match=r"task '0' has non-numeric values"):
        MultiTaskRegressor(**tiny).fit(X, np.array(["a", "b"] * 60))


# ---------------------------------------------------------------- no mutation


def _inputs(X):
    Y = pd.DataFrame(
        {
            "s": np.where(X[:, 0] > 0, "p", "n").astype(object),
            "b": (X[:, 1] > 0).astype(float),
            "t": [("x",) if v > 0 else ["x", "y"] for v in X[:, 2]],
            "c": X[:, 3] * 3.0,
        }
    )
    Y.loc[3, "s"] = None
    Y.loc[5, "b"] = np.nan
    Y.loc[7, "t"] = np.nan
    Y.loc[2, "c"] = np.nan
    return Y


@pytest.mark.parametrize("layout", ["frame", "dict", "array"])
def test_nothing_the_user_passes_is_mutated(X, layout, assert_same):
    Yf = _inputs(X)
    if layout == "frame":
        Y = Yf
    elif layout == "dict":
        Y = {k: Yf[k].to_numpy(copy=True) for k in Yf}
    else:
        Y = Yf[["c", "b"]].to_numpy(copy=True)
    n_tasks = 2 if layout == "array" else 4
    Xc = X.copy()
    sw = np.linspace(0.5, 1.5, len(X) * n_tasks).reshape(len(X), n_tasks)
    sw1 = np.linspace(0.5, 1.5, len(X))
    names = ["0", "1"] if layout == "array" else ["s", "b"]
    task_weights = {names[0]: 1.0, names[1]: 2.0}
    tasks = {names[1]: "binary"}
    weighting = UncertaintyWeighting(init_log_var=0.5)
    threshold = {"t": np.array([0.4, 0.6])} if layout != "array" else 0.5
    class_weight = {names[1]: {0.0: 2.0}}
    model = MultiTaskEstimator(
        hidden_layer_sizes=(4,),
        max_epochs=2,
        random_state=0,
        tasks=tasks,
        task_weights=task_weights,
        weighting=weighting,
        threshold=threshold,
        class_weight=class_weight,
    )
    inputs = [Xc, Y, sw, sw1, task_weights, tasks, weighting, threshold, class_weight]
    before = copy.deepcopy(inputs)
    params = copy.deepcopy(model.get_params(deep=True))
    model.fit(Xc, Y, sample_weight=sw)
    model.predict(Xc)
    model.score(Xc, Y)
    model.score(Xc, Y, sample_weight=sw1)
    model.set_params(task_weights__c=0.3)
    assert_same(inputs, before, "inputs")
    assert not hasattr(weighting, "task_names_")
    model.set_params(task_weights=params["task_weights"])
    assert_same(model.get_params(deep=True), params, "params")


def test_sparse_X_is_not_mutated(X, Y):
    Xs = sp.coo_matrix(X)
    before = copy.deepcopy(Xs)
    model = MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(Xs, Y)
    model.predict(Xs)
    assert Xs.format == "coo"
    np.testing.assert_array_equal(Xs.row, before.row)
    np.testing.assert_array_equal(Xs.col, before.col)
    np.testing.assert_array_equal(Xs.data, before.data)
