"""Targets: Y layouts in and out, task types, and missing labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor

# ---------------------------------------------------------------- layouts


def test_2d_array_in_2d_array_out(X, Y, fast):
    model = MultiTaskClassifier(**fast).fit(X, Y)
    pred = model.predict(X)
    assert isinstance(pred, np.ndarray)
    assert pred.shape == (len(X), 2)
    assert list(model.tasks_) == ["0", "1"]
    assert set(np.unique(pred[:, 1])) <= {0, 1, 2}


def test_1d_in_1d_out(X, Y, fast):
    model = MultiTaskClassifier(**fast).fit(X, Y[:, 1])
    pred = model.predict(X)
    assert pred.shape == (len(X),)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (len(X), 3)


def test_named_series_fit_then_predict_and_score_any_1d_y(X, Y, fast):
    y = pd.Series(np.where(Y[:, 0] == 1, "yes", "no"), name="label")
    model = MultiTaskClassifier(**fast).fit(X, y)
    pred = model.predict(X)
    assert pred.shape == (len(X),)
    assert set(pred) <= {"yes", "no"}
    expected = np.mean(pred == y.to_numpy())
    # The Series name is no task id: any 1-D y scores the one task.
    assert model.score(X, y) == pytest.approx(expected)
    assert model.score(X, y.to_numpy()) == pytest.approx(expected)
    assert model.score(X, y.rename("other")) == pytest.approx(expected)


def test_dataframe_in_dataframe_out_same_columns(X, Y_frame, fast):
    model = MultiTaskEstimator(**fast).fit(X, Y_frame)
    pred = model.predict(X[:7])
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == list(Y_frame.columns)
    assert len(pred) == 7
    assert {n: t.type for n, t in model.tasks_.items()} == {
        "sentiment": "binary",
        "topic": "multiclass",
        "tags": "multilabel",
        "intensity": "continuous",
    }
    assert set(pred["sentiment"]) <= {"pos", "neg"}
    assert set(pred["topic"]) <= {"a", "b", "c"}
    assert all(isinstance(c, tuple) and set(c) <= set("xyz") for c in pred["tags"])
    assert pred["intensity"].dtype.kind == "f"


def test_dict_in_dict_out(X, Y, fast):
    Yd = {"b": Y[:, 0], "m": np.array(["u", "v", "w"])[Y[:, 1]]}
    model = MultiTaskClassifier(**fast).fit(X, Yd)
    pred = model.predict(X)
    assert isinstance(pred, dict)
    assert list(pred) == ["b", "m"]
    assert pred["b"].shape == pred["m"].shape == (len(X),)
    assert set(pred["m"]) <= {"u", "v", "w"}


@pytest.mark.parametrize("container", [tuple, list, set])
def test_multilabel_cells_lists_sets_tuples(X, container, fast):
    cells = [container(t for t, on in zip("abc", r, strict=True) if on) for r in X[:, :3] > 0]
    model = MultiTaskClassifier(**fast).fit(X, pd.DataFrame({"tags": cells}))
    assert model.tasks_["tags"].type == "multilabel"
    np.testing.assert_array_equal(model.tasks_["tags"].classes, ["a", "b", "c"])
    proba = model.predict_proba(X)
    assert isinstance(proba, list) and proba[0].shape == (len(X), 3)
    pred = model.predict(X)["tags"]
    assert all(isinstance(c, tuple) and set(c) <= {"a", "b", "c"} for c in pred)


def test_multilabel_2d_block_in_dict(X, Y, fast):
    block = (X[:, :3] > 0).astype(int)
    model = MultiTaskClassifier(**fast).fit(X, {"blk": block, "b": Y[:, 0]})
    assert model.tasks_["blk"].type == "multilabel"
    pred = model.predict(X)
    assert pred["blk"].shape == (len(X), 3)
    assert set(np.unique(pred["blk"])) <= {0, 1}


def test_continuous_several_columns_grouped_by_tasks(X, fast):
    Y = pd.DataFrame({"V": X[:, 0], "A": 2 * X[:, 1], "D": X[:, 2] + 5, "other": X[:, 3]})
    model = MultiTaskRegressor(
        tasks={"vad": {"type": "continuous", "columns": ["V", "A", "D"]}}, **fast
    ).fit(X, Y)
    assert list(model.tasks_) == ["vad", "other"]
    assert model.tasks_["vad"].n_outputs == 3
    assert model.module_.heads["t0"].layers[-1].out_features == 3
    pred = model.predict(X)
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == ["V", "A", "D", "other"]
    # Standardisation is undone: "D" is centred near 5, the others near 0.
    assert abs(pred["D"].mean() - 5) < 1.5
    assert abs(pred["V"].mean()) < 1.5


def test_continuous_2d_dict_value(X, Y, fast):
    model = MultiTaskEstimator(**fast).fit(X, {"vad": X[:, :3] * 10, "s": Y[:, 0]})
    assert {n: t.type for n, t in model.tasks_.items()} == {"vad": "continuous", "s": "binary"}
    pred = model.predict(X)
    assert pred["vad"].shape == (len(X), 3)
    assert pred["s"].shape == (len(X),)


def test_tasks_overrides_inferred_type(X, Y, fast):
    inferred = MultiTaskEstimator(**fast).fit(X, Y)
    assert inferred.tasks_["1"].type == "multiclass"
    model = MultiTaskEstimator(tasks={"1": "continuous"}, **fast).fit(X, Y)
    assert model.tasks_["1"].type == "continuous"
    assert model.predict(X)[:, 1].dtype.kind == "f"
    assert len(np.unique(model.predict(X)[:, 1])) > 3  # real values, not labels


# ---------------------------------------------------------------- missing labels


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_missing_marker_masks_only_that_task(X, Y, missing, fast):
    Yf = pd.DataFrame({"a": Y[:, 0].astype(object), "b": Y[:, 1].astype(object)})
    Yf.loc[:9, "b"] = missing
    model = MultiTaskClassifier(**fast).fit(X, Yf)
    np.testing.assert_array_equal(model.tasks_["b"].classes, [0, 1, 2])
    assert model.predict(X)["b"].notna().all()


def _full_batch(**kw):
    # One batch per epoch: the row order within it does not change the result.
    base = {
        "hidden_layer_sizes": (8,),
        "max_epochs": 10,
        "batch_size": 10_000,
        "learning_rate": 0.01,
        "random_state": 0,
    }
    return MultiTaskClassifier(**{**base, **kw})


def _proba(model, X):
    return np.column_stack(model.predict_proba(X))


def test_row_labelled_for_one_task_trains_through_that_task_only(X, Y):
    Y = Y.astype(float)
    row, keep = 7, np.arange(len(X)) != 7
    only_a = Y.copy()
    only_a[row, 1] = np.nan
    none = Y.copy()
    none[row, :] = np.nan

    removed = _proba(_full_batch().fit(X[keep], Y[keep]), X)
    # A row without any label is the same as no row.
    np.testing.assert_allclose(_proba(_full_batch().fit(X, none), X), removed, atol=1e-5)
    # A row labelled for task "0" only changes the model ...
    assert np.abs(_proba(_full_batch().fit(X, only_a), X) - removed).max() > 1e-3
    # ... through task "0" only: with that task's weight at 0 it changes nothing.
    np.testing.assert_allclose(
        _proba(_full_batch(task_weights=[0, 1]).fit(X, only_a), X),
        _proba(_full_batch(task_weights=[0, 1]).fit(X[keep], Y[keep]), X),
        atol=1e-5,
    )


def test_batches_without_labels_of_a_task_give_finite_loss(X, Y, fast):
    Y = Y.astype(float)
    Y[6:, 1] = np.nan  # task "1" labelled in 6 rows: most batches of 4 have none
    model = MultiTaskClassifier(**{**fast, "batch_size": 4}).fit(X, Y)
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    for record in model.history_:
        assert all(np.isfinite(v) for v in record["task_loss"].values())
        assert record["task_weight"] == {"0": 1.0, "1": 1.0}


def test_task_labelled_in_five_percent_of_rows_trains():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(float)
    truth = Y[:, 1].copy()
    Y[20:, 1] = np.nan
    model = MultiTaskClassifier(
        hidden_layer_sizes=(8,), max_epochs=20, batch_size=16, learning_rate=0.01, random_state=0
    ).fit(X, Y)
    losses = [r["1"] for r in model.history_[:, "task_loss"]]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(model.predict(X)[:, 1] == truth) > 0.8
