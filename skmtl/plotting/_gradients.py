"""Gradient conflicts between tasks over training: pairwise cosines by epoch."""

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

__all__ = ["GradientConflictDisplay"]


class GradientConflictDisplay:
    """Cosine similarity of each pair of task gradients against the epoch.

    The cosine between two tasks' gradients on the shared parameters is
    negative when a step for one task raises the other's loss (to first
    order): the tasks *conflict*. The region below 0 is shaded and each
    pair's legend entry gives its share of epochs in conflict. It is
    recommended to create the display with :meth:`from_estimator` on a model
    fitted with ``record_gradients=True``; the constructor only stores its
    arguments.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        The epoch of each value.
    cosines : dict of str to array-like of shape (n_epochs,)
        Each pair's cosine by epoch, keyed ``"a|b"`` as in ``history_``'s
        ``grad_cosine`` (NaN where it is unknown).

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The line of each pair.
    zero_line_ : matplotlib Line2D
        The horizontal line at 0.
    conflict_region_ : matplotlib Polygon or None
        The shading below 0 (None with ``shade_conflicts=False``).
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    HistoryDisplay : Plots ``"grad_norm"`` (and every other history key) by task.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.plotting import GradientConflictDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(80, 3))
    >>> Y = np.column_stack([X[:, 0], -X[:, 0], X[:, 1]])
    >>> reg = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=4, record_gradients=True,
    ...                          random_state=0).fit(X, Y)
    >>> display = GradientConflictDisplay.from_estimator(reg)
    >>> list(display.lines_)
    ['0|1', '0|2', '1|2']
    >>> display.conflict_fraction
    {'0|1': 0.0, '0|2': 1.0, '1|2': 1.0}
    """

    def __init__(self, epochs: Any, cosines: Mapping[str, Any]) -> None:
        self.epochs = epochs
        self.cosines = cosines

    @property
    def conflict_fraction(self) -> dict[str, float]:
        """Each pair's share of epochs (with a known cosine) where the cosine is below 0.

        Returns
        -------
        fraction : dict of str to float
            NaN for a pair without any known cosine.
        """
        out = {}
        for pair, values in self.cosines.items():
            values = np.asarray(values, dtype=float)
            known = values[np.isfinite(values)]
            out[str(pair)] = float(np.mean(known < 0)) if known.size else float("nan")
        return out

    def plot(
        self,
        ax: Axes | None = None,
        *,
        shade_conflicts: bool = True,
        line_kwargs: dict | None = None,
        legend: bool = True,
    ) -> GradientConflictDisplay:
        """Draw one line per pair of tasks.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        shade_conflicts : bool, default=True
            Shade the region of negative cosines.
        line_kwargs : dict, default=None
            Passed to every ``Axes.plot`` call.
        legend : bool, default=True
            Add a legend.

        Returns
        -------
        display : GradientConflictDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        epochs = np.asarray(self.epochs, dtype=float)
        if not isinstance(self.cosines, Mapping) or not self.cosines:
            raise ValueError(
                "GradientConflictDisplay: cosines must be a non-empty dict of pair to values."
            )
        cosines = {str(k): np.asarray(v, dtype=float) for k, v in self.cosines.items()}
        for pair, values in cosines.items():
            if values.shape != epochs.shape:
                raise ValueError(
                    f"GradientConflictDisplay: pair {pair!r} has shape {values.shape}, epochs "
                    f"has {epochs.shape}; give one value per epoch."
                )
        ax, fig = get_axes(ax, "GradientConflictDisplay.plot")
        self.conflict_region_ = None
        if shade_conflicts:
            self.conflict_region_ = ax.axhspan(-1.05, 0, color="tab:red", alpha=0.07, lw=0)
        self.zero_line_ = ax.axhline(0, color="0.3", linewidth=0.8)
        kwargs = merge_kwargs({"marker": "o", "markersize": 3}, line_kwargs, "line_kwargs")
        fractions = self.conflict_fraction
        self.lines_ = {}
        for pair, values in cosines.items():
            label = f"{pair.replace('|', ' vs ')} (conflict in {fractions[pair]:.0%} of epochs)"
            (self.lines_[pair],) = ax.plot(epochs, values, **{"label": label, **kwargs})
        ax.set_ylim(-1.05, 1.05)
        set_epoch_axis(ax)
        ax.set_ylabel("gradient cosine similarity")
        if legend:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        tasks: Sequence[str] | None = None,
        ax: Axes | None = None,
        shade_conflicts: bool = True,
        line_kwargs: dict | None = None,
        legend: bool = True,
    ) -> GradientConflictDisplay:
        """Plot the gradient cosines recorded by ``record_gradients=True``.

        Parameters
        ----------
        estimator : fitted skmtl estimator or Pipeline ending in one
            Fitted with ``record_gradients=True``: every epoch's record of its
            ``history_`` has ``grad_cosine``.
        tasks : list of str, default=None
            Draw only the pairs of these tasks (two or more; None: every pair).
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        shade_conflicts : bool, default=True
            See :meth:`plot`.
        line_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : GradientConflictDisplay

        Raises
        ------
        ValueError
            If the estimator was fitted without ``record_gradients=True``, has
            one task, or ``tasks`` names unknown tasks.
        """
        caller = "GradientConflictDisplay"
        history = fitted_history(estimator, caller)
        if not any("grad_cosine" in row for row in history):
            raise ValueError(
                f"{caller} needs the gradient records of history_ ('grad_cosine'), and this "
                f"{type(final_estimator(estimator)).__name__} was fitted without them: refit it "
                "with record_gradients=True."
            )
        names = [str(t) for t in getattr(final_estimator(estimator), "tasks_", {})]
        if len(names) < 2:
            raise ValueError(f"{caller} needs two or more tasks; the model has {names}.")
        chosen = check_tasks(tasks, names, caller)
        if len(chosen) < 2:
            raise ValueError(f"{caller}: tasks must name two or more tasks, got {chosen}.")
        keep = [t for t in names if t in chosen]
        pairs = [f"{a}|{b}" for i, a in enumerate(keep) for b in keep[i + 1 :]]
        epochs, curves, _ = history_curves(history, "grad_cosine", caller)
        nan = np.full(len(epochs), np.nan)
        display = cls(epochs, {p: curves.get(p, nan) for p in pairs})
        return display.plot(
            ax=ax, shade_conflicts=shade_conflicts, line_kwargs=line_kwargs, legend=legend
        )
