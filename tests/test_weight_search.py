"""TaskWeightSearchCV: GridSearchCV over task weights with one fit per fold."""

from __future__ import annotations

import copy

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskClassifier, MultiTaskRegressor
from skmtl.metrics import make_task_scorer, multitask_scorers
from skmtl.model_selection import MultiTaskStratifiedKFold, TaskWeightSearchCV
from skmtl.weighting import WeightConditioned

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 5, "batch_size": 32, "random_state": 0}


def conditioned(cls=MultiTaskRegressor, **params):
    return cls(**{**FAST, "weighting": WeightConditioned(random_state=0), **params})


@pytest.fixture
def data():
    """Two regression tasks "a" and "b" on different features; "b" misses every 5th label."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    Y = pd.DataFrame(
        {"a": X[:, 0] + 0.5 * X[:, 1], "b": X[:, 2] - X[:, 3] + 0.1 * rng.normal(size=120)}
    )
    Y.loc[::5, "b"] = np.nan
    return X, Y


def assert_same_results(ours: dict, theirs: dict) -> None:
    """Same keys in the same order, same params and scores (times aside)."""
    assert list(ours) == list(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        if key == "params":
            assert got == expected
        elif isinstance(expected, np.ma.MaskedArray):
            assert isinstance(got, np.ma.MaskedArray) and got.dtype == expected.dtype, key
            np.testing.assert_array_equal(got.mask, expected.mask, err_msg=key)
            assert list(got.compressed()) == list(expected.compressed()), key
        elif "time" not in key:
            np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=key)


# ---------------------------------------------------------------- the answer


@pytest.mark.parametrize("task, winner", [("a", 0), ("b", 1)])
def test_picks_the_weighting_grid_search_picks(task, winner):
    # A one-unit bottleneck cannot carry both tasks: the weights must trade them off.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    Y = pd.DataFrame(
        {"a": X[:, 0] + 0.5 * X[:, 1], "b": X[:, 2] - X[:, 3] + 0.1 * rng.normal(size=120)}
    )
    params = {
        "hidden_layer_sizes": (16, 1),
        "activation": "tanh",
        "max_epochs": 40,
        "learning_rate": 0.01,
        "batch_size": 32,
        "random_state": 0,
    }
    grid = {"task_weights": [{"a": 1, "b": 0.01}, {"a": 0.01, "b": 1}]}
    common = {"scoring": make_task_scorer(task, "r2"), "cv": KFold(3, shuffle=True, random_state=0)}
    ours = TaskWeightSearchCV(
        MultiTaskRegressor(**params, weighting=WeightConditioned(random_state=0)),
        grid,
        refit=False,
        **common,
    ).fit(X, Y)
    static = GridSearchCV(MultiTaskRegressor(**params), grid, refit=False, **common).fit(X, Y)
    assert static.best_index_ == winner
    assert ours.best_index_ == winner
    scores = ours.cv_results_["mean_test_score"]
    assert scores[winner] - scores[1 - winner] > 0.2


def test_same_scores_as_grid_search_over_the_same_conditioned_model(data):
    # task_weights do not act in training, so GridSearchCV's refits per candidate
    # are the same fits: every score must agree. The grid mixes keys across its
    # dicts, so a candidate must not inherit the previous candidate's entries.
    X, Y = data
    model = conditioned(task_weights={"a": 1.0, "b": 1.0})
    grid = [{"task_weights__a": [0.1, 5]}, {"task_weights__b": [5]}, {"task_weights": [[1, 2]]}]
    ours = TaskWeightSearchCV(model, grid, cv=3).fit(X, Y)
    theirs = GridSearchCV(model, grid, cv=3).fit(X, Y)
    assert_same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_)
    assert len(set(ours.cv_results_["mean_test_score"])) == 4  # the weights act
    assert model.task_weights == {"a": 1.0, "b": 1.0}


# ---------------------------------------------------------------- one fit per fold


class CountingRegressor(MultiTaskRegressor):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("refit", [True, False])
def test_fits_once_per_fold(data, refit):
    X, Y = data
    CountingRegressor.fits = 0
    grid = {"task_weights__a": [0.1, 0.5, 1, 2, 10]}
    search = TaskWeightSearchCV(conditioned(CountingRegressor), grid, cv=3, refit=refit)
    search.fit(X, Y)
    assert CountingRegressor.fits == 3 + refit
    assert search.n_splits_ == 3
    assert len(search.cv_results_["params"]) == 5
    fit_times = search.cv_results_["mean_fit_time"]
    np.testing.assert_array_equal(fit_times, fit_times[0])  # one fit, shared
    assert np.all(search.cv_results_["mean_score_time"] > 0)
    assert hasattr(search, "best_estimator_") == refit


def test_sample_weight_is_indexed_to_the_train_rows(data):
    X, Y = data
    seen = []

    class Recording(MultiTaskRegressor):
        def fit(self, X, y, sample_weight=None):
            seen.append(None if sample_weight is None else np.asarray(sample_weight).copy())
            return super().fit(X, y, sample_weight=sample_weight)

    weights = np.arange(120, dtype=float) + 1
    cv = KFold(2)
    search = TaskWeightSearchCV(conditioned(Recording), {"task_weights__a": [1, 2]}, cv=cv)
    search.fit(X, Y, sample_weight=weights)
    for (train, _), got in zip(cv.split(X), seen[:2], strict=True):
        np.testing.assert_array_equal(got, weights[train])
    np.testing.assert_array_equal(seen[2], weights)  # the refit


# ---------------------------------------------------------------- cv_results_


def test_cv_results_are_laid_out_as_grid_search(data):
    X, Y = data
    model = conditioned()
    grid = {"task_weights": [[1, 1], [3, 1], [1, 3], [1, 0.1]]}
    for kwargs in ({}, {"return_train_score": True}):
        ours = TaskWeightSearchCV(model, grid, cv=3, **kwargs).fit(X, Y)
        theirs = GridSearchCV(model, grid, cv=3, **kwargs).fit(X, Y)
        assert_same_results(ours.cv_results_, theirs.cv_results_)
    results = ours.cv_results_
    mean = np.mean([results[f"split{i}_test_score"] for i in range(3)], axis=0)
    np.testing.assert_allclose(results["mean_test_score"], mean)
    np.testing.assert_array_equal(results["rank_test_score"], rankdata(-mean, method="min"))
    assert results["rank_test_score"].dtype == np.int32
    assert ours.best_index_ == int(np.argmax(mean))
    assert ours.best_params_ == {"task_weights": grid["task_weights"][ours.best_index_]}
    assert ours.best_score_ == pytest.approx(mean.max())
    assert ours.multimetric_ is False
    assert ours.scorer_(ours.best_estimator_, X, Y) == ours.best_estimator_.score(X, Y)


def test_multimetric_scoring_with_multitask_scorers(data):
    X, Y = data
    model = conditioned()
    grid = {"task_weights__a": [0.1, 1, 10]}
    scoring = multitask_scorers({"a": ["r2", "pearson"], "b": "r2"})
    kwargs = {"scoring": scoring, "refit": "mean", "cv": 3, "return_train_score": True}
    ours = TaskWeightSearchCV(model, grid, **kwargs).fit(X, Y)
    theirs = GridSearchCV(model, grid, **kwargs).fit(X, Y)
    assert_same_results(ours.cv_results_, theirs.cv_results_)
    results = ours.cv_results_
    names = ("a_r2", "a_pearson", "b_r2")
    for name in (*names, "mean"):
        assert np.all(np.isfinite(results[f"mean_test_{name}"]))
    np.testing.assert_allclose(
        results["mean_test_mean"], np.mean([results[f"mean_test_{n}"] for n in names], axis=0)
    )
    assert ours.multimetric_ is True
    assert ours.best_index_ == int(np.argmax(results["mean_test_mean"]))
    assert ours.best_score_ == results["mean_test_mean"][ours.best_index_]
    assert set(ours.scorer_) == {*names, "mean"}
    assert ours.score(X, Y) == pytest.approx(scoring["mean"](ours.best_estimator_, X, Y))


def test_multimetric_list_scoring_and_callable_refit(data):
    X, Y = data
    grid = {"task_weights__b": [0.2, 1, 5]}
    search = TaskWeightSearchCV(
        conditioned(), grid, scoring=["r2", "neg_mean_absolute_error"], refit=False, cv=2
    ).fit(X, Y.fillna(0.0))
    assert {"mean_test_r2", "rank_test_neg_mean_absolute_error"} <= set(search.cv_results_)
    assert not hasattr(search, "best_index_") and not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError, match="no attribute 'predict'") as info:
        search.predict(X)  # as GridSearchCV: available_if, with the reason as the cause
    assert "refit=False" in str(info.value.__cause__)

    def pick_last(results):
        return len(results["params"]) - 1

    search = TaskWeightSearchCV(conditioned(), grid, refit=pick_last, cv=2).fit(X, Y)
    assert search.best_index_ == 2 and search.best_params_ == {"task_weights__b": 5}
    assert not hasattr(search, "best_score_")
    assert search.best_estimator_.task_weights == {"b": 5}


# ---------------------------------------------------------------- inputs


def test_in_a_pipeline(data):
    X, Y = data
    pipe = make_pipeline(StandardScaler(), conditioned())
    grid = {"multitaskregressor__task_weights__a": [0.1, 1, 10]}
    cv = MultiTaskStratifiedKFold(3)
    ours = TaskWeightSearchCV(pipe, grid, cv=cv).fit(X, Y)
    theirs = GridSearchCV(pipe, grid, cv=cv).fit(X, Y)
    assert_same_results(ours.cv_results_, theirs.cv_results_)
    best = ours.best_params_["multitaskregressor__task_weights__a"]
    assert ours.best_estimator_[-1].task_weights == {"a": best}
    assert pipe[-1].task_weights is None
    assert ours.n_features_in_ == 4
    pred = ours.predict(X[:5])
    assert list(pred.columns) == ["a", "b"]
    pd.testing.assert_frame_equal(pred, ours.best_estimator_.predict(X[:5]))


def test_dict_y_with_missing_labels(data):
    X, Y = data
    Y_dict = {"a": Y["a"].to_numpy(), "b": Y["b"].to_numpy()}
    grid = {"task_weights__a": [0.1, 5]}
    by_dict = TaskWeightSearchCV(conditioned(), grid, cv=3).fit(X, Y_dict)
    by_frame = TaskWeightSearchCV(conditioned(), grid, cv=3).fit(X, Y)
    np.testing.assert_allclose(
        by_dict.cv_results_["split2_test_score"], by_frame.cv_results_["split2_test_score"]
    )
    pred = by_dict.predict(X[:3])
    assert isinstance(pred, dict) and list(pred) == ["a", "b"]
    stratified = TaskWeightSearchCV(conditioned(), grid, cv=MultiTaskStratifiedKFold(3))
    stratified.fit(X, Y_dict)
    assert np.all(np.isfinite(stratified.cv_results_["mean_test_score"]))


def test_dict_y_with_a_splitter_that_reads_y(data):
    from sklearn.model_selection import StratifiedKFold

    X, Y = data
    Y_dict = {"a": Y["a"].to_numpy(), "b": Y["b"].to_numpy()}
    search = TaskWeightSearchCV(conditioned(), {"task_weights": [1]}, cv=StratifiedKFold(2))
    with pytest.raises(ValueError, match="MultiTaskStratifiedKFold"):
        search.fit(X, Y_dict)


def test_classifier_with_mixed_labels_and_int_cv():
    # cv=<int> with a classifier: GridSearchCV's type_of_target fails on this Y.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    Y = pd.DataFrame(
        {
            "sentiment": np.where(X[:, 0] > 0, "pos", "neg").astype(object),
            "stars": (X[:, 1] > 0).astype(int) + (X[:, 2] > 0),
        }
    )
    Y.loc[::6, "sentiment"] = None
    search = TaskWeightSearchCV(
        conditioned(MultiTaskClassifier), {"task_weights__stars": [0.2, 1, 5]}, cv=3
    ).fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert is_classifier(search) and not is_regressor(search)
    proba = search.predict_proba(X[:4])
    np.testing.assert_allclose(proba[0], search.best_estimator_.predict_proba(X[:4])[0])
    assert [list(c) for c in search.classes_] == [["neg", "pos"], [0, 1, 2]]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "estimator",
    [
        MultiTaskRegressor(**FAST),
        make_pipeline(StandardScaler(), MultiTaskRegressor(**FAST)),
    ],
)
def test_refuses_a_model_that_is_not_weight_conditioned(data, estimator):
    X, Y = data
    search = TaskWeightSearchCV(estimator, {"task_weights": [1]})
    with pytest.raises(ValueError, match=r"weighting=WeightConditioned\(\).*GridSearchCV"):
        search.fit(X, Y)


def test_refuses_an_estimator_without_task_weights(data):
    X, Y = data
    with pytest.raises(ValueError, match="task_weights parameter"):
        TaskWeightSearchCV(Ridge(), {"alpha": [1]}).fit(X, Y.fillna(0))


@pytest.mark.parametrize(
    "pipeline, key",
    [
        (False, "learning_rate"),
        (False, "weighting__concentration"),
        (False, "task_weights__"),
        (True, "task_weights"),
        (True, "standardscaler__with_mean"),
    ],
)
def test_refuses_a_key_that_is_not_a_task_weight(data, pipeline, key):
    X, Y = data
    model = make_pipeline(StandardScaler(), conditioned()) if pipeline else conditioned()
    search = TaskWeightSearchCV(model, {key: [1]})
    with pytest.raises(ValueError, match=f"param_grid key '{key}'.*GridSearchCV"):
        search.fit(X, Y)


def test_a_candidate_that_cannot_be_set_fails_before_any_fit(data):
    X, Y = data
    CountingRegressor.fits = 0
    grid = {"task_weights": [[2, 1]], "task_weights__b": [3]}  # a list has no entry "b"
    search = TaskWeightSearchCV(conditioned(CountingRegressor), grid)
    with pytest.raises(ValueError, match="candidate .* cannot be set.*dict keyed by task name"):
        search.fit(X, Y)
    assert CountingRegressor.fits == 0


@pytest.mark.parametrize("refit", [True, "nope"])
def test_multimetric_needs_a_refit_metric(data, refit):
    X, Y = data
    scoring = multitask_scorers({"a": "r2", "b": "r2"})
    search = TaskWeightSearchCV(
        conditioned(CountingRegressor), {"task_weights": [1]}, scoring=scoring, refit=refit
    )
    CountingRegressor.fits = 0
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        search.fit(X, Y)
    assert CountingRegressor.fits == 0  # checked before any fit


class FailsOnSmallData(MultiTaskRegressor):
    def fit(self, X, y, sample_weight=None):
        if len(X) < 60:
            raise RuntimeError("too few rows")
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_failing_fold_fit(data):
    X, Y = data
    rows = np.arange(120)
    cv = [(rows[:50], rows[100:]), (rows[:100], rows[100:])]  # the first fit fails
    grid = {"task_weights__a": [0.5, 2]}
    model = conditioned(FailsOnSmallData)
    with pytest.raises(RuntimeError, match="too few rows"):
        TaskWeightSearchCV(model, grid, cv=cv, error_score="raise").fit(X, Y)
    search = TaskWeightSearchCV(model, grid, cv=cv, error_score=-1.0, return_train_score=True)
    with pytest.warns(FitFailedWarning, match="1 fits failed out of a total of 2"):
        search.fit(X, Y)
    results = search.cv_results_
    np.testing.assert_array_equal(results["split0_test_score"], [-1.0, -1.0])
    np.testing.assert_array_equal(results["split0_train_score"], [-1.0, -1.0])
    assert np.all(results["split1_test_score"] > -1.0)
    with pytest.warns(FitFailedWarning), pytest.warns(UserWarning, match="non-finite"):
        search.set_params(error_score=np.nan).fit(X, Y)
    np.testing.assert_array_equal(search.cv_results_["rank_test_score"], [1, 1])


def test_every_fold_fit_failing_raises(data):
    X, Y = data
    search = TaskWeightSearchCV(conditioned(learning_rate=-1.0), {"task_weights": [1, 2]}, cv=2)
    with pytest.raises(ValueError, match="All the 2 fits failed"):
        search.fit(X, Y)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
@pytest.mark.parametrize("multimetric", [False, True])
def test_a_failing_candidate_score(data, multimetric):
    X, Y = data
    # All-zero weights: the model refuses to predict under them.
    grid = {"task_weights": [{"a": 1, "b": 1}, {"a": 0, "b": 0}, {"a": 2, "b": 1}]}
    scoring = multitask_scorers({"a": "r2"}) if multimetric else None
    refit = "mean" if multimetric else True
    name = "mean" if multimetric else "score"
    search = TaskWeightSearchCV(conditioned(), grid, scoring=scoring, refit=refit, cv=2)
    with pytest.warns(UserWarning, match="Scoring failed"):
        search.fit(X, Y)
    results = search.cv_results_
    assert np.isnan(results[f"mean_test_{name}"][1])
    assert np.all(np.isfinite(results[f"mean_test_{name}"][[0, 2]]))
    assert results[f"rank_test_{name}"][1] == 3  # NaN ranks last
    with pytest.raises(ValueError, match="task_weights are 0 for every task"):
        search.set_params(error_score="raise").fit(X, Y)


@pytest.mark.parametrize("error_score", ["ignore", None, True])
def test_refuses_a_bad_error_score(data, error_score):
    X, Y = data
    search = TaskWeightSearchCV(conditioned(), {"task_weights": [1]}, error_score=error_score)
    with pytest.raises(ValueError, match="error_score must be 'raise' or a number"):
        search.fit(X, Y)


# ---------------------------------------------------------------- contract


def test_parallel_folds_and_reproducibility(data):
    X, Y = data
    grid = {"task_weights__a": [0.1, 1, 10]}
    model = conditioned(weighting=WeightConditioned(), random_state=3)
    one = TaskWeightSearchCV(model, grid, cv=2, n_jobs=1).fit(X, Y)
    again = TaskWeightSearchCV(model, grid, cv=2, n_jobs=1).fit(X, Y)
    # Worker processes (pickled folds and results); forked, since loky's fresh workers
    # import torch first (about 10 s on two cores).
    with joblib.parallel_backend("multiprocessing"):
        two = TaskWeightSearchCV(model, grid, cv=2, n_jobs=2).fit(X, Y)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(again.cv_results_[key], one.cv_results_[key])
        np.testing.assert_allclose(two.cv_results_[key], one.cv_results_[key], rtol=1e-6)
    pd.testing.assert_frame_equal(two.predict(X), one.predict(X))


def test_clone_and_no_mutation(data):
    X, Y = data
    Y_dict = {"a": Y["a"].to_numpy(), "b": Y["b"].to_numpy()}
    X_copy, Y_copy, D_copy = X.copy(), Y.copy(), copy.deepcopy(Y_dict)
    weights = {"a": 1.0, "b": 2.0}
    model = conditioned(task_weights=weights)
    grid = {"task_weights": [{"a": 1, "b": 0.5}, {"a": 2}], "task_weights__b": [3]}
    grid_copy = copy.deepcopy(grid)
    search = TaskWeightSearchCV(model, grid, cv=2)
    unfitted = clone(search)
    search.fit(X, Y)
    TaskWeightSearchCV(model, grid, cv=2).fit(X, Y_dict)
    np.testing.assert_array_equal(X, X_copy)
    pd.testing.assert_frame_equal(Y, Y_copy)
    for key in Y_dict:
        np.testing.assert_array_equal(Y_dict[key], D_copy[key])
    assert grid == grid_copy and search.param_grid is grid
    assert search.estimator is model and not hasattr(model, "module_")
    assert model.task_weights is weights and weights == {"a": 1.0, "b": 2.0}
    assert unfitted.get_params(deep=False).keys() == search.get_params(deep=False).keys()
    assert not hasattr(unfitted, "cv_results_")
    refitted = clone(search).fit(X, Y)
    np.testing.assert_array_equal(
        refitted.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert search.set_params(cv=3, estimator__max_epochs=2).cv == 3
    assert model.max_epochs == 2  # set_params reaches the given estimator, as in sklearn


def test_best_estimator_serves_the_best_weights(data):
    X, Y = data
    model = conditioned()
    grid = {"task_weights": [[1, 1], [5, 1], [1, 5]]}
    search = TaskWeightSearchCV(model, grid, cv=2).fit(X, Y)
    best = search.best_estimator_
    assert best.task_weights == search.best_params_["task_weights"]
    assert best.weighting_.conditions_network
    pd.testing.assert_frame_equal(search.predict(X), best.predict(X))
    assert search.score(X, Y) == best.score(X, Y)
    # The same as fitting the estimator on everything and setting the weights after.
    manual = clone(model).fit(X, Y).set_params(**search.best_params_)
    pd.testing.assert_frame_equal(manual.predict(X), best.predict(X))
    assert search.refit_time_ > 0
    assert is_regressor(search)


def test_not_fitted_and_verbose(data, capsys):
    X, Y = data
    search = TaskWeightSearchCV(conditioned(), {"task_weights": [1, 2]}, cv=2, verbose=1)
    assert hasattr(search, "predict")
    with pytest.raises(NotFittedError):
        search.predict(X)
    search.fit(X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Fitting 2 folds")
    assert lines[1].startswith("[CV 1/2] END") and lines[2].startswith("[CV 2/2] END")


def test_inside_grid_search_over_a_training_parameter(data):
    X, Y = data
    inner = TaskWeightSearchCV(conditioned(), {"task_weights__a": [0.5, 2]}, cv=2)
    outer = GridSearchCV(inner, {"estimator__learning_rate": [0.01, 0.001]}, cv=2)
    outer.fit(X, Y)
    assert np.all(np.isfinite(outer.cv_results_["mean_test_score"]))
    best = outer.best_estimator_
    assert best.estimator.learning_rate == outer.best_params_["estimator__learning_rate"]
    assert best.best_estimator_.learning_rate == best.estimator.learning_rate


@pytest.mark.parametrize("kind", ["tagger", "seq2seq", "text"])
def test_one_conditioned_fit_per_fold_for_every_estimator(kind):
    from skmtl import MultiTaskEstimator, MultiTaskSeq2Seq, MultiTaskTagger
    from skmtl.encoders import TextEncoder
    from skmtl.weighting import WeightConditioned

    if kind == "tagger":
        X = [["the", "cat", "sat"], ["a", "dog", "ran", "far"], ["the", "dog"]] * 8
        Y = pd.DataFrame(
            {
                "pos": [["D", "N", "V"], ["D", "N", "V", "A"], ["D", "N"]] * 8,
                "ner": [["O", "B", "O"], ["O", "O", "O", "B"], ["O", "B"]] * 8,
            }
        )
        model = MultiTaskTagger(max_epochs=2)
    elif kind == "seq2seq":
        X = ["ein hund", "eine katze", "der mann", "die frau"] * 20
        Y = pd.DataFrame(
            {
                "en": ["a dog", "a cat", "the man", "the woman"] * 20,
                "fr": ["un chien", "un chat", "l'homme", "la femme"] * 20,
            }
        )
        model = MultiTaskSeq2Seq(
            d_model=16,
            encoder_layers=1,
            decoder_layers=1,
            n_heads=2,
            ff_dim=16,
            vocab_size=300,
            max_length=4,
            max_epochs=2,
        )
    else:
        X = ["good film", "bad movie", "great plot", "awful acting"] * 10
        Y = pd.DataFrame({"s": [1, 0, 1, 0] * 10, "r": np.linspace(0, 1, 40)})
        model = MultiTaskEstimator(encoder=TextEncoder(width=16), max_epochs=2)
    model.set_params(random_state=0, weighting=WeightConditioned(random_state=0))
    names = list(Y.columns)
    grid = {"task_weights": [dict(zip(names, w, strict=True)) for w in ([0.9, 0.1], [0.1, 0.9])]}
    search = TaskWeightSearchCV(model, grid, cv=2).fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    assert search.best_estimator_.task_weights == search.best_params_["task_weights"]
    assert type(search.predict(X[:2])) is type(Y)
