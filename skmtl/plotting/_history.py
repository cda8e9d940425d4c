"""Learning curves of a fitted estimator's ``history_``, one line per task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import (
    check_tasks,
    final_estimator,
    fitted_history,
    get_axes,
    history_curves,
    merge_kwargs,
    set_epoch_axis,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["HistoryDisplay"]

#: Axis labels of the history keys the estimators record.
_LABELS = {
    "train_loss": "training loss (weighted sum)",
    "task_loss": "training loss",
    "task_weight": "task weight",
    "task_draws": "rows drawn per epoch",
    "task_valid_score": "validation score",
    "valid_score": "validation score (mean over tasks)",
    "grad_norm": "gradient norm (shared parameters)",
    "dur": "epoch duration (s)",
}


class HistoryDisplay:
    """Learning curves: one history key against the epoch, one line per task.

    It is recommended to create it with :meth:`from_estimator`; the
    constructor only stores its arguments.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        The epoch of each value.
    curves : dict of str to array-like of shape (n_epochs,)
        The values of each line (a task, or the key itself for a key that is
        not per task); NaN where an epoch has no value.
    metric : str, default="task_loss"
        The history key plotted, for the y-axis label.
    best_epoch : int, default=None
        The epoch early stopping restored, marked by a vertical line.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The line of each entry of ``curves``.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at ``best_epoch`` (None without one).
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    GradientConflictDisplay : Gradient cosine similarities between tasks by epoch.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import MultiTaskClassifier
    >>> from skmtl.plotting import HistoryDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(80, 3))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    >>> clf = MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=5, early_stopping=True,
    ...                           random_state=0).fit(X, Y)
    >>> display = HistoryDisplay.from_estimator(clf, metric="task_valid_score")
    >>> sorted(display.lines_)
    ['0', '1']
    >>> display.ax_.get_ylabel()
    'validation score'
    """

    def __init__(
        self,
        epochs: Any,
        curves: Mapping[str, Any],
        *,
        metric: str = "task_loss",
        best_epoch: int | None = None,
    ) -> None:
        self.epochs = epochs
        self.curves = curves
        self.metric = metric
        self.best_epoch = best_epoch

    def plot(
        self,
        ax: Axes | None = None,
        *,
        line_kwargs: dict | None = None,
        best_epoch_kwargs: dict | None = None,
        legend: bool = True,
    ) -> HistoryDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        line_kwargs : dict, default=None
            Passed to every ``Axes.plot`` call (``marker``, ``linewidth``, ...).
        best_epoch_kwargs : dict, default=None
            Passed to the ``Axes.axvline`` of the best epoch.
        legend : bool, default=True
            Add a legend.

        Returns
        -------
        display : HistoryDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        epochs = np.asarray(self.epochs, dtype=float)
        if not isinstance(self.curves, Mapping) or not self.curves:
            raise ValueError("HistoryDisplay: curves must be a non-empty dict of name to values.")
        curves = {str(k): np.asarray(v, dtype=float) for k, v in self.curves.items()}
        for name, values in curves.items():
            if values.shape != epochs.shape:
                raise ValueError(
                    f"HistoryDisplay: curve {name!r} has shape {values.shape}, epochs has "
                    f"{epochs.shape}; give one value per epoch."
                )
        ax, fig = get_axes(ax, "HistoryDisplay.plot")
        kwargs = merge_kwargs({"marker": "o", "markersize": 3}, line_kwargs, "line_kwargs")
        self.lines_ = {}
        for name, values in curves.items():
            (self.lines_[name],) = ax.plot(epochs, values, **{"label": name, **kwargs})
        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            style = {"color": "0.4", "linestyle": "--", "linewidth": 1}
            style["label"] = f"best epoch ({self.best_epoch})"
            self.best_epoch_line_ = ax.axvline(
                self.best_epoch, **merge_kwargs(style, best_epoch_kwargs, "best_epoch_kwargs")
            )
        set_epoch_axis(ax)
        ax.set_ylabel(_LABELS.get(self.metric, self.metric))
        if legend:
            ax.legend()
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        metric: str = "task_loss",
        tasks: Sequence[str] | None = None,
        show_best_epoch: bool = True,
        ax: Axes | None = None,
        line_kwargs: dict | None = None,
        best_epoch_kwargs: dict | None = None,
        legend: bool = True,
    ) -> HistoryDisplay:
        """Plot one key of a fitted estimator's ``history_``.

        Parameters
        ----------
        estimator : fitted skmtl estimator or Pipeline ending in one
            Its ``history_`` is read (a Pipeline's last step's).
        metric : str, default="task_loss"
            The history key: a per-task one (``"task_loss"``,
            ``"task_valid_score"`` with early stopping or
            ``validation_rows``, ``"task_weight"``, ``"grad_norm"`` with
            ``record_gradients=True``, ...) gives one line per task; a scalar
            one (``"train_loss"``, ``"valid_score"``, ``"dur"``) one line.
        tasks : list of str, default=None
            The tasks to draw, for a per-task ``metric`` (None: all).
        show_best_epoch : bool, default=True
            Mark the epoch early stopping restored (``best_epoch_``), if any.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        line_kwargs : dict, default=None
            See :meth:`plot`.
        best_epoch_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : HistoryDisplay

        Raises
        ------
        ValueError
            If no epoch recorded ``metric`` (the message lists the keys that
            were recorded), or ``tasks`` names an unknown task or is given
            for a scalar ``metric``.
        """
        history = fitted_history(estimator, "HistoryDisplay")
        epochs, curves, per_task = history_curves(history, metric, "HistoryDisplay")
        if tasks is not None:
            if not per_task:
                raise ValueError(
                    f"HistoryDisplay: metric {metric!r} is one value per epoch, not per task; "
                    "tasks only applies to per-task keys such as 'task_loss'."
                )
            curves = {t: curves[t] for t in check_tasks(tasks, list(curves), "HistoryDisplay")}
        best = getattr(final_estimator(estimator), "best_epoch_", None) if show_best_epoch else None
        display = cls(epochs, curves, metric=metric, best_epoch=best)
        return display.plot(
            ax=ax, line_kwargs=line_kwargs, best_epoch_kwargs=best_epoch_kwargs, legend=legend
        )
