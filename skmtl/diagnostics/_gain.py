"""Multi-task versus single-task: the relative gain Δm and per-task baselines."""

from __future__ import annotations

import numbers
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .. import PerTask
from ..engine import steps_bar
from ..metrics import task_score
from ..tasks import columns_for

__all__ = ["relative_gain", "single_task_baselines"]


def relative_gain(
    mtl_scores: Mapping[str, float] | pd.Series,
    single_task_scores: Mapping[str, float] | pd.Series,
    higher_is_better: bool | Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """Relative multi-task gain Δm over single-task baselines.

    For each task ``t`` with multi-task score ``M_mtl`` and single-task
    score ``M_st``::

        Δ_t = (-1)^{l_t} (M_mtl - M_st) / |M_st|

    where ``l_t = 1`` if a lower value is better for the task's metric, so
    ``Δ_t > 0`` always means the multi-task model is better. ``Δm`` is the
    mean of ``Δ_t`` over the tasks (Maninis et al., 2019; Vandenhende et
    al., 2021).

    Parameters
    ----------
    mtl_scores : dict or Series
        The multi-task model's score of each task.
    single_task_scores : dict or Series
        The single-task baseline's score of each task (the same tasks).
    higher_is_better : bool or dict, default=None
        Whether greater scores are better: one bool for every task or a dict
        by task. None: True for every task (as for every metric of
        :func:`skmtl.metrics.task_score`).

    Returns
    -------
    gain : dict
        ``{"delta_m": float, "per_task": {task: Δ_t}}``, in the order of
        ``mtl_scores``. A baseline score of 0 gives a NaN ``Δ_t`` (and Δm).

    Notes
    -----
    The denominator is ``|M_st|`` (the papers' ``M_st`` for the positive
    metrics they use), so a negative baseline such as ``R^2 < 0`` does not
    flip the sign of the gain.

    Examples
    --------
    >>> from skmtl.diagnostics import relative_gain
    >>> gain = relative_gain({"a": 0.9, "rmse": 0.8}, {"a": 0.8, "rmse": 1.0},
    ...                      higher_is_better={"a": True, "rmse": False})
    >>> {t: round(v, 4) for t, v in gain["per_task"].items()}
    {'a': 0.125, 'rmse': 0.2}
    >>> round(gain["delta_m"], 4)
    0.1625
    """
    mtl = {str(k): float(v) for k, v in dict(mtl_scores).items()}
    st = {str(k): float(v) for k, v in dict(single_task_scores).items()}
    if set(mtl) != set(st):
        raise ValueError(
            f"mtl_scores and single_task_scores must score the same tasks; got {sorted(mtl)} "
            f"and {sorted(st)}."
        )
    if not mtl:
        raise ValueError("No task to compare.")
    if higher_is_better is None:
        higher_is_better = True
    if isinstance(higher_is_better, Mapping):
        hib = {str(k): v for k, v in higher_is_better.items()}
        missing = [t for t in mtl if t not in hib]
        if missing:
            raise ValueError(f"higher_is_better has no entry for tasks {missing}.")
    elif isinstance(higher_is_better, bool | np.bool_):
        hib = dict.fromkeys(mtl, bool(higher_is_better))
    else:
        raise ValueError(
            f"higher_is_better must be None, a bool or a dict by task, got {higher_is_better!r}."
        )
    per_task = {}
    for t, m in mtl.items():
        base = st[t]
        sign = 1.0 if hib[t] else -1.0
        per_task[t] = sign * (m - base) / abs(base) if base != 0 else float("nan")
    return {"delta_m": float(np.mean(list(per_task.values()))), "per_task": per_task}


def single_task_baselines(
    estimator,
    X,
    y,
    X_test,
    y_test,
    metrics: str | Mapping[str, str] | None = None,
    *,
    return_estimators: bool = False,
    verbose: int = 0,
):
    """Compare a multi-task model with one single-task model per task.

    Fits a clone of ``estimator`` on every task at once and, for each task,
    a clone on that task's column(s) alone (same hyper-parameters), then
    scores each task on ``(X_test, y_test)`` with
    :func:`skmtl.metrics.task_score`.

    Parameters
    ----------
    estimator : multi-task estimator
        The configuration to fit (it is cloned, never fitted itself). Its
        per-task parameters (``tasks``, ``task_weights``, ``class_weight``,
        ``threshold``) are restricted to the task for the single-task
        clones; a ``task_weights`` sequence is dropped (a single task's
        static weight only rescales its loss).
    X : array-like, sparse matrix or list of str
        Training inputs.
    y : 2-D array, DataFrame or dict
        Training targets of two or more tasks.
    X_test : array-like, sparse matrix or list of str
        Test inputs.
    y_test : 2-D array, DataFrame or dict
        Test targets, in the layout of ``y``.
    metrics : str or dict, default=None
        The metric of every task (a str) or a dict by task (tasks left out
        use their default); None: :data:`skmtl.metrics.DEFAULT_METRICS` of
        each task's type.
    return_estimators : bool, default=False
        Also return the fitted models.
    verbose : int, default=0
        > 0: a progress bar (tqdm, on stderr) over the ``1 + n_tasks`` fits,
        naming the one under way. Each fit's own output follows the
        estimator's ``verbose`` parameter.

    Returns
    -------
    report : DataFrame
        One row per task (index ``task``) with columns ``metric``,
        ``mtl_score``, ``single_task_score``, ``relative_gain`` (the task's
        Δ_t from :func:`relative_gain`) and ``single_task_fit_time``
        (seconds). ``report.attrs`` holds ``delta_m`` (Δm over the tasks),
        ``mtl_fit_time``, ``single_task_fit_time`` (the sum over tasks) and
        ``fit_time_ratio`` (``mtl_fit_time / single_task_fit_time``).
    estimators : dict
        Only with ``return_estimators=True``: ``{"mtl": fitted multi-task
        model, "single_task": {task: fitted single-task model}}``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl import MultiTaskEstimator
    >>> from skmtl.diagnostics import single_task_baselines
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(160, 4))
    >>> Y = pd.DataFrame({"sign": np.where(X[:, 0] > 0, "pos", "neg"), "size": X[:, 0] * 2})
    >>> model = MultiTaskEstimator(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)
    >>> report = single_task_baselines(model, X[:120], Y[:120], X[120:], Y[120:])
    >>> list(report.columns)
    ['metric', 'mtl_score', 'single_task_score', 'relative_gain', 'single_task_fit_time']
    >>> report["metric"].tolist()
    ['accuracy', 'r2']
    >>> sorted(report.attrs)
    ['delta_m', 'fit_time_ratio', 'mtl_fit_time', 'single_task_fit_time']
    """
    with steps_bar(None, verbose, desc="single_task_baselines", unit="fit") as bar:
        bar.set_postfix_str("multi-task")
        tic = time.perf_counter()
        mtl = clone(estimator).fit(X, y)
        mtl_time = time.perf_counter() - tic
        tasks = list(mtl.tasks_.values())
        layout = mtl.target_layout_
        if layout.kind == "1d":
            raise ValueError("single_task_baselines needs a multi-task y (two or more tasks).")
        bar.total = 1 + len(tasks)
        bar.update()
        chosen = _chosen_metrics(metrics, tasks)
        truth = columns_for(layout, tasks, y_test)
        mtl_pred = columns_for(layout, tasks, mtl.predict(X_test))
        rows, fitted = [], {}
        for t in tasks:
            bar.set_postfix_str(t.name)
            single = clone(estimator).set_params(**_single_task_params(estimator, t.name))
            tic = time.perf_counter()
            single.fit(X, _task_target(y, layout.kind, t.columns))
            st_time = time.perf_counter() - tic
            fitted[t.name] = single
            (st_pred,) = columns_for(
                single.target_layout_, list(single.tasks_.values()), single.predict(X_test)
            ).values()
            metric = chosen[t.name]
            m_score = task_score(truth[t.name], mtl_pred[t.name], metric, task_type=t.type)
            s_score = task_score(truth[t.name], st_pred, metric, task_type=t.type)
            rows.append((t.name, metric, m_score, s_score, st_time))
            bar.update()
    report = pd.DataFrame(
        rows,
        columns=["task", "metric", "mtl_score", "single_task_score", "single_task_fit_time"],
    ).set_index("task")
    gain = relative_gain(report["mtl_score"], report["single_task_score"])
    report.insert(3, "relative_gain", pd.Series(gain["per_task"]))
    st_total = float(report["single_task_fit_time"].sum())
    report.attrs.update(
        delta_m=gain["delta_m"],
        mtl_fit_time=mtl_time,
        single_task_fit_time=st_total,
        fit_time_ratio=mtl_time / st_total if st_total > 0 else float("nan"),
    )
    if return_estimators:
        return report, {"mtl": mtl, "single_task": fitted}
    return report


def _chosen_metrics(metrics, tasks) -> dict[str, str]:
    """The metric of each task: ``metrics`` (None, a str or a dict by task) resolved."""
    names = [t.name for t in tasks]
    if metrics is None or isinstance(metrics, str):
        return {t.name: metrics or t.default_metric for t in tasks}
    if isinstance(metrics, Mapping):
        spec = {str(k): v for k, v in metrics.items()}
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"metrics names unknown tasks {unknown}; the tasks are {names}.")
        return {t.name: spec.get(t.name, t.default_metric) for t in tasks}
    raise ValueError(f"metrics must be None, a str or a dict by task, got {metrics!r}.")


def _task_target(y, kind: str, columns: list):
    """One task's column(s) of ``y``, in ``y``'s layout."""
    if kind == "frame":
        return y[list(columns)]
    if kind == "dict":
        return {c: y[c] for c in columns}
    Y = np.asarray(y, dtype=object) if not hasattr(y, "shape") else y
    return Y[:, [int(c) for c in columns]]


def _single_task_params(estimator, task: str) -> dict[str, Any]:
    """The per-task parameters of ``estimator`` restricted to one task."""
    params = estimator.get_params(deep=False)
    out = {}
    for name in ("tasks", *getattr(estimator, "_PER_TASK_PARAMS", ("task_weights",))):
        if name not in params:
            continue
        value = params[name]
        if isinstance(value, Mapping):
            default = getattr(value, "default", None)
            entries = {k: v for k, v in value.items() if str(k) == task}
            out[name] = (
                PerTask(entries, default=default) if entries or default is not None else None
            )
            if name in ("threshold",) and out[name] is None:
                out[name] = 0.5
        elif name == "task_weights" and value is not None and not isinstance(value, numbers.Number):
            out[name] = None
    return out
