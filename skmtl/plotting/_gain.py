"""Relative multi-task gain Δm: one bar per task against its single-task model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..diagnostics import relative_gain, single_task_baselines
from ._common import get_axes, merge_kwargs, pipeline_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["RelativeGainDisplay"]


class RelativeGainDisplay:
    """Horizontal bars of each task's relative gain over its single-task model, in %.

    ``Δ_t = (-1)^{l_t} (M_mtl - M_st) / |M_st|`` is positive when the
    multi-task model beats the single-task one on task ``t`` (whatever the
    metric's direction); ``Δm``, drawn as a vertical line, is its mean over
    the tasks (Maninis et al., 2019). Bars are coloured by sign. It is
    recommended to create the display with :meth:`from_estimator`,
    :meth:`from_scores` or :meth:`from_gain`; the constructor only stores its
    arguments.

    Parameters
    ----------
    gains : dict of str to float
        Each task's ``Δ_t`` as a fraction (0.05 is +5 %); NaN where unknown.
    delta_m : float, default=None
        ``Δm`` as a fraction (None: the mean of ``gains``).
    metrics : dict of str to str, default=None
        Each task's metric, for the tick labels ``<task> (<metric>)``.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        One bar per task, in the order of ``gains`` from the top.
    texts_ : list of matplotlib Text
        The value written at the end of each bar (empty with ``show_values=False``).
    delta_m_line_ : matplotlib Line2D or None
        The vertical line at ``Δm`` (None when ``Δm`` is NaN).
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    skmtl.diagnostics.relative_gain : Compute Δm from scores.
    skmtl.diagnostics.single_task_baselines : Fit and score the single-task models.

    References
    ----------
    K.-K. Maninis, I. Radosavovic, I. Kokkinos. "Attentive Single-Tasking of
    Multiple Tasks". CVPR 2019.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmtl.plotting import RelativeGainDisplay
    >>> display = RelativeGainDisplay.from_scores(
    ...     {"topic": 0.90, "rmse": 0.80}, {"topic": 0.80, "rmse": 1.00},
    ...     higher_is_better={"topic": True, "rmse": False})
    >>> [round(float(bar.get_width()), 1) for bar in display.bars_]
    [12.5, 20.0]
    >>> round(float(display.delta_m_line_.get_xdata()[0]), 2)
    16.25
    """

    def __init__(
        self,
        gains: Mapping[str, float],
        *,
        delta_m: float | None = None,
        metrics: Mapping[str, str] | None = None,
    ) -> None:
        self.gains = gains
        self.delta_m = delta_m
        self.metrics = metrics

    def plot(
        self,
        ax: Axes | None = None,
        *,
        colors: tuple[Any, Any] = ("tab:green", "tab:red"),
        show_values: bool = True,
        bar_kwargs: dict | None = None,
        delta_m_kwargs: dict | None = None,
        legend: bool = True,
    ) -> RelativeGainDisplay:
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        colors : (color, color), default=("tab:green", "tab:red")
            The colours of gains (Δ_t >= 0) and losses (Δ_t < 0).
        show_values : bool, default=True
            Write each bar's value (in %) at its end.
        bar_kwargs : dict, default=None
            Passed to ``Axes.barh``.
        delta_m_kwargs : dict, default=None
            Passed to the ``Axes.axvline`` of Δm.
        legend : bool, default=True
            Add a legend (the Δm line).

        Returns
        -------
        display : RelativeGainDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        if not isinstance(self.gains, Mapping) or not self.gains:
            raise ValueError("RelativeGainDisplay: gains must be a non-empty dict of task to Δ_t.")
        if not (isinstance(colors, tuple | list) and len(colors) == 2):
            raise ValueError(f"RelativeGainDisplay: colors must be two colours, got {colors!r}.")
        tasks = [str(t) for t in self.gains]
        try:
            pct = 100 * np.array([float(v) for v in self.gains.values()])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"RelativeGainDisplay: gains must be numbers ({exc}).") from None
        delta_m = float(np.mean(pct / 100) if self.delta_m is None else self.delta_m)
        ax, fig = get_axes(ax, "RelativeGainDisplay.plot")
        position = np.arange(len(tasks))
        style = {"color": [colors[0] if not v < 0 else colors[1] for v in pct], "height": 0.6}
        self.bars_ = ax.barh(position, pct, **merge_kwargs(style, bar_kwargs, "bar_kwargs"))
        ax.axvline(0, color="0.2", linewidth=0.8)
        self.delta_m_line_ = None
        if np.isfinite(delta_m):
            style = {"color": "0.25", "linestyle": "--", "label": f"Δm = {100 * delta_m:+.2f} %"}
            self.delta_m_line_ = ax.axvline(
                100 * delta_m, **merge_kwargs(style, delta_m_kwargs, "delta_m_kwargs")
            )
        self.texts_ = []
        if show_values:
            for y, v in zip(position, pct, strict=True):
                if np.isfinite(v):
                    text = ax.annotate(
                        f"{v:+.1f} %",
                        (v, y),
                        xytext=(4 if v >= 0 else -4, 0),
                        textcoords="offset points",
                        ha="left" if v >= 0 else "right",
                        va="center",
                        fontsize="small",
                    )
                    self.texts_.append(text)
        metrics = dict(self.metrics or {})
        labels = [f"{t} ({metrics[t]})" if metrics.get(t) else t for t in tasks]
        ax.set_yticks(position, labels)
        ax.set_ylim(len(tasks) - 0.5, -0.5)  # the first task on top
        finite = np.abs(pct[np.isfinite(pct)])
        span = 1.3 * float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        ax.set_xlim(min(-span, ax.get_xlim()[0]), max(span, ax.get_xlim()[1]))
        ax.set_xlabel("relative gain of the multi-task model over single-task (%)")
        if legend and self.delta_m_line_ is not None:
            ax.legend(loc="best")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_gain(
        cls,
        gain: Mapping[str, Any] | pd.DataFrame,
        *,
        metrics: Mapping[str, str] | None = None,
        ax: Axes | None = None,
        colors: tuple[Any, Any] = ("tab:green", "tab:red"),
        show_values: bool = True,
        bar_kwargs: dict | None = None,
        delta_m_kwargs: dict | None = None,
        legend: bool = True,
    ) -> RelativeGainDisplay:
        """Plot a precomputed gain.

        Parameters
        ----------
        gain : dict or DataFrame
            The dict of :func:`~skmtl.diagnostics.relative_gain`
            (``{"delta_m": ..., "per_task": {task: Δ_t}}``) or the report of
            :func:`~skmtl.diagnostics.single_task_baselines` (its
            ``relative_gain`` column, its ``metric`` column for the labels
            and its ``attrs["delta_m"]``).
        metrics : dict of str to str, default=None
            Each task's metric, for the labels (default: a report's ``metric``
            column; none for a dict).
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        colors : (color, color), default=("tab:green", "tab:red")
            See :meth:`plot`.
        show_values : bool, default=True
            See :meth:`plot`.
        bar_kwargs : dict, default=None
            See :meth:`plot`.
        delta_m_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : RelativeGainDisplay
        """
        if isinstance(gain, pd.DataFrame):
            if "relative_gain" not in gain.columns:
                raise ValueError(
                    "RelativeGainDisplay.from_gain: the DataFrame has no 'relative_gain' column; "
                    "give the report of skmtl.diagnostics.single_task_baselines, got columns "
                    f"{list(gain.columns)}."
                )
            gains = {str(t): float(v) for t, v in gain["relative_gain"].items()}
            delta_m = gain.attrs.get("delta_m")
            if metrics is None and "metric" in gain.columns:
                metrics = {str(t): str(m) for t, m in gain["metric"].items()}
        elif isinstance(gain, Mapping) and isinstance(gain.get("per_task"), Mapping):
            gains = {str(t): float(v) for t, v in gain["per_task"].items()}
            delta_m = gain.get("delta_m")
        else:
            raise ValueError(
                "RelativeGainDisplay.from_gain needs the dict of relative_gain "
                "({'delta_m': ..., 'per_task': {...}}) or the DataFrame of "
                f"single_task_baselines, got {type(gain).__name__}."
            )
        display = cls(gains, delta_m=delta_m, metrics=metrics)
        return display.plot(
            ax=ax,
            colors=colors,
            show_values=show_values,
            bar_kwargs=bar_kwargs,
            delta_m_kwargs=delta_m_kwargs,
            legend=legend,
        )

    @classmethod
    def from_scores(
        cls,
        mtl_scores: Mapping[str, float] | pd.Series,
        single_task_scores: Mapping[str, float] | pd.Series,
        *,
        higher_is_better: bool | Mapping[str, bool] | None = None,
        metrics: Mapping[str, str] | None = None,
        ax: Axes | None = None,
        colors: tuple[Any, Any] = ("tab:green", "tab:red"),
        show_values: bool = True,
        bar_kwargs: dict | None = None,
        delta_m_kwargs: dict | None = None,
        legend: bool = True,
    ) -> RelativeGainDisplay:
        """Plot the gain of precomputed per-task scores.

        Parameters
        ----------
        mtl_scores : dict or Series
            The multi-task model's score of each task.
        single_task_scores : dict or Series
            The single-task models' scores (the same tasks).
        higher_is_better : bool or dict, default=None
            As in :func:`~skmtl.diagnostics.relative_gain` (None: True).
        metrics : dict of str to str, default=None
            Each task's metric, for the labels.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        colors : (color, color), default=("tab:green", "tab:red")
            See :meth:`plot`.
        show_values : bool, default=True
            See :meth:`plot`.
        bar_kwargs : dict, default=None
            See :meth:`plot`.
        delta_m_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : RelativeGainDisplay
        """
        gain = relative_gain(mtl_scores, single_task_scores, higher_is_better)
        return cls.from_gain(
            gain,
            metrics=metrics,
            ax=ax,
            colors=colors,
            show_values=show_values,
            bar_kwargs=bar_kwargs,
            delta_m_kwargs=delta_m_kwargs,
            legend=legend,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X_train,
        y_train,
        X_test,
        y_test,
        *,
        metrics: str | Mapping[str, str] | None = None,
        ax: Axes | None = None,
        colors: tuple[Any, Any] = ("tab:green", "tab:red"),
        show_values: bool = True,
        bar_kwargs: dict | None = None,
        delta_m_kwargs: dict | None = None,
        legend: bool = True,
    ) -> RelativeGainDisplay:
        """Fit the multi-task and single-task models and plot the gain on the test data.

        Runs :func:`~skmtl.diagnostics.single_task_baselines`: a clone of
        ``estimator`` on every task, and one per task, each scored on
        ``(X_test, y_test)``. To print its table too, call it and pass the
        report to :meth:`from_gain`.

        Parameters
        ----------
        estimator : skmtl estimator or Pipeline ending in one
            The configuration to fit (cloned, never fitted itself). A
            Pipeline's preprocessing steps are fitted once (on a clone, on
            the training data, unless already fitted) and shared by every model.
        X_train : array-like, sparse matrix or list of str
            Training inputs.
        y_train : 2-D array, DataFrame or dict
            Training targets of two or more tasks.
        X_test : array-like, sparse matrix or list of str
            Test inputs.
        y_test : 2-D array, DataFrame or dict
            Test targets, in the layout of ``y_train``.
        metrics : str or dict, default=None
            The metric of every task or a dict by task (None: each task's
            default metric).
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        colors : (color, color), default=("tab:green", "tab:red")
            See :meth:`plot`.
        show_values : bool, default=True
            See :meth:`plot`.
        bar_kwargs : dict, default=None
            See :meth:`plot`.
        delta_m_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : RelativeGainDisplay
        """
        final, (Xt, Xt_test) = pipeline_inputs(estimator, X_train, y_train, X_test)
        report = single_task_baselines(final, Xt, y_train, Xt_test, y_test, metrics)
        return cls.from_gain(
            report,
            ax=ax,
            colors=colors,
            show_values=show_values,
            bar_kwargs=bar_kwargs,
            delta_m_kwargs=delta_m_kwargs,
            legend=legend,
        )
