"""The Pareto front of a weight-conditioned model, its hypervolume, and a plot of it.

A model fitted with :class:`skmtl.weighting.WeightConditioned` serves every
task weighting from one fit: :func:`pareto_front` sets ``task_weights`` to each
vector of a grid (:func:`weight_grid`), predicts, and scores every task, which
traces the trade-off between the tasks. :class:`ParetoFront` holds the result
(which points are non-dominated, their :func:`hypervolume`), and
:class:`ParetoFrontDisplay` draws it in the manner of scikit-learn's displays.

Every skmtl metric (:data:`skmtl.metrics.METRICS`) is greater-is-better, so
fronts, domination and hypervolumes here are all for maximisation.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._params import per_task_values
from ..metrics import METRICS, task_scores
from ..tasks import columns_for
from ..utils import final_step

__all__ = ["ParetoFront", "ParetoFrontDisplay", "hypervolume", "pareto_front", "weight_grid"]

#: Points per edge of the default grid of :func:`pareto_front`, by number of tasks.
_DEFAULT_POINTS = {2: 11, 3: 6}
_DEFAULT_POINTS_MANY = 4


# ---------------------------------------------------------------- the weight grid


def weight_grid(tasks: Sequence[str] | int, n_points_per_edge: int = 5) -> list:
    """The regular lattice of task weightings on the simplex, vertices included.

    Every vector has entries ``i / (n_points_per_edge - 1)`` that sum to 1, so
    the grid has ``n_points_per_edge`` points along each edge of the simplex
    and ``C(n_points_per_edge + k - 2, k - 1)`` points in all for ``k`` tasks
    (``n`` for 2 tasks, ``n (n + 1) / 2`` for 3).

    Parameters
    ----------
    tasks : list of str or int
        The task names (e.g. ``list(model.tasks_)``), or the number of tasks.
    n_points_per_edge : int, default=5
        Points along each edge of the simplex, both ends included (>= 2).

    Returns
    -------
    grid : list of dict or list of list
        ``{task: weight}`` dicts for task names, lists in task order for an
        int; the first task's weight decreases from 1 first. Usable directly
        as ``param_grid={"task_weights": weight_grid(list(model.tasks_))}``.

    Raises
    ------
    ValueError
        For no task, repeated task names, or ``n_points_per_edge`` not an int >= 2.

    Examples
    --------
    >>> from skmtl.model_selection import weight_grid
    >>> weight_grid(2, 5)
    [[1.0, 0.0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.0, 1.0]]
    >>> weight_grid(["ner", "pos"], 3)
    [{'ner': 1.0, 'pos': 0.0}, {'ner': 0.5, 'pos': 0.5}, {'ner': 0.0, 'pos': 1.0}]
    >>> len(weight_grid(["a", "b", "c"], 4))
    10
    """
    names, positional = _grid_tasks(tasks)
    n = n_points_per_edge
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n_points_per_edge must be an int >= 2, got {n!r}.")
    steps = int(n) - 1
    vectors = [[c / steps for c in comp] for comp in _compositions(steps, len(names))]
    if positional:
        return vectors
    return [dict(zip(names, v, strict=True)) for v in vectors]


def _grid_tasks(tasks) -> tuple[list[str], bool]:
    """The task names of :func:`weight_grid`'s ``tasks``, and whether it was an int."""
    if isinstance(tasks, numbers.Integral) and not isinstance(tasks, bool):
        if tasks < 1:
            raise ValueError(f"weight_grid needs at least one task, got tasks={tasks!r}.")
        return [str(i) for i in range(int(tasks))], True
    if isinstance(tasks, str) or not isinstance(tasks, Sequence | np.ndarray):
        raise ValueError(
            f"tasks must be a list of task names or the number of tasks, got {tasks!r}."
        )
    names = [str(t) for t in tasks]
    if not names:
        raise ValueError("weight_grid needs at least one task, got an empty list.")
    if len(set(names)) != len(names):
        raise ValueError(f"weight_grid's task names must be distinct, got {names}.")
    return names, False


def _compositions(total: int, k: int):
    """Every tuple of ``k`` ints >= 0 summing to ``total``, the first entry decreasing."""
    if k == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, k - 1):
            yield (first, *rest)


# ---------------------------------------------------------------- domination, hypervolume


def _non_dominated(scores: np.ndarray) -> np.ndarray:
    """Mask of the rows no other row dominates (maximisation; equal rows do not dominate).

    A row with a non-finite score is never on the front and dominates nothing.
    """
    finite = np.all(np.isfinite(scores), axis=1)
    pts = scores[finite]
    keep = np.ones(len(pts), dtype=bool)
    for i, p in enumerate(pts):
        keep[i] = not np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))
    mask = np.zeros(len(scores), dtype=bool)
    mask[finite] = keep
    return mask


def hypervolume(points: Any, reference: Any) -> float:
    """The exact hypervolume dominated by ``points`` above ``reference`` (maximisation).

    The volume of the union of the boxes ``[reference, p]`` over the points
    ``p``. A point not strictly above the reference in every coordinate
    counts only by its part above it, i.e. adds nothing. Two dimensions
    take a sweep (``O(n log n)``); more dimensions slice along the last axis
    into problems of one dimension fewer (exact, ``O(n^(d-1) log n)``: fine
    for the few tasks of a front, slow for many objectives).

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
        The points (e.g. per-task scores), greater is better; finite.
    reference : float or array-like of shape (n_objectives,)
        The reference point (the worst acceptable score of each objective).
        Hypervolumes are comparable only under one common reference.

    Returns
    -------
    volume : float
        0.0 when no point is above the reference.

    Examples
    --------
    >>> from skmtl.model_selection import hypervolume
    >>> hypervolume([[1, 3], [2, 2], [3, 1]], [0, 0])
    6.0
    >>> hypervolume([[1, 1, 1]], [0, 0, 0]), hypervolume([[2, 2], [1, 5]], [1, 1])
    (1.0, 1.0)
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1 and pts.size == 0:
        pts = pts.reshape(0, np.size(reference))
    if pts.ndim != 2 or pts.shape[1] < 1:
        raise ValueError(f"points must be a 2-D array (n_points, n_objectives), got {pts.shape}.")
    try:
        ref = np.broadcast_to(np.asarray(reference, dtype=np.float64), (pts.shape[1],))
    except ValueError:
        raise ValueError(
            f"reference must be a number or {pts.shape[1]} numbers (one per objective), "
            f"got {reference!r}."
        ) from None
    if not (np.all(np.isfinite(pts)) and np.all(np.isfinite(ref))):
        raise ValueError("hypervolume needs finite points and a finite reference.")
    above = pts[np.all(pts > ref, axis=1)] - ref
    return float(_volume(above)) if len(above) else 0.0


def _volume(pts: np.ndarray) -> float:
    """Hypervolume of positive points above the origin (at least one point)."""
    d = pts.shape[1]
    if d == 1:
        return float(pts[:, 0].max())
    if d == 2:
        order = np.argsort(-pts[:, 0], kind="stable")
        x = pts[order, 0]
        best_y = np.maximum.accumulate(pts[order, 1])
        return float(np.dot(x - np.append(x[1:], 0.0), best_y))
    pts = pts[np.argsort(-pts[:, -1], kind="stable")]
    total = 0.0
    for i in range(len(pts)):
        lower = pts[i + 1, -1] if i + 1 < len(pts) else 0.0
        if pts[i, -1] > lower:  # the slab (lower, z_i] is covered by the first i + 1 points
            total += (pts[i, -1] - lower) * _volume(pts[: i + 1, :-1])
    return total


# ---------------------------------------------------------------- the result


@dataclass(eq=False, repr=False)
class ParetoFront:
    """Per-task scores of one model under several task weightings.

    Returned by :func:`pareto_front`; it can also be built from any scores,
    e.g. those of a search over refitted models, to compare both fronts.

    Parameters
    ----------
    task_names : list of str
        The tasks, in the order of the columns of ``weights`` and ``scores``.
    metrics : dict
        ``{task: metric name}`` (None where unknown); a str for every task.
    weights : ndarray of shape (n_points, n_tasks)
        The task weights of each point; rows are normalised to sum 1.
    scores : ndarray of shape (n_points, n_tasks)
        Each point's score on each task, greater is better.
    is_pareto : ndarray of shape (n_points,) of bool, default=None
        The non-dominated points; None computes it: a point is dominated when
        another is at least as good on every task and better on one (two
        equal points are both kept; a point with a NaN score never is).

    Examples
    --------
    >>> from skmtl.model_selection import ParetoFront
    >>> front = ParetoFront(["a", "b"], "r2", [[1, 0], [1, 1], [0, 1]],
    ...                     [[0.9, 0.1], [0.5, 0.5], [0.4, 0.4]])
    >>> front
    ParetoFront(task_names=['a', 'b'], metrics={'a': 'r2', 'b': 'r2'}, n_points=3, n_pareto=2)
    >>> front.is_pareto.tolist(), front.weights[1].tolist()
    ([True, True, False], [0.5, 0.5])
    >>> round(front.hypervolume(reference=[0, 0]), 6)
    0.29
    """

    task_names: list[str]
    metrics: dict[str, str | None]
    weights: np.ndarray
    scores: np.ndarray
    is_pareto: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        self.task_names = [str(t) for t in self.task_names]
        k = len(self.task_names)
        if k < 1 or len(set(self.task_names)) != k:
            raise ValueError(f"task_names must be distinct task names, got {self.task_names}.")
        self.metrics = _metric_dict(self.metrics, self.task_names)
        self.scores = np.asarray(self.scores, dtype=np.float64)
        weights = np.asarray(self.weights, dtype=np.float64)
        for what, arr in (("scores", self.scores), ("weights", weights)):
            if arr.ndim != 2 or arr.shape[1] != k:
                raise ValueError(f"{what} must have shape (n_points, {k}), got {arr.shape}.")
        if weights.shape != self.scores.shape:
            raise ValueError(
                f"weights {weights.shape} and scores {self.scores.shape} must have one row "
                "per point."
            )
        sums = weights.sum(axis=1, keepdims=True)
        if np.any(weights < 0) or not np.all(np.isfinite(weights)) or np.any(sums <= 0):
            raise ValueError("weights must be finite, >= 0, and > 0 for some task in each row.")
        self.weights = weights / sums
        if self.is_pareto is None:
            self.is_pareto = _non_dominated(self.scores)
        else:
            self.is_pareto = np.asarray(self.is_pareto, dtype=bool)
            if self.is_pareto.shape != (len(self.scores),):
                raise ValueError(
                    f"is_pareto must have shape ({len(self.scores)},), got {self.is_pareto.shape}."
                )

    def __repr__(self) -> str:
        return (
            f"ParetoFront(task_names={self.task_names}, metrics={self.metrics}, "
            f"n_points={len(self.scores)}, n_pareto={int(self.is_pareto.sum())})"
        )

    def to_frame(self):
        """The points as a DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``weight_<task>`` (the normalised weights), ``<task>`` (the
            scores) and ``pareto`` (bool), one row per point.
        """
        import pandas as pd

        data = {f"weight_{t}": self.weights[:, j] for j, t in enumerate(self.task_names)}
        data.update({t: self.scores[:, j] for j, t in enumerate(self.task_names)})
        data["pareto"] = self.is_pareto
        return pd.DataFrame(data, columns=list(data))

    def hypervolume(self, reference: Any = None) -> float:
        """The hypervolume of the front (see :func:`hypervolume`).

        Parameters
        ----------
        reference : float or array-like of shape (n_tasks,), default=None
            None: each task's lowest score among the points, so a point that
            is the worst on some task adds nothing. That default depends on
            the front: to compare fronts (e.g. a conditioned model's and a
            grid search's) pass one common reference, such as the elementwise
            minimum of both fronts' scores.

        Returns
        -------
        volume : float
        """
        finite = self.scores[np.all(np.isfinite(self.scores), axis=1)]
        if reference is None:
            if not len(finite):
                return 0.0
            reference = finite.min(axis=0)
        return hypervolume(finite, reference)

    def plot(self, ax=None, **kwargs) -> ParetoFrontDisplay:
        """Plot the front: ``ParetoFrontDisplay.from_front(self, ax=ax, **kwargs)``."""
        return ParetoFrontDisplay.from_front(self, ax=ax, **kwargs)


def _metric_dict(metrics, names: list[str]) -> dict[str, str | None]:
    if metrics is None or isinstance(metrics, str):
        return dict.fromkeys(names, metrics)
    if isinstance(metrics, Mapping):
        out = {str(k): v for k, v in metrics.items()}
        return {n: out.get(n) for n in names}
    metrics = list(metrics)
    if len(metrics) != len(names):
        raise ValueError(f"metrics has {len(metrics)} entries for {len(names)} tasks {names}.")
    return dict(zip(names, metrics, strict=True))


# ---------------------------------------------------------------- evaluating a model


def pareto_front(
    model,
    X,
    Y,
    *,
    weights: Sequence | None = None,
    n_points: int | None = None,
    metrics: str | Mapping[str, str] | None = None,
) -> ParetoFront:
    """Score a weight-conditioned model on each task under many task weightings.

    For each weight vector the model's ``task_weights`` are set (with
    ``set_params``, through a :class:`~sklearn.pipeline.Pipeline` whose last
    step is the skmtl estimator), ``X`` is predicted once and each task is
    scored on ``Y``. The model's original ``task_weights`` are restored
    afterwards, also when an error interrupts: its parameters are unchanged.

    Parameters
    ----------
    model : estimator or Pipeline
        A skmtl estimator fitted with ``weighting=WeightConditioned(...)``
        (or a Pipeline ending in one). Any other weighting serves one
        weighting only: every vector would give the same point.
    X : array-like
        The inputs, as ``model.predict`` takes them.
    Y : ndarray, DataFrame or dict
        The true targets of every task, laid out as in ``fit``; missing
        labels are skipped task by task.
    weights : list of dict or sequence, default=None
        The weight vectors: ``{task: weight}`` dicts naming every task (or
        :class:`~skmtl.PerTask` with a default), or sequences in task order;
        each is normalised to sum 1 (only ratios matter). None:
        ``weight_grid(list(tasks_), n_points)``.
    n_points : int, default=None
        Points per edge of the default grid (see :func:`weight_grid`): None
        is 11 for 2 tasks (11 points), 6 for 3 (21 points), 4 for more.
        Not with ``weights``.
    metrics : str or dict, default=None
        None: each task's ``default_metric``. A str: that metric for every
        task. A dict ``{task: metric}``: those, the default for the others.
        Names of :data:`skmtl.metrics.METRICS`, all greater-is-better.

    Returns
    -------
    front : ParetoFront

    Raises
    ------
    ValueError
        For a model not fitted with a weight-conditioned strategy, fewer than
        two tasks, invalid weights or metrics, or both ``weights`` and ``n_points``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.model_selection import pareto_front
    >>> from skmtl.weighting import WeightConditioned
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]
    >>> model = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0,
    ...                            weighting=WeightConditioned(random_state=0)).fit(X, Y)
    >>> front = pareto_front(model, X, Y, n_points=5)
    >>> front.scores.shape, front.metrics
    ((5, 2), {'0': 'r2', '1': 'r2'})
    >>> front.to_frame().columns.tolist()
    ['weight_0', 'weight_1', '0', '1', 'pareto']
    >>> model.task_weights is None  # restored
    True
    """
    estimator, prefix = _conditioned_estimator(model)
    tasks = list(estimator.tasks_.values())
    names = [t.name for t in tasks]
    if len(names) < 2:
        raise ValueError(f"pareto_front needs at least 2 tasks; the model has {names}.")
    vectors = _weight_vectors(weights, n_points, names)
    chosen = _chosen_metrics(metrics, tasks)
    truth = columns_for(estimator.target_layout_, tasks, Y)
    types = {t.name: t.type for t in tasks}
    param = f"{prefix}task_weights"
    original = estimator.task_weights
    scores = np.empty(vectors.shape, dtype=np.float64)
    try:
        for i, vector in enumerate(vectors):
            model.set_params(**{param: dict(zip(names, map(float, vector), strict=True))})
            pred = columns_for(estimator.target_layout_, tasks, model.predict(X))
            got = task_scores(truth, pred, metrics=chosen, task_types=types)
            scores[i] = [got[n][chosen[n]] for n in names]
    finally:
        model.set_params(**{param: original})
    return ParetoFront(names, chosen, vectors, scores)


def _conditioned_estimator(model) -> tuple[Any, str]:
    """The skmtl estimator at the end of ``model`` (a Pipeline or not) and its param prefix."""
    prefix, estimator = final_step(model)
    if "task_weights" not in getattr(estimator, "_get_param_names", list)():
        raise ValueError(
            "pareto_front needs a skmtl estimator (or a Pipeline ending in one) with a "
            f"task_weights parameter, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, "weighting_")
    strategy = estimator.weighting_
    if not getattr(strategy, "conditions_network", False):
        raise ValueError(
            "pareto_front needs a model fitted with weighting=WeightConditioned(): its "
            "predictions follow task_weights after one fit. This one was fitted with "
            f"{type(strategy).__name__}, whose predictions do not depend on task_weights, so "
            "every weight vector would give the same point. Refit with "
            "weighting=WeightConditioned(), or refit per weighting (TaskWeightSearchCV / "
            "GridSearchCV over weight_grid(...)) and build a ParetoFront from those scores."
        )
    return estimator, prefix


def _weight_vectors(weights, n_points, names: list[str]) -> np.ndarray:
    """The weight vectors as an (n, k) array with rows summing to 1."""
    if weights is not None and n_points is not None:
        raise ValueError("Give weights or n_points, not both.")
    if weights is None:
        n = _DEFAULT_POINTS.get(len(names), _DEFAULT_POINTS_MANY) if n_points is None else n_points
        return np.asarray(weight_grid(len(names), n), dtype=np.float64)
    if isinstance(weights, str | Mapping) or not isinstance(weights, Sequence | np.ndarray):
        raise ValueError(
            "weights must be a list of weight vectors (dicts by task name or sequences in "
            f"task order), got {weights!r}."
        )
    if len(weights) == 0:
        raise ValueError("weights is empty: give at least one weight vector.")
    rows = []
    for i, vector in enumerate(weights):
        values = per_task_values(f"weights[{i}]", vector, names, None)
        unnamed = [n for n, v in values.items() if v is None]
        if unnamed:
            raise ValueError(f"weights[{i}] gives no weight to the task(s) {unnamed}.")
        try:
            row = np.array([float(values[n]) for n in names])
        except (TypeError, ValueError):
            raise ValueError(f"weights[{i}] must hold numbers, got {vector!r}.") from None
        if not np.all(np.isfinite(row)) or np.any(row < 0) or not row.sum() > 0:
            raise ValueError(
                f"weights[{i}] must be finite, >= 0 and > 0 for some task, got {vector!r}."
            )
        rows.append(row / row.sum())
    return np.vstack(rows)


def _chosen_metrics(metrics, tasks) -> dict[str, str]:
    """``{task: metric}``: one (greater-is-better) skmtl metric per task."""
    names = [t.name for t in tasks]
    chosen = {t.name: t.default_metric for t in tasks}
    if isinstance(metrics, str):
        chosen = dict.fromkeys(names, metrics)
    elif isinstance(metrics, Mapping):
        given = {str(k): v for k, v in metrics.items()}
        unknown = [k for k in given if k not in chosen]
        if unknown:
            raise ValueError(f"metrics names unknown tasks {unknown}; the tasks are {names}.")
        chosen.update(given)
    elif metrics is not None:
        raise ValueError(
            f"metrics must be None, a metric name or a dict {{task: metric}}, got {metrics!r}."
        )
    for name, metric in chosen.items():
        if metric not in METRICS:
            raise ValueError(
                f"Unknown metric {metric!r} for task {name!r}; expected one metric name "
                f"of {list(METRICS)} (all greater-is-better)."
            )
    return chosen


# ---------------------------------------------------------------- the display


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "ParetoFrontDisplay.plot requires matplotlib; install it with "
            "`pip install skmtl[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


class ParetoFrontDisplay:
    """Plot of a Pareto front: per-task scores, the non-dominated points joined.

    Create it with :meth:`from_estimator` or :meth:`from_front` (or
    :meth:`ParetoFront.plot`); the constructor only stores its arguments.
    Two tasks give a scatter of every point (grey) with the non-dominated
    ones highlighted and joined in order; three tasks a 3-D scatter with the
    non-dominated ones highlighted. For more tasks use
    :meth:`ParetoFront.to_frame` (e.g. with a pairwise scatter-matrix plot).

    Parameters
    ----------
    scores : array-like of shape (n_points, n_tasks)
        Each point's per-task scores (greater is better).
    is_pareto : array-like of shape (n_points,) of bool
        The non-dominated points.
    task_names : list of str
        The tasks (2 or 3 to plot).
    weights : array-like of shape (n_points, n_tasks), default=None
        The task weights of the points, for the annotations.
    metrics : dict or str, default=None
        ``{task: metric}`` for the axis labels ``<task> (<metric>)``.
    label : str, default=None
        The legend label of the front (shown when given).

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on (3-D for 3 tasks).
    figure_ : matplotlib Figure
        The figure of ``ax_``.
    points_ : matplotlib PathCollection
        The scatter of every point.
    front_ : matplotlib Line2D or PathCollection
        The non-dominated points: a line with markers (2 tasks), a scatter (3).
    line_ : matplotlib Line2D or None
        The line joining the front (2 tasks; None for 3).
    annotations_ : list of matplotlib Text
        The weight annotations (empty without ``weights`` or ``annotate``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.model_selection import ParetoFrontDisplay
    >>> from skmtl.weighting import WeightConditioned
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]
    >>> model = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0,
    ...                            weighting=WeightConditioned(random_state=0)).fit(X, Y)
    >>> display = ParetoFrontDisplay.from_estimator(model, X, Y, n_points=5, label="YOTO")
    >>> display.ax_.get_xlabel(), display.ax_.get_legend().get_texts()[0].get_text()
    ('0 (r2)', 'YOTO')
    """

    def __init__(
        self,
        scores: Any,
        is_pareto: Any,
        task_names: Sequence[str],
        weights: Any = None,
        metrics: Mapping[str, str] | str | None = None,
        label: str | None = None,
    ) -> None:
        self.scores = np.asarray(scores, dtype=np.float64)
        self.is_pareto = np.asarray(is_pareto, dtype=bool)
        self.task_names = [str(t) for t in task_names]
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.metrics = metrics
        self.label = label

    def plot(
        self,
        ax=None,
        *,
        annotate: bool = True,
        front_kwargs: dict | None = None,
        point_kwargs: dict | None = None,
    ) -> ParetoFrontDisplay:
        """Draw the front; a second call on the same ``ax`` overlays another front.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw (a 3-D one, ``projection="3d"``, for 3 tasks); None
            makes a new figure.
        annotate : bool, default=True
            Write each point's weights next to it (when ``weights`` are known).
        front_kwargs : dict, default=None
            Passed to the non-dominated points' artist: ``Axes.plot`` for 2
            tasks (e.g. ``{"drawstyle": "steps-pre"}`` draws the attainment
            staircase), ``Axes3D.scatter`` for 3.
        point_kwargs : dict, default=None
            Passed to the scatter of every point (default grey).

        Returns
        -------
        display : ParetoFrontDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        k = len(self.task_names)
        if k not in (2, 3):
            raise ValueError(
                f"ParetoFrontDisplay plots 2 or 3 tasks, got {k} {self.task_names}; for more "
                "use ParetoFront.to_frame() (e.g. with pandas.plotting.scatter_matrix) or "
                "plot pairs of tasks."
            )
        if self.scores.shape[1:] != (k,) or self.is_pareto.shape != self.scores.shape[:1]:
            raise ValueError(
                f"scores must have shape (n_points, {k}) and is_pareto (n_points,); got "
                f"{self.scores.shape} and {self.is_pareto.shape}."
            )
        plt = _pyplot()
        if ax is None:
            fig = plt.figure()
            ax = fig.add_subplot(projection="3d" if k == 3 else None)
        elif k == 3 and getattr(ax, "name", None) != "3d":
            raise ValueError(
                "3 tasks need a 3-D Axes: fig.add_subplot(projection='3d'), or ax=None."
            )
        points = {"color": "0.6", "s": 16, "zorder": 1, **(point_kwargs or {})}
        self.points_ = ax.scatter(*self.scores.T, **points)
        if k == 2:
            self._plot_front_2d(ax, front_kwargs)
        else:
            self._plot_front_3d(ax, front_kwargs)
        self._label_axes(ax)
        self.annotations_ = self._annotate(ax) if annotate and self.weights is not None else []
        if self.label is not None:
            ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _plot_front_2d(self, ax, front_kwargs) -> None:
        front = self.scores[self.is_pareto]
        front = front[np.lexsort((-front[:, 1], front[:, 0]))]
        kwargs = {"marker": "o", "zorder": 2, "label": self.label, **(front_kwargs or {})}
        (self.line_,) = ax.plot(front[:, 0], front[:, 1], **kwargs)
        self.front_ = self.line_

    def _plot_front_3d(self, ax, front_kwargs) -> None:
        kwargs = {"s": 36, "zorder": 2, "depthshade": False, "label": self.label}
        self.front_ = ax.scatter(
            *self.scores[self.is_pareto].T, **{**kwargs, **(front_kwargs or {})}
        )
        self.line_ = None

    def _label_axes(self, ax) -> None:
        metrics = _metric_dict(self.metrics, self.task_names)
        labels = [f"{t} ({metrics[t]})" if metrics[t] else t for t in self.task_names]
        setters = (ax.set_xlabel, ax.set_ylabel, getattr(ax, "set_zlabel", None))
        for setter, text in zip(setters, labels, strict=False):
            setter(text)

    def _annotate(self, ax) -> list:
        texts = []
        for point, w in zip(self.scores, self.weights, strict=True):
            if not np.all(np.isfinite(point)):
                continue
            text = "(" + ", ".join(f"{v:.2g}" for v in w) + ")"
            if len(point) == 2:
                texts.append(
                    ax.annotate(text, point, xytext=(3, 3), textcoords="offset points", fontsize=7)
                )
            else:
                texts.append(ax.text(*point, text, fontsize=7))
        return texts

    @classmethod
    def from_front(
        cls,
        front: ParetoFront,
        *,
        label: str | None = None,
        ax=None,
        annotate: bool = True,
        front_kwargs: dict | None = None,
        point_kwargs: dict | None = None,
    ) -> ParetoFrontDisplay:
        """Plot a :class:`ParetoFront` (see :meth:`plot` for the other parameters).

        Returns
        -------
        display : ParetoFrontDisplay
        """
        display = cls(
            front.scores,
            front.is_pareto,
            front.task_names,
            weights=front.weights,
            metrics=front.metrics,
            label=label,
        )
        return display.plot(
            ax, annotate=annotate, front_kwargs=front_kwargs, point_kwargs=point_kwargs
        )

    @classmethod
    def from_estimator(
        cls,
        model,
        X,
        Y,
        *,
        weights: Sequence | None = None,
        n_points: int | None = None,
        metrics: str | Mapping[str, str] | None = None,
        label: str | None = None,
        ax=None,
        annotate: bool = True,
        front_kwargs: dict | None = None,
        point_kwargs: dict | None = None,
    ) -> ParetoFrontDisplay:
        """Compute :func:`pareto_front` of a weight-conditioned model and plot it.

        ``weights``, ``n_points`` and ``metrics`` are those of
        :func:`pareto_front`; the others those of :meth:`plot`.

        Returns
        -------
        display : ParetoFrontDisplay
        """
        front = pareto_front(model, X, Y, weights=weights, n_points=n_points, metrics=metrics)
        return cls.from_front(
            front,
            label=label,
            ax=ax,
            annotate=annotate,
            front_kwargs=front_kwargs,
            point_kwargs=point_kwargs,
        )
