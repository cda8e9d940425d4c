"""Nothing silently wrong: each case of the reliability issue, with a test that failed
before its fix (overflow, silent zeros, merged or invented labels, lost indexes)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor, MultiTaskTagger
from skmtl.encoders import TextEncoder
from skmtl.metrics import multitask_scorers


@pytest.fixture
def tiny():
    return {"hidden_layer_sizes": (4,), "max_epochs": 2, "random_state": 0}


def test_a_regression_target_spread_of_1e200_is_learned_not_inf():
    rng = np.random.RandomState(0)
    X = rng.rand(80, 3)
    y = X[:, 0] * 1e200
    model = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    pred = model.predict(X)
    assert np.all(np.isfinite(pred))
    assert np.corrcoef(pred / 1e200, y / 1e200)[0, 1] > 0.5
    assert np.isfinite(model.score(X, y)) and model.score(X, y) > 0


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("learning_rate", np.inf, "learning_rate must be finite"),
        ("weight_decay", np.nan, "weight_decay"),
        ("task_weights", {"0": 1e39, "1": 1.0}, "overflows float32"),
    ],
)
def test_values_that_overflow_or_are_not_finite_are_refused(X, Y, tiny, param, value, match):
    with pytest.raises(ValueError, match=match):
        MultiTaskClassifier(**tiny, **{param: value}).fit(X, Y)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.full(120, 1e39), "overflow float32"),
        (np.array(["a"] * 120), "sample_weight must be numeric"),
    ],
)
def test_bad_sample_weights_are_refused(X, Y, tiny, weights, match):
    with pytest.raises(ValueError, match=match):
        MultiTaskClassifier(**tiny).fit(X, Y, sample_weight=weights)


def test_all_zero_task_weights_are_refused(X, Y, tiny):
    with pytest.raises(ValueError, match="task_weights are 0 for every task"):
        MultiTaskClassifier(**tiny, task_weights=[0, 0]).fit(X, Y)


def test_batch_normalization_needs_two_rows(X, Y, tiny):
    with pytest.raises(ValueError, match="needs batch_size >= 2"):
        MultiTaskClassifier(**tiny, normalization="batch", batch_size=1).fit(X, Y)
    with pytest.raises(ValueError, match="at least 2 training rows"):
        MultiTaskRegressor(**tiny, normalization="batch").fit(X[:1], [1.0])


def test_tagger_keeps_non_string_column_labels():
    X = [["a", "b"], ["c"]] * 4
    Y = pd.DataFrame({0: [["X", "Y"], ["X"]] * 4, 1: [["O", "O"], ["O"]] * 4})
    model = MultiTaskTagger(TextEncoder(width=8, embed_dim=4, depth=1), max_epochs=1)
    pred = model.fit(X, Y).predict(X)
    assert list(pred.columns) == [0, 1]


def test_predictions_keep_the_index_of_a_dataframe_X(X, tiny):
    index = pd.Index([f"id{i}" for i in range(len(X))], name="doc")
    frame = pd.DataFrame(X, index=index, columns=[f"f{j}" for j in range(X.shape[1])])
    Y = pd.DataFrame({"a": np.where(X[:, 0] > 0, "p", "n"), "b": X[:, 1]}, index=index)
    pred = MultiTaskEstimator(**tiny).fit(frame, Y).predict(frame.iloc[5:9])
    assert list(pred.index) == list(index[5:9])


def test_convergence_warning_when_max_epochs_cut_a_falling_loss(X, Y):
    with pytest.warns(ConvergenceWarning, match="still falling"):
        MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=3, random_state=0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MultiTaskClassifier(
            hidden_layer_sizes=(8,),
            max_epochs=200,
            early_stopping=True,
            n_iter_no_change=2,
            random_state=0,
        ).fit(X, Y)


def _undertrained_multilabel(X, **kw):
    tags = [tuple(t for t, on in zip("xyz", row, strict=True) if on) for row in X[:, :3] > 1.2]
    Y = pd.DataFrame({"tags": tags})
    params = {"hidden_layer_sizes": (4,), "max_epochs": 1, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MultiTaskClassifier(**params, **kw).fit(X, Y), Y


def test_all_empty_multilabel_predictions_warn_and_min_labels_avoids_them(X):
    model, Y = _undertrained_multilabel(X, threshold=0.9)
    with pytest.warns(UserWarning, match="every prediction is the empty label set"):
        pred = model.predict(X)
    assert all(cell == () for cell in pred["tags"])
    model.set_params(min_labels=1)  # a decision rule: needs no refit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = model.predict(X)
    assert all(len(cell) == 1 for cell in pred["tags"])
    proba = model.predict_proba(X)[0]
    best = np.array(model.classes_[0])[proba.argmax(axis=1)]
    assert [cell[0] for cell in pred["tags"]] == best.tolist()
    with pytest.raises(ValueError, match="min_labels for task 'tags' must be an int >= 0"):
        model.set_params(min_labels=-1).predict(X)


def test_score_and_the_scorers_agree_on_a_label_seen_only_at_test_time(X, Y, tiny):
    model = MultiTaskClassifier(**tiny).fit(X[:60], Y[:60])
    Y_test = Y[60:].copy()
    Y_test[0, 1] = 9  # never seen in fit
    scorers = multitask_scorers({"0": "accuracy", "1": "accuracy"})
    with pytest.warns(UserWarning, match="never seen in fit"):
        score = model.score(X[60:], Y_test)
    assert score == pytest.approx(scorers["mean"](model, X[60:], Y_test))


def test_training_that_diverges_raises_and_keeps_the_previous_model(X, tiny):
    y = X[:, 0]
    model = MultiTaskRegressor(**tiny).fit(X, y)
    pred = model.predict(X)
    with pytest.raises(ValueError, match="Training diverged in epoch 1"):
        model.set_params(learning_rate=1e38).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), pred)


def test_integer_labels_with_missing_cells_stay_integers(X, tiny):
    Y = pd.DataFrame({"a": np.where(X[:, 0] > 0, 1, -1).astype(float)})
    Y.loc[::5, "a"] = np.nan  # pandas holds the missing cells as NaN in a float column
    model = MultiTaskClassifier(**tiny).fit(X, Y)
    assert model.classes_[0].dtype.kind == "i"
    assert set(model.predict(X)["a"]) <= {-1, 1}
    assert all(isinstance(v, (int, np.integer)) for v in model.predict(X)["a"])


def test_the_mean_scorer_skips_a_task_without_labels_like_score(X, Y, tiny):
    frame = pd.DataFrame(Y, columns=["a", "b"]).astype(object)
    model = MultiTaskClassifier(**tiny).fit(X, frame)
    test = frame.copy()
    test["b"] = None  # a fold where task b has no label
    scorers = multitask_scorers({"a": "accuracy", "b": "accuracy"})
    assert scorers["mean"](model, X, test) == pytest.approx(model.score(X, test))


def test_tagger_unfitted_and_duplicate_columns_get_clear_errors():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MultiTaskTagger().predict([["a"]])
    Y = pd.DataFrame([[["X"], ["Y"]]], columns=["t", "t"])
    tagger = MultiTaskTagger(TextEncoder(width=8, embed_dim=4, depth=1), max_epochs=1)
    with pytest.raises(ValueError, match="'t' and 't' both give the task name 't'"):
        tagger.fit([["a"]], Y)


def test_string_X_without_an_encoder_names_the_fix():
    with pytest.raises(ValueError, match="encoder=skmtl.encoders.TextEncoder"):
        MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(
            ["a good film", "bad", "fine", "awful"], [1, 0, 1, 0]
        )


def test_a_one_column_block_is_an_indicator_or_values(X, tiny):
    Y = {"a": (X[:, :1] > 0).astype(int), "b": np.where(X[:, 1:2] > 0, 150.0, 50.0)}
    model = MultiTaskEstimator(**tiny).fit(X, Y)
    assert {n: t.type for n, t in model.tasks_.items()} == {"a": "multilabel", "b": "continuous"}
    assert model.predict(X)["a"].shape == (len(X), 1)


def test_bool_task_beside_an_int_task_in_a_2d_Y_stays_bool(X, tiny):
    Y = np.empty((len(X), 2), dtype=object)
    Y[:, 0] = (X[:, 0] > 0).astype(int)
    Y[:, 1] = [bool(v) for v in X[:, 1] > 0]
    pred = MultiTaskClassifier(**tiny).fit(X, Y).predict(X)
    assert all(isinstance(v, (bool, np.bool_)) for v in pred[:, 1])
