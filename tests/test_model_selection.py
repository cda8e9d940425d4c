"""Per-task parameters in grid searches, pipelines and multi-metric scoring."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskClassifier, MultiTaskRegressor
from skmtl.datasets import load_goemotions
from skmtl.metrics import multitask_scorers
from skmtl.weighting import UncertaintyWeighting


def test_grid_search_over_one_task_weight(X, Y, fast):
    weights = {"0": 1.0, "1": 1.0}
    search = GridSearchCV(
        MultiTaskClassifier(**fast, task_weights=weights),
        {"task_weights__1": [0.1, 1, 10]},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert weights == {"0": 1.0, "1": 1.0}
    tried = [p["task_weights__1"] for p in search.cv_results_["params"]]
    assert tried == [0.1, 1, 10]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_params_["task_weights__1"]
    assert search.best_estimator_.task_weights == {"0": 1.0, "1": best}
    assert search.best_estimator_.history_[-1, "task_weight"] == pytest.approx(
        {"0": 1.0, "1": best}
    )
    assert search.predict(X).shape == Y.shape


def test_grid_search_over_the_weighting_strategy_params(X, Y, fast):
    search = GridSearchCV(
        MultiTaskClassifier(**fast, weighting=UncertaintyWeighting()),
        {"weighting__init_log_var": [-1.0, 1.0], "task_weights__0": [0.5, 2.0]},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.weighting.init_log_var == search.best_params_["weighting__init_log_var"]
    s0 = search.best_params_["weighting__init_log_var"]
    w0 = search.best_params_["task_weights__0"]
    first = best.history_[0, "task_weight"]
    assert first["0"] == pytest.approx(w0 * 0.5 * np.exp(-s0), rel=0.05)
    assert first["1"] == pytest.approx(0.5 * np.exp(-s0), rel=0.05)


def test_cross_val_score_regressor_with_missing_labels(X, fast):
    Y = np.column_stack([X[:, 0] * 2, X[:, 1] - X[:, 2]])
    Y[::4, 1] = np.nan
    scores = cross_val_score(MultiTaskRegressor(**fast), X, Y, cv=KFold(3))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


@pytest.fixture(scope="module")
def goemotions():
    data = load_goemotions()
    return data.text[:300], data.targets.iloc[:300][["ekman", "sentiment"]].reset_index(drop=True)


def test_pipeline_on_raw_text_with_multitask_scorers(goemotions):
    text, Y = goemotions
    pipe = make_pipeline(
        TfidfVectorizer(min_df=2),
        MultiTaskClassifier(
            hidden_layer_sizes=(16,),
            max_epochs=3,
            batch_size=64,
            learning_rate=0.01,
            random_state=0,
        ),
    )
    scoring = multitask_scorers({"ekman": "f1_macro", "sentiment": ["f1_macro", "f1_micro"]})
    search = GridSearchCV(
        pipe,
        {"multitaskclassifier__task_weights__sentiment": [0.1, 1, 10]},
        scoring=scoring,
        refit="mean",
        cv=2,
        error_score="raise",
    ).fit(text, Y)
    results = search.cv_results_
    for key in ("mean_test_ekman_f1_macro", "mean_test_sentiment_f1_micro", "mean_test_mean"):
        assert np.all(np.isfinite(results[key]))
    np.testing.assert_allclose(
        results["mean_test_mean"],
        np.mean(
            [
                results[f"split{k}_test_{name}"]
                for name in ("ekman_f1_macro", "sentiment_f1_macro", "sentiment_f1_micro")
                for k in (0, 1)
            ],
            axis=0,
        ),
    )
    assert search.best_index_ == int(np.argmax(results["mean_test_mean"]))
    assert pipe[-1].task_weights is None  # the search never sets the user's estimator
    best = search.best_estimator_[-1]
    assert best.task_weights == {
        "sentiment": search.best_params_["multitaskclassifier__task_weights__sentiment"]
    }
    pred = search.predict(text[:5])
    assert list(pred.columns) == ["ekman", "sentiment"]
    assert all(isinstance(c, tuple) for c in pred["ekman"])
    assert clone(search.best_estimator_).get_params()["multitaskclassifier__task_weights"] == (
        best.task_weights
    )
