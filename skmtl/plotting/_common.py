"""Helpers shared by the displays: lazy matplotlib, pipelines, history records, checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..utils import final_step

__all__ = [
    "check_tasks",
    "final_estimator",
    "fitted_history",
    "get_axes",
    "history_curves",
    "merge_kwargs",
    "pipeline_inputs",
    "pyplot",
    "set_epoch_axis",
]


def pyplot(caller: str):
    """``matplotlib.pyplot``, imported on first use, or an ImportError saying how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib; install it with `pip install skmtl[plot]` "
            "(or `pip install matplotlib`)."
        ) from exc
    return plt


def get_axes(ax, caller: str):
    """``(ax, figure)``: the given Axes, or those of a new figure."""
    plt = pyplot(caller)
    if ax is None:
        fig, ax = plt.subplots()
        return ax, fig
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise ValueError(f"{caller}: ax must be a matplotlib Axes or None, got {ax!r}.")
    return ax, ax.figure


def set_epoch_axis(ax) -> None:
    """Label the x-axis "epoch", with integer ticks."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def merge_kwargs(defaults: Mapping[str, Any], user: Mapping[str, Any] | None, name: str) -> dict:
    """``defaults`` updated with the user's style keywords (a dict or None)."""
    if user is None:
        return dict(defaults)
    if not isinstance(user, Mapping):
        raise ValueError(f"{name} must be a dict of matplotlib keywords or None, got {user!r}.")
    return {**defaults, **user}


def final_estimator(estimator):
    """The estimator at the end of ``estimator``, going down nested Pipelines."""
    return final_step(estimator)[1]


def pipeline_inputs(estimator, X_fit, y_fit, *others) -> tuple[Any, list]:
    """The final estimator and the inputs transformed by the Pipeline steps before it.

    A fitted Pipeline's preprocessing steps transform ``X_fit`` and ``others``;
    unfitted ones are cloned and fitted on ``(X_fit, y_fit)`` first (the
    Pipeline itself is never modified). A non-Pipeline returns the inputs as
    they are.
    """
    inputs = [X_fit, *others]
    while isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            steps = estimator[:-1]
            try:
                inputs = [steps.transform(x) for x in inputs]
            except NotFittedError:
                steps = clone(steps).fit(inputs[0], y_fit)
                inputs = [steps.transform(x) for x in inputs]
        estimator = estimator.steps[-1][1]
    return estimator, inputs


def fitted_history(estimator, caller: str) -> list[dict]:
    """The ``history_`` of a fitted skmtl estimator (or of a Pipeline's last step)."""
    est = final_estimator(estimator)
    check_is_fitted(est)
    history = getattr(est, "history_", None)
    if not isinstance(history, list):
        raise ValueError(
            f"{caller} needs a fitted skmtl estimator (or a Pipeline ending in one) with a "
            f"history_; got {type(est).__name__}."
        )
    if not history:
        raise ValueError(f"{caller}: the estimator's history_ is empty (no epoch was trained).")
    return history


def _value(value: Any, key: str, caller: str) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{caller}: history_ key {key!r} holds {type(value).__name__} values, not numbers; "
            "plot a numeric key."
        ) from None


def history_curves(history: Sequence[Mapping], key: str, caller: str):
    """``(epochs, curves, per_task)`` of one history key.

    ``curves`` maps each name of a per-task key (a dict in the records, such
    as ``task_loss``) to its values by epoch, or ``{key: values}`` for a
    scalar key such as ``train_loss``; an epoch without the key (or the name)
    gives NaN.
    """
    present = [row for row in history if key in row]
    if not present:
        keys = sorted({k for row in history for k in row if k != "epoch"})
        raise ValueError(f"{caller}: no epoch of history_ has {key!r}; the keys are {keys}.")
    epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(history)], dtype=float)
    per_task = isinstance(present[0][key], Mapping)
    if per_task:
        names = list(dict.fromkeys(name for row in present for name in row[key]))
        curves = {
            str(n): np.array([_value(row.get(key, {}).get(n), key, caller) for row in history])
            for n in names
        }
    else:
        curves = {key: np.array([_value(row.get(key), key, caller) for row in history])}
    return epochs, curves, per_task


def check_tasks(tasks, available: Sequence[str], caller: str) -> list[str]:
    """``tasks`` (None: all of ``available``) as a list of names, each one of ``available``."""
    available = [str(t) for t in available]
    if tasks is None:
        return available
    if isinstance(tasks, str) or not isinstance(tasks, Sequence | np.ndarray):
        raise ValueError(f"{caller}: tasks must be None or a list of task names, got {tasks!r}.")
    chosen = [str(t) for t in tasks]
    unknown = [t for t in chosen if t not in available]
    if unknown:
        raise ValueError(f"{caller}: unknown tasks {unknown}; the tasks are {available}.")
    if not chosen:
        raise ValueError(f"{caller}: tasks is empty; choose some of {available}.")
    return chosen
