"""Auxiliary-task selection: rank_auxiliary_tasks and AuxiliaryTaskSelector.

The main setup (:func:`task_pool`): a target with few labels (40 of 600 rows)
and a pool of three candidates labelled on every row,

* ``helpful``: a finer version of the target's latent feature (the target
  is its sign; the task is its quartile-like bin);
* ``unrelated``: the sign of a projection of other input features;
* ``random``: random labels drawn from 600 classes, a noise task that a
  shared layer of 32 units tries to memorise (trained along, it costs the
  target about 4 points of accuracy, up to 8; see below).

Measured over 16 data seeds (0-15) while writing these tests, with
``n_steps=100``: both measures rank ``helpful`` first (and above 0) on all
16; the affinity puts ``random`` last on 15 and the cosine on 14, and on the
mean of each of the triples of seeds 0-2, 3-5, ..., 12-14 both put it last,
below 0; the selector (affinity) left ``random`` out on 15 (on the 16th it
kept every task, a tie with the fit on every task), beat the fit on the
target with every candidate on those 15 (by 0.039 accuracy on average over
the 16, up to 0.084) and the target alone by more than 0.05 on 15; the
selector (cosine) left ``random`` out on 15. The tests use seeds 0-2 and
assert per seed what held on 15 or 16 of the 16, and on the mean over the
three seeds what held on every triple.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils import get_tags

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.diagnostics import AuxiliaryTaskSelector, _selection, rank_auxiliary_tasks
from skmtl.metrics import task_score

SEEDS = (0, 1, 2)
N_STEPS = 100
CANDIDATES = ["helpful", "unrelated", "random"]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def task_pool(seed, *, kind="classification", n=600, n_test=1000, n_labels=40, d=20):
    """``(X, Y, X_test, Y_test)``: the target has ``n_labels`` labels in Y, all in Y_test."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n + n_test, d))
    z = X[:, :4] @ rng.normal(size=(4, 2))
    z /= z.std(axis=0)
    s = z[:, 0] + 0.5 * z[:, 1]  # the target's latent feature
    u = X[:, 10:14] @ rng.normal(size=4)  # other features
    labelled = np.zeros(n + n_test, dtype=bool)
    labelled[rng.choice(n, n_labels, replace=False)] = True
    labelled[n:] = True
    if kind == "classification":
        target = np.where(labelled, np.where(s > 0, "pos", "neg"), None).astype(object)
        helpful = np.digitize(s / s.std(), [-1, 0, 1]).astype(str)
    else:
        target = np.where(labelled, s, np.nan)
        helpful = s + 0.2 * rng.normal(size=n + n_test)
    Y = pd.DataFrame(
        {
            "target": target,
            "helpful": helpful,
            "unrelated": np.where(u > 0, "u1", "u0"),
            "random": rng.randint(600, size=n + n_test).astype(str),
        }
    )
    return X[:n], Y.iloc[:n].reset_index(drop=True), X[n:], Y.iloc[n:].reset_index(drop=True)


def mlp(**kw):
    params = dict(
        hidden_layer_sizes=(32,), learning_rate=0.01, batch_size=64, max_epochs=30, random_state=0
    )
    params.update(kw)
    return MultiTaskEstimator(**params)


def target_score(model, X, Y):
    task = model.tasks_["target"]
    pred = model.predict(X)["target"]
    return task_score(Y["target"], pred, task.default_metric, task_type=task.type)


@pytest.fixture(scope="module")
def pools():
    return {seed: task_pool(seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def rankings(pools):
    """One ranking run per seed (it measures both the affinity and the cosine)."""
    return {
        seed: rank_auxiliary_tasks(mlp(), X, Y, "target", n_steps=N_STEPS, random_state=seed)
        for seed, (X, Y, _, _) in pools.items()
    }


def small(n=120, seed=0):
    """Fast data for the API tests: a target with 30 labels and two candidates."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    s = X[:, 0] - X[:, 1]
    Y = pd.DataFrame(
        {
            "target": np.where(np.arange(n) < 30, np.where(s > 0, "pos", "neg"), None),
            "helpful": np.digitize(s, [-1, 0, 1]),
            "noise": rng.randint(50, size=n),
        }
    )
    return X, Y


def fast_clf(**kw):
    params = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0)
    params.update(kw)
    return MultiTaskClassifier(**params)


# ---------------------------------------------------------------- the ranking


@pytest.mark.parametrize("measure", ["affinity", "cosine"])
def test_ranking_puts_helpful_first_and_random_last(rankings, measure):
    table = pd.DataFrame({seed: r[measure] for seed, r in rankings.items()}).T
    assert list(table.columns.sort_values()) == sorted(CANDIDATES)
    for seed, row in table.iterrows():
        assert row.idxmax() == "helpful", (seed, row.to_dict())
        assert row["helpful"] > 0, (seed, row.to_dict())
    mean = table.mean()
    assert mean["helpful"] > mean["unrelated"] > mean["random"], mean.to_dict()
    assert mean["random"] < 0, mean.to_dict()
    # a margin: the helpful task stands out from the other two
    assert mean["helpful"] - mean["unrelated"] > 2 * abs(mean["unrelated"] - mean["random"])


def test_ranking_table(rankings):
    r = rankings[0]
    assert list(r.columns) == ["score", "affinity", "cosine", "n_batches", "rank"]
    assert r.index.name == "task"
    assert sorted(r.index) == sorted(CANDIDATES)
    assert r["rank"].tolist() == [1, 2, 3]
    assert r["score"].is_monotonic_decreasing
    np.testing.assert_array_equal(r["score"], r["affinity"])  # the default method
    assert (r["n_batches"] == N_STEPS).all()
    assert r.attrs == {"target": "target", "method": "affinity"}


def test_method_cosine_ranks_by_the_cosine():
    X, Y = small()
    a = rank_auxiliary_tasks(fast_clf(), X, Y, "target", n_steps=6, random_state=0)
    c = rank_auxiliary_tasks(fast_clf(), X, Y, "target", method="cosine", n_steps=6, random_state=0)
    np.testing.assert_array_equal(c["score"], c["cosine"])
    assert c["score"].is_monotonic_decreasing
    assert c.attrs["method"] == "cosine"
    # the same run (same random_state) measures the same values
    pd.testing.assert_frame_equal(
        a.sort_index()[["affinity", "cosine"]], c.sort_index()[["affinity", "cosine"]]
    )


def test_candidates_restrict_the_ranking_and_the_training():
    X, Y = small()
    Y["other"] = np.where(X[:, 3] > 0, "a", "b")
    r = rank_auxiliary_tasks(
        fast_clf(task_weights={"noise": 2.0, "other": 3.0}),  # restricted to the kept tasks
        X,
        Y,
        "target",
        candidates=["noise", "helpful"],
        n_steps=4,
        random_state=0,
    )
    assert sorted(r.index) == ["helpful", "noise"]


def test_array_y_names_tasks_by_position():
    X, Y = small()
    arr = Y.to_numpy()
    r = rank_auxiliary_tasks(fast_clf(), X, arr, 0, n_steps=4, random_state=0)
    assert sorted(r.index) == ["1", "2"]
    r2 = rank_auxiliary_tasks(fast_clf(), X, arr, "0", candidates=[2], n_steps=4, random_state=0)
    assert r2.index.tolist() == ["2"]


def test_ranking_is_reproducible_and_leaves_inputs_and_estimator_alone():
    X, Y = small()
    est = fast_clf(task_weights={"noise": 2.0})
    X0, Y0, params0 = X.copy(), Y.copy(deep=True), copy.deepcopy(est.get_params())
    a = rank_auxiliary_tasks(est, X, Y, "target", n_steps=4, random_state=3)
    b = rank_auxiliary_tasks(est, X, Y, "target", n_steps=4, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(X, X0)
    pd.testing.assert_frame_equal(Y, Y0)
    assert [type(v) for v in Y.iloc[:, 0]] == [type(v) for v in Y0.iloc[:, 0]]
    assert est.get_params() == params0
    assert not hasattr(est, "module_")


def test_a_fitted_estimator_is_not_modified():
    X, Y = small()
    est = fast_clf().fit(X, Y)
    state = {k: v.clone() for k, v in est.module_.state_dict().items()}
    history = copy.deepcopy(list(est.history_))
    rank_auxiliary_tasks(est, X, Y, "target", n_steps=4, random_state=0)
    for k, v in est.module_.state_dict().items():
        assert np.array_equal(v.numpy(), state[k].numpy()), k
    assert list(est.history_) == history


def test_dict_y_is_not_mutated():
    X, Y = small()
    y = {c: Y[c].to_numpy().copy() for c in Y.columns}
    y0 = copy.deepcopy(y)
    rank_auxiliary_tasks(fast_clf(), X, y, "target", n_steps=4, random_state=0)
    AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0).fit(X, y)
    assert list(y) == list(y0)
    for k in y:
        assert y[k].dtype == y0[k].dtype
        assert [repr(v) for v in y[k]] == [repr(v) for v in y0[k]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "nope"}, "Unknown target task 'nope'"),
        ({"target": ["target"]}, "target must be the name of one task"),
        ({"target": "target", "candidates": ["target", "noise"]}, "is among the candidates"),
        ({"target": "target", "candidates": []}, "No candidate auxiliary task"),
        ({"target": "target", "candidates": "noise"}, "list of task names"),
        ({"target": "target", "candidates": ["noise", "bad"]}, r"unknown tasks \['bad'\]"),
        ({"target": "target", "candidates": ["noise", "noise"]}, "more than once"),
        ({"target": "target", "method": "lookahead"}, "method must be one of"),
        ({"target": "target", "n_steps": 0}, "n_steps must be a positive integer"),
        ({"target": "target", "n_steps": 2.5}, "n_steps must be a positive integer"),
        ({"target": "target", "lookahead_lr": -1.0}, "lookahead_lr must be None or a number"),
        ({"target": "target", "lookahead_lr": float("nan")}, "lookahead_lr must be None"),
    ],
)
def test_rank_bad_input(kwargs, match):
    X, Y = small()
    with pytest.raises(ValueError, match=match):
        rank_auxiliary_tasks(fast_clf(), X, Y, **kwargs)


def test_rank_bad_y_and_estimator():
    X, Y = small()
    with pytest.raises(ValueError, match="y holds a single task"):
        rank_auxiliary_tasks(fast_clf(), X, Y["target"], "target")
    only_target = Y[["target"]]
    with pytest.raises(ValueError, match="No candidate auxiliary task"):
        rank_auxiliary_tasks(fast_clf(), X, only_target, "target")
    few = Y.copy()
    few.loc[1:, "target"] = None
    with pytest.raises(ValueError, match="has 1 labelled row"):
        rank_auxiliary_tasks(fast_clf(), X, few, "target")
    with pytest.raises(TypeError, match="skmtl multi-task estimator"):
        rank_auxiliary_tasks(LogisticRegression(), X, Y, "target")
    with pytest.raises(TypeError, match="skmtl multi-task estimator"):
        rank_auxiliary_tasks(MultiTaskClassifier, X, Y, "target")


def test_regression_target_ranks_the_helpful_task_first():
    X, Y, Xt, Yt = task_pool(0, kind="regression")
    model = mlp()
    r = rank_auxiliary_tasks(model, X, Y, "target", random_state=0)
    assert r.index[0] == "helpful"
    assert r["cosine"].idxmax() == "helpful"
    selector = AuxiliaryTaskSelector(model, "target", random_state=0).fit(X, Y)
    assert "helpful" in selector.selected_tasks_
    assert "random" not in selector.selected_tasks_
    score = selector.score(Xt, Yt)
    assert score == pytest.approx(
        task_score(Yt["target"], selector.predict(Xt)["target"], "r2", task_type="continuous")
    )
    assert score > 0.5


# ---------------------------------------------------------------- the selector


@pytest.fixture(scope="module")
def selections(pools):
    """Per seed: the selector (affinity) and the fits on the target + every candidate / alone."""
    out = {}
    for seed, (X, Y, Xt, Yt) in pools.items():
        selector = AuxiliaryTaskSelector(mlp(), "target", n_steps=N_STEPS, random_state=seed)
        selector.fit(X, Y)
        everything = mlp().fit(X, Y)
        alone = mlp().fit(X, Y[["target"]])
        out[seed] = {
            "selector": selector,
            "selector_score": selector.score(Xt, Yt),
            "all_score": target_score(everything, Xt, Yt),
            "alone_score": target_score(alone, Xt, Yt),
        }
    return out


def test_selector_leaves_the_random_task_out(selections):
    for seed, s in selections.items():
        selected = s["selector"].selected_tasks_
        assert "random" not in selected, (seed, s["selector"].ranking_)
        assert selected[0] == "helpful", (seed, s["selector"].ranking_)


def test_selector_beats_the_target_with_every_candidate(selections):
    gains = []
    for seed, s in selections.items():
        assert s["selector_score"] > s["all_score"], (seed, s)
        assert s["selector_score"] > s["alone_score"] + 0.05, (seed, s)
        gains.append(s["selector_score"] - s["all_score"])
    assert np.mean(gains) > 0.015, gains


def test_cosine_selector_leaves_the_random_task_out(pools):
    for seed, (X, Y, _, _) in pools.items():
        selector = AuxiliaryTaskSelector(
            mlp(), "target", method="cosine", n_steps=N_STEPS, random_state=seed
        )
        selector.fit(X, Y)
        assert selector.selected_tasks_[0] == "helpful", seed
        assert "random" not in selector.selected_tasks_, (seed, selector.ranking_)
        assert selector.ranking_.attrs["method"] == "cosine"


def test_selector_attributes(selections, rankings):
    selector = selections[0]["selector"]
    r = selector.ranking_
    # the ranking of rank_auxiliary_tasks with the same settings (one run, reproducible)
    pd.testing.assert_frame_equal(r.drop(columns="selected"), rankings[0])
    assert list(r.columns) == ["score", "affinity", "cosine", "n_batches", "rank", "selected"]
    assert r.index[r["selected"]].tolist() == selector.selected_tasks_
    assert (r.loc[r["selected"], "score"] > 0).all()
    assert (r.loc[~r["selected"], "score"] <= 0).all()
    assert selector.target_ == "target"
    assert list(selector.estimator_.tasks_) == [
        "target",
        *[t for t in CANDIDATES if t in selector.selected_tasks_],
    ]
    assert selector.n_features_in_ == 20
    assert selector.estimator.get_params()["random_state"] == 0
    assert not hasattr(selector.estimator, "module_")


def test_max_tasks_and_min_score():
    X, Y = small()
    base = dict(n_steps=4, random_state=0)
    none = AuxiliaryTaskSelector(fast_clf(), "target", max_tasks=0, **base).fit(X, Y)
    assert none.selected_tasks_ == []
    assert list(none.predict(X[:3]).columns) == ["target"]
    every = AuxiliaryTaskSelector(fast_clf(), "target", min_score=-np.inf, **base).fit(X, Y)
    assert every.selected_tasks_ == every.ranking_.index.tolist()
    assert list(every.estimator_.tasks_) == ["target", "helpful", "noise"]
    one = AuxiliaryTaskSelector(fast_clf(), "target", min_score=-np.inf, max_tasks=1, **base)
    one.fit(X, Y)
    assert one.selected_tasks_ == every.ranking_.index[:1].tolist()
    high = AuxiliaryTaskSelector(fast_clf(), "target", min_score=1.0, **base).fit(X, Y)
    assert high.selected_tasks_ == []


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_tasks": -1}, "max_tasks must be None or an int"),
        ({"max_tasks": 1.5}, "max_tasks must be None or an int"),
        ({"max_tasks": True}, "max_tasks must be None or an int"),
        ({"min_score": float("nan")}, "min_score must be a number"),
        ({"min_score": "0"}, "min_score must be a number"),
        ({"method": "gradnorm"}, "method must be one of"),
        ({"target": "nope"}, "Unknown target task"),
        ({"candidates": ["target"]}, "is among the candidates"),
        ({"n_steps": -3}, "n_steps must be a positive integer"),
    ],
)
def test_selector_bad_params(params, match):
    X, Y = small()
    kw = {"target": "target", **params}
    selector = AuxiliaryTaskSelector(fast_clf(), **kw)
    with pytest.raises(ValueError, match=match):
        selector.fit(X, Y)


def test_selector_needs_named_tasks():
    X, Y = small()
    with pytest.raises(ValueError, match="needs a y that names its tasks"):
        AuxiliaryTaskSelector(fast_clf(), 0).fit(X, Y.to_numpy())


def test_selector_is_not_fitted_before_fit():
    from sklearn.exceptions import NotFittedError

    X, _ = small()
    selector = AuxiliaryTaskSelector(fast_clf(), "target")
    with pytest.raises(NotFittedError):
        selector.predict(X)
    with pytest.raises(NotFittedError):
        selector.score(X, pd.DataFrame({"target": ["pos"] * len(X)}))


def test_init_stores_parameters_only_and_clone_round_trip():
    est = fast_clf()
    selector = AuxiliaryTaskSelector(
        est, "target", candidates=["a", "b"], method="cosine", max_tasks=1, min_score=-0.5
    )
    assert selector.estimator is est
    assert selector.candidates == ["a", "b"]
    assert not [k for k in vars(selector) if k.endswith("_")]
    twin = clone(selector)
    assert twin.get_params(deep=False).keys() == selector.get_params(deep=False).keys()
    for k, v in selector.get_params(deep=False).items():
        if k == "estimator":
            assert twin.estimator is not est
            assert twin.estimator.get_params() == est.get_params()
        else:
            assert twin.get_params()[k] == v
    deep = selector.get_params(deep=True)
    assert deep["estimator__learning_rate"] == est.learning_rate
    selector.set_params(estimator__learning_rate=0.05, max_tasks=2)
    assert selector.estimator.learning_rate == 0.05
    assert selector.max_tasks == 2
    assert "AuxiliaryTaskSelector" in repr(selector)


def test_clone_of_a_fitted_selector_is_unfitted():
    X, Y = small()
    selector = AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0).fit(X, Y)
    twin = clone(selector)
    assert not hasattr(twin, "estimator_")
    assert not hasattr(twin, "ranking_")


def test_grid_search_over_max_tasks_and_learning_rate():
    X, Y = small(n=160)
    selector = AuxiliaryTaskSelector(fast_clf(max_epochs=4), "target", n_steps=4, random_state=0)
    search = GridSearchCV(
        selector,
        {"max_tasks": [0, 1], "estimator__learning_rate": [1e-3, 1e-2]},
        cv=KFold(2, shuffle=True, random_state=0),
    )
    search.fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()
    assert set(search.best_params_) == {"max_tasks", "estimator__learning_rate"}
    best = search.best_estimator_
    assert best.estimator_.learning_rate == search.best_params_["estimator__learning_rate"]
    assert len(best.selected_tasks_) <= search.best_params_["max_tasks"]
    # the score is the target's alone, on its labelled rows
    assert best.score(X, Y) == pytest.approx(best.score(X, Y[["target"]]))


def test_cross_validate_scores_the_target():
    X, Y = small(n=160)
    selector = AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0)
    result = cross_validate(selector, X, Y, cv=KFold(2, shuffle=True, random_state=1))
    assert np.isfinite(result["test_score"]).all()
    assert ((0 <= result["test_score"]) & (result["test_score"] <= 1)).all()


def test_score_is_the_targets_default_metric_on_its_labelled_rows():
    X, Y = small()
    selector = AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0).fit(X, Y)
    pred = selector.predict(X)
    labelled = Y["target"].notna().to_numpy()
    expected = float(np.mean(pred["target"][labelled] == Y["target"][labelled]))
    assert selector.score(X, Y) == pytest.approx(expected)
    weights = np.linspace(1, 2, len(X))
    assert selector.score(X, Y, sample_weight=weights) == pytest.approx(
        task_score(Y["target"], pred["target"], "accuracy", sample_weight=weights)
    )
    as_dict = {c: Y[c].to_numpy() for c in Y.columns}
    assert selector.score(X, as_dict) == pytest.approx(expected)
    empty = Y.copy()
    empty["target"] = None
    with pytest.raises(ValueError, match="no labelled row of the target task"):
        selector.score(X, empty)
    with pytest.raises(ValueError, match="lacks the column"):
        selector.score(X, Y[["helpful"]])
    with pytest.raises(ValueError, match="rows"):
        selector.score(X[:10], Y)


def test_predict_proba_and_tags():
    X, Y = small()
    clf = AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0, max_tasks=1)
    clf.fit(X, Y)
    proba = clf.predict_proba(X[:5])
    assert len(proba) == 1 + len(clf.selected_tasks_)
    assert proba[0].shape == (5, 2)
    np.testing.assert_allclose(proba[0].sum(axis=1), 1.0, rtol=1e-5)
    tags = get_tags(clf)
    assert tags.estimator_type == "classifier"
    assert tags.input_tags.sparse
    assert tags.target_tags.required and tags.target_tags.multi_output
    assert not tags.target_tags.single_output

    Yr = pd.DataFrame(
        {"target": np.where(np.arange(len(X)) < 30, X[:, 0], np.nan), "aux": X[:, 0] + X[:, 1]}
    )
    reg = AuxiliaryTaskSelector(
        MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3),
        "target",
        n_steps=4,
        random_state=0,
    ).fit(X, Yr)
    assert not hasattr(reg, "predict_proba")
    assert get_tags(reg).estimator_type == "regressor"


def test_failed_refit_keeps_the_fitted_state(monkeypatch):
    X, Y = small()
    selector = AuxiliaryTaskSelector(fast_clf(), "target", n_steps=4, random_state=0).fit(X, Y)
    before = dict(vars(selector))
    ranking = selector.ranking_.copy()
    pred = selector.predict(X)

    # fails while validating ...
    with pytest.raises(ValueError, match="Unknown target task"):
        selector.set_params(target="nope").fit(X, Y)
    selector.set_params(target="target")
    # ... while ranking ...
    with pytest.raises(ValueError, match="has 0 labelled row"):
        selector.fit(X, Y.assign(target=None))
    # ... and in the final fit, after the ranking
    calls = {"n": 0}
    real = _selection._select_tasks

    def fail_the_second_time(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("final fit failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(_selection, "_select_tasks", fail_the_second_time)
    with pytest.raises(RuntimeError, match="final fit failed"):
        selector.fit(X, Y)
    assert calls["n"] == 2
    after = {k: v for k, v in vars(selector).items()}
    assert after.keys() == before.keys()
    for k, v in before.items():
        assert after[k] is v, k
    pd.testing.assert_frame_equal(selector.ranking_, ranking)
    pd.testing.assert_frame_equal(selector.predict(X), pred)


def test_selector_restricts_per_task_parameters():
    X, Y = small()
    est = fast_clf(
        task_weights={"target": 2.0, "noise": 1.0, "helpful": 1.0},
        class_weight={"noise": "balanced"},
    )
    selector = AuxiliaryTaskSelector(
        est, "target", candidates=["helpful"], min_score=-np.inf, n_steps=4, random_state=0
    ).fit(X, Y)
    assert list(selector.estimator_.tasks_) == ["target", "helpful"]
    assert dict(selector.estimator_.task_weights) == {"target": 2.0, "helpful": 1.0}
    assert est.task_weights == {"target": 2.0, "noise": 1.0, "helpful": 1.0}  # untouched
    seq = fast_clf(task_weights=[2.0, 1.0, 0.5])
    selector = AuxiliaryTaskSelector(
        seq, "target", candidates=["noise"], min_score=-np.inf, n_steps=4, random_state=0
    ).fit(X, Y)
    assert list(selector.estimator_.task_weights) == [2.0, 0.5]


def test_tagger_smoke():
    from skmtl import MultiTaskTagger
    from skmtl.encoders import TextEncoder

    rng = np.random.RandomState(0)
    words = ["the", "cat", "runs", "a", "dog", "sleeps", "fast", "now"]
    pos = {
        "the": "DET",
        "a": "DET",
        "cat": "NOUN",
        "dog": "NOUN",
        "runs": "VERB",
        "sleeps": "VERB",
        "fast": "ADV",
        "now": "ADV",
    }
    X = [[words[i] for i in rng.randint(8, size=rng.randint(2, 6))] for _ in range(60)]
    y = {
        "pos": [[pos[w] for w in s] if i < 15 else None for i, s in enumerate(X)],
        "coarse": [["D" if pos[w] == "DET" else "O" for w in s] for s in X],
        "random": [list(rng.choice(["x", "y", "z"], size=len(s))) for s in X],
    }
    tagger = MultiTaskTagger(
        TextEncoder(width=16, embed_dim=16, depth=1), max_epochs=2, batch_size=16, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = rank_auxiliary_tasks(tagger, X, y, "pos", n_steps=4, random_state=0)
        assert sorted(r.index) == ["coarse", "random"]
        assert np.isfinite(r["score"]).all()
        selector = AuxiliaryTaskSelector(tagger, "pos", n_steps=4, random_state=0).fit(X, y)
    assert 0 <= selector.score(X, y) <= 1
