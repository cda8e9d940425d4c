"""The Pareto front of a weight-conditioned model: grid, domination, hypervolume, plot."""

from __future__ import annotations

import itertools
import math
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskRegressor, PerTask
from skmtl.model_selection import (
    ParetoFront,
    ParetoFrontDisplay,
    hypervolume,
    pareto_front,
    weight_grid,
)
from skmtl.model_selection._pareto import _non_dominated
from skmtl.weighting import WeightConditioned

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# A bottleneck after a FiLM-conditioned block: the shared unit must trade the tasks off.
CONDITIONED = {
    "hidden_layer_sizes": (8, 1),
    "max_epochs": 60,
    "learning_rate": 0.03,
    "batch_size": 32,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]  # conflicting tasks
    return X, Y


@pytest.fixture(scope="module")
def model(data):
    X, Y = data
    return MultiTaskRegressor(weighting=WeightConditioned(random_state=0), **CONDITIONED).fit(X, Y)


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


# ---------------------------------------------------------------- weight_grid


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_weight_grid_counts_sums_vertices(k, n):
    grid = weight_grid(k, n)
    assert len(grid) == math.comb(n + k - 2, k - 1)
    arr = np.asarray(grid)
    assert arr.shape == (len(grid), k)
    np.testing.assert_allclose(arr.sum(axis=1), 1.0)
    assert np.all(arr >= 0)
    np.testing.assert_allclose(arr * (n - 1), np.round(arr * (n - 1)), atol=1e-12)  # lattice
    assert len({tuple(np.round(row * (n - 1)).astype(int)) for row in arr}) == len(grid)
    for vertex in np.eye(k):
        assert any(np.allclose(row, vertex) for row in arr)


def test_weight_grid_examples_and_names():
    assert weight_grid(2, 5) == [[1.0, 0.0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.0, 1.0]]
    assert len(weight_grid(["a", "b", "c"], 7)) == 7 * 8 // 2
    grid = weight_grid(["ner", "pos"], 3)
    assert grid == [{"ner": 1.0, "pos": 0.0}, {"ner": 0.5, "pos": 0.5}, {"ner": 0.0, "pos": 1.0}]
    assert weight_grid(["only"], 4) == [{"only": 1.0}]
    # usable as a parameter grid
    assert len(list(ParameterGrid({"task_weights": weight_grid(["a", "b"])}))) == 5


@pytest.mark.parametrize(
    "tasks, n, match",
    [
        (2, 1, "n_points_per_edge"),
        (2, 0, "n_points_per_edge"),
        (2, 2.5, "n_points_per_edge"),
        (2, True, "n_points_per_edge"),
        (0, 5, "at least one task"),
        ([], 5, "at least one task"),
        (["a", "a"], 5, "distinct"),
        ("ab", 5, "list of task names"),
        (True, 5, "list of task names"),
        (None, 5, "list of task names"),
    ],
)
def test_weight_grid_errors(tasks, n, match):
    with pytest.raises(ValueError, match=match):
        weight_grid(tasks, n)


# ---------------------------------------------------------------- hypervolume


def _hv_inclusion_exclusion(points, reference):
    """Exact volume of the union of boxes [reference, p], by inclusion-exclusion."""
    boxes = np.clip(np.asarray(points, float) - reference, 0, None)
    total = 0.0
    for size in range(1, len(boxes) + 1):
        for subset in itertools.combinations(range(len(boxes)), size):
            total += (-1) ** (size + 1) * np.prod(boxes[list(subset)].min(axis=0))
    return total


def _hv_grid_count(points, reference):
    """Exact volume for integer points: count the unit cells some point dominates."""
    points = np.asarray(points)
    hi = points.max(axis=0)
    axes = [np.arange(r, h) + 0.5 for r, h in zip(reference, hi, strict=True)]
    cells = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(reference))
    covered = (cells[:, None, :] <= points[None, :, :]).all(axis=2).any(axis=1)
    return int(covered.sum())


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_hypervolume_matches_grid_counting(d, seed):
    rng = np.random.RandomState(seed)
    points = rng.randint(-3, 9, size=(rng.randint(1, 9), d))  # some below the reference
    reference = np.zeros(d, dtype=int)
    assert hypervolume(points, reference) == pytest.approx(_hv_grid_count(points, reference))


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_matches_inclusion_exclusion(d, seed):
    rng = np.random.RandomState(seed)
    points = rng.uniform(-0.2, 1.0, size=(rng.randint(1, 8), d))
    reference = rng.uniform(-0.1, 0.2, size=d)
    expected = _hv_inclusion_exclusion(points, reference)
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_hypervolume_monte_carlo_3d():
    rng = np.random.RandomState(1)
    points = rng.uniform(0, 1, size=(15, 3))
    samples = rng.uniform(0, 1, size=(200_000, 3))
    covered = np.zeros(len(samples), dtype=bool)
    for p in points:
        covered |= np.all(samples <= p, axis=1)
    assert hypervolume(points, 0.0) == pytest.approx(covered.mean(), abs=0.01)


def test_hypervolume_closed_forms():
    assert hypervolume([[2.0, 3.0]], [0, 0]) == 6.0
    assert hypervolume([[2.0, 3.0, 4.0]], [1, 1, 1]) == 6.0
    assert hypervolume([[1.0, 1.0, 1.0, 1.0, 2.0]], 0) == 2.0
    n = 7  # staircase (i, n + 1 - i): n (n + 1) / 2
    assert hypervolume([[i, n + 1 - i] for i in range(1, n + 1)], [0, 0]) == n * (n + 1) / 2
    # three boxes of volume 2, pairwise and triple intersections the unit cube: 6 - 3 + 1
    assert hypervolume([[2, 1, 1], [1, 2, 1], [1, 1, 2]], [0, 0, 0]) == 4.0
    # on or below the reference in one coordinate: adds nothing
    assert hypervolume([[0.0, 5.0], [-1.0, 2.0]], [0, 0]) == 0.0
    assert hypervolume([[3.0, 3.0], [0.0, 5.0]], [0, 0]) == 9.0
    assert hypervolume(np.empty((0, 2)), [0, 0]) == 0.0
    assert hypervolume([], [0, 0]) == 0.0


def test_hypervolume_monotone_and_dominated_points_add_nothing():
    rng = np.random.RandomState(3)
    for d in (2, 3):
        points = rng.uniform(0, 1, size=(6, d))
        base = hypervolume(points, 0)
        for q in rng.uniform(0, 1, size=(10, d)):
            assert hypervolume(np.vstack([points, q]), 0) >= base - 1e-12
        dominated = points[0] * 0.5
        assert hypervolume(np.vstack([points, dominated, points[1]]), 0) == pytest.approx(base)


def test_hypervolume_errors():
    with pytest.raises(ValueError, match="2-D"):
        hypervolume([[[1.0]]], [0])
    with pytest.raises(ValueError, match="one per objective"):
        hypervolume([[1.0, 2.0]], [0, 0, 0])
    with pytest.raises(ValueError, match="finite"):
        hypervolume([[np.nan, 2.0]], [0, 0])


# ---------------------------------------------------------------- domination


def _brute_pareto(scores):
    out = []
    for i, p in enumerate(scores):
        if not np.all(np.isfinite(p)):
            out.append(False)
            continue
        dominated = any(
            np.all(np.isfinite(q)) and np.all(q >= p) and np.any(q > p)
            for j, q in enumerate(scores)
            if j != i
        )
        out.append(not dominated)
    return np.array(out)


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("seed", range(5))
def test_is_pareto_matches_brute_force_with_ties(d, seed):
    rng = np.random.RandomState(seed)
    scores = rng.randint(0, 4, size=(25, d)).astype(float)  # many ties and duplicates
    scores[rng.rand(25) < 0.1, 0] = np.nan
    np.testing.assert_array_equal(_non_dominated(scores), _brute_pareto(scores))


def test_equal_points_are_both_kept():
    front = ParetoFront(["a", "b"], None, np.ones((3, 2)), [[1, 1], [1, 1], [0.5, 1]])
    assert front.is_pareto.tolist() == [True, True, False]


def test_pareto_front_container():
    front = ParetoFront(
        ["a", "b"], "r2", [[2, 0], [1, 1], [0, 3]], [[0.9, 0.1], [0.5, 0.5], [0, 0]]
    )
    np.testing.assert_allclose(front.weights, [[1, 0], [0.5, 0.5], [0, 1]])
    assert front.metrics == {"a": "r2", "b": "r2"}
    assert front.is_pareto.tolist() == [True, True, False]
    assert "n_points=3, n_pareto=2" in repr(front)
    frame = front.to_frame()
    assert frame.columns.tolist() == ["weight_a", "weight_b", "a", "b", "pareto"]
    assert frame["pareto"].dtype == bool
    assert front.hypervolume([0, 0]) == pytest.approx(0.29)
    assert front.hypervolume() == front.hypervolume([0, 0])  # each task's lowest score
    two = ParetoFront(["a", "b"], None, np.ones((2, 2)), [[0.9, 0.1], [0.5, 0.5]])
    assert two.hypervolume() == 0.0  # each point is the worst on one task
    assert two.hypervolume(0) == pytest.approx(0.29)
    with pytest.raises(ValueError, match="shape"):
        ParetoFront(["a", "b"], None, np.ones((3, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="one row"):
        ParetoFront(["a", "b"], None, np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        ParetoFront(["a", "b"], None, [[0, 0]], [[1, 1]])


# ---------------------------------------------------------------- pareto_front


def test_pareto_front_trades_the_tasks_off(model, data):
    X, Y = data
    front = pareto_front(model, X, Y)
    assert front.task_names == ["0", "1"]
    assert front.metrics == {"0": "r2", "1": "r2"}
    assert front.weights.shape == front.scores.shape == (11, 2)
    np.testing.assert_allclose(front.weights[0], [1, 0])
    np.testing.assert_allclose(front.weights[-1], [0, 1])
    assert np.all(np.ptp(front.scores, axis=0) > 0.1)  # a non-trivial trade-off
    assert front.scores[0, 0] > front.scores[-1, 0]
    assert front.scores[-1, 1] > front.scores[0, 1]
    assert front.is_pareto.sum() >= 3
    assert front.hypervolume() > 0
    # the same as predicting by hand under one of the weightings
    expected = model.set_params(task_weights=[0.3, 0.7]).score(X, Y)
    model.set_params(task_weights=None)
    got = pareto_front(model, X, Y, weights=[[3, 7]]).scores.mean()
    assert got == pytest.approx(expected)


def test_pareto_front_leaves_params_unchanged(model, data):
    X, Y = data
    model.set_params(task_weights=PerTask({"0": 2.0}, default=1.0))
    original = model.task_weights
    before = model.get_params(deep=True)
    hash_before = joblib.hash(before)
    pareto_front(model, X, Y, n_points=3)
    after = model.get_params(deep=True)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert joblib.hash(after) == hash_before
    assert model.task_weights is original
    model.set_params(task_weights=None)


def test_pareto_front_restores_on_error(model, data, monkeypatch):
    X, Y = data
    calls = []

    def failing_predict(X):
        calls.append(model.task_weights)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return MultiTaskRegressor.predict(model, X)

    monkeypatch.setattr(model, "predict", failing_predict)
    with pytest.raises(RuntimeError, match="boom"):
        pareto_front(model, X, Y, n_points=4)
    assert calls[1] == {"0": 0.6666666666666666, "1": 0.3333333333333333}
    assert model.task_weights is None


def test_pareto_front_weights_and_metrics(model, data):
    X, Y = data
    weights = [{"0": 3, "1": 1}, [1, 1], PerTask({"1": 4.0}, default=1.0), np.array([0.0, 2.0])]
    front = pareto_front(model, X, Y, weights=weights, metrics="pearson")
    np.testing.assert_allclose(front.weights, [[0.75, 0.25], [0.5, 0.5], [0.2, 0.8], [0, 1]])
    assert front.metrics == {"0": "pearson", "1": "pearson"}
    assert np.all(front.scores <= 1)
    mixed = pareto_front(model, X, Y, n_points=3, metrics={"1": "pearson"})
    assert mixed.metrics == {"0": "r2", "1": "pearson"}
    assert len(pareto_front(model, X, Y, weights=np.array(weight_grid(2, 4))).scores) == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": [[1, 0]], "n_points": 3}, "not both"),
        ({"weights": []}, "empty"),
        ({"weights": {"0": 1, "1": 1}}, "list of weight vectors"),
        ({"weights": [[1, -1]]}, ">= 0"),
        ({"weights": [[0, 0]]}, "> 0 for some task"),
        ({"weights": [[1, 2, 3]]}, "3 entries"),
        ({"weights": [{"0": 1}]}, "no weight to the task"),
        ({"weights": [{"zz": 1, "0": 1, "1": 1}]}, "unknown tasks"),
        ({"weights": [["a", "b"]]}, "numbers"),
        ({"n_points": 1}, "n_points_per_edge"),
        ({"metrics": "bogus"}, "Unknown metric 'bogus'"),
        ({"metrics": {"nope": "r2"}}, "unknown tasks"),
        ({"metrics": ["r2", "r2"]}, "metrics must be"),
        ({"metrics": "accuracy"}, "accuracy"),
    ],
)
def test_pareto_front_bad_arguments(model, data, kwargs, match):
    X, Y = data
    with pytest.raises(ValueError, match=match):
        pareto_front(model, X, Y, **kwargs)
    assert model.task_weights is None


def test_pareto_front_on_pipeline_and_dataframe(data):
    X, Y = data
    frame = pd.DataFrame(Y, columns=["a", "b"])
    reg = MultiTaskRegressor(weighting=WeightConditioned(random_state=0), **CONDITIONED)
    pipe = make_pipeline(StandardScaler(), reg).fit(X, frame)
    before = joblib.hash(pipe.get_params(deep=True))
    front = pareto_front(pipe, X, frame, n_points=5)
    assert front.task_names == ["a", "b"]
    assert front.to_frame().columns.tolist() == ["weight_a", "weight_b", "a", "b", "pareto"]
    assert np.all(np.ptp(front.scores, axis=0) > 0.05)
    assert joblib.hash(pipe.get_params(deep=True)) == before
    assert pipe[-1].task_weights is None
    nested = make_pipeline(make_pipeline(StandardScaler(), clone(reg))).fit(X, frame)
    np.testing.assert_allclose(pareto_front(nested, X, frame, n_points=5).scores, front.scores)


def test_pareto_front_refuses_other_models(data):
    X, Y = data
    plain = MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=2, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="WeightConditioned"):
        pareto_front(plain, X, Y)
    with pytest.raises(NotFittedError):
        pareto_front(MultiTaskRegressor(weighting=WeightConditioned()), X, Y)
    with pytest.raises(ValueError, match="task_weights parameter"):
        pareto_front(LinearRegression().fit(X, Y), X, Y)


def test_pareto_front_three_tasks_default_grid():
    rng = np.random.RandomState(1)
    X = rng.randn(60, 3)
    Y = np.c_[X[:, 0], X[:, 1], X[:, 2]]
    model = MultiTaskRegressor(
        hidden_layer_sizes=(8,), max_epochs=3, random_state=0, weighting=WeightConditioned()
    ).fit(X, Y)
    front = pareto_front(model, X, Y)
    assert front.scores.shape == (21, 3)  # 6 points per edge
    four = np.c_[Y, X[:, 0] - X[:, 1]]
    model4 = clone(model).fit(X, four)
    assert pareto_front(model4, X, four).scores.shape == (20, 4)  # 4 points per edge


# ---------------------------------------------------------------- the display


def test_display_two_tasks(model, data, plt):
    X, Y = data
    front = pareto_front(model, X, Y)
    display = front.plot()
    assert isinstance(display, ParetoFrontDisplay)
    assert display.ax_.figure is display.figure_
    assert display.ax_.get_xlabel() == "0 (r2)" and display.ax_.get_ylabel() == "1 (r2)"
    assert len(display.points_.get_offsets()) == 11
    xs, ys = display.line_.get_data()
    assert len(xs) == front.is_pareto.sum()
    assert np.all(np.diff(xs) >= 0) and np.all(np.diff(ys) <= 0)  # in order along the front
    assert len(display.annotations_) == 11
    assert display.ax_.get_legend() is None
    quiet = front.plot(annotate=False, front_kwargs={"drawstyle": "steps-pre", "color": "k"})
    assert quiet.annotations_ == [] and quiet.line_.get_drawstyle() == "steps-pre"


def test_display_overlays_on_one_ax(model, data, plt):
    X, Y = data
    _, ax = plt.subplots()
    first = ParetoFrontDisplay.from_estimator(model, X, Y, n_points=5, label="conditioned", ax=ax)
    grid = pareto_front(model, X, Y, weights=[[1, 0], [0.5, 0.5], [0, 1]])
    second = ParetoFrontDisplay.from_front(grid, ax=ax, label="grid", annotate=False)
    assert first.ax_ is second.ax_ is ax
    assert len(ax.get_lines()) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["conditioned", "grid"]
    assert first.line_.get_color() != second.line_.get_color()


def test_display_three_tasks(plt):
    rng = np.random.RandomState(0)
    scores = rng.rand(21, 3)
    front = ParetoFront(["a", "b", "c"], "r2", weight_grid(3, 6), scores)
    display = front.plot(label="front")
    assert display.ax_.name == "3d"
    assert display.ax_.get_zlabel() == "c (r2)"
    assert display.line_ is None
    assert len(display.front_.get_offsets()) == front.is_pareto.sum()
    assert len(display.annotations_) == 21
    again = front.plot(ax=display.ax_, label="again", annotate=False)
    assert [t.get_text() for t in again.ax_.get_legend().get_texts()] == ["front", "again"]
    _, flat = plt.subplots()
    with pytest.raises(ValueError, match="3-D"):
        front.plot(ax=flat)


def test_display_without_weights(plt):
    display = ParetoFrontDisplay([[1, 0], [0, 1], [0.2, 0.2]], [True, True, False], ["x", "y"])
    display.plot()
    assert display.annotations_ == [] and display.ax_.get_xlabel() == "x"


def test_display_refuses_more_than_three_tasks():
    front = ParetoFront(list("abcd"), None, weight_grid(4, 3), np.random.RandomState(0).rand(10, 4))
    with pytest.raises(ValueError, match="to_frame"):
        front.plot()
    with pytest.raises(ValueError, match="2 or 3 tasks"):
        ParetoFrontDisplay([[1.0]], [True], ["a"]).plot()


def test_display_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    display = ParetoFrontDisplay([[1, 0], [0, 1]], [True, True], ["a", "b"])
    with pytest.raises(ImportError, match=r"pip install skmtl\[plot\]"):
        display.plot()


def test_pareto_front_needs_two_tasks(data):
    X, Y = data
    one = MultiTaskRegressor(
        hidden_layer_sizes=(4,), max_epochs=2, random_state=0, weighting=WeightConditioned()
    ).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="at least 2 tasks"):
        pareto_front(one, X, Y[:, 0])
