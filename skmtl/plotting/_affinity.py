"""Heat map of the inter-task affinity matrix of :func:`skmtl.diagnostics.task_affinity`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..diagnostics import task_affinity
from ._common import get_axes, merge_kwargs, pipeline_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["TaskAffinityDisplay"]


class TaskAffinityDisplay:
    """Heat map of an inter-task affinity matrix, with the values written in the cells.

    Rows are the source tasks (whose lookahead step is taken), columns the
    target tasks (whose loss is measured), as returned by
    :func:`skmtl.diagnostics.task_affinity`. The diverging colour map is
    centred at 0: blue cells help (the step lowers the target's loss), red
    cells hurt. It is recommended to create the display with
    :meth:`from_estimator` or :meth:`from_affinity`; the constructor only
    stores its arguments.

    Parameters
    ----------
    affinity : array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]``: the affinity of source task ``i`` onto target
        task ``j`` (NaN where unknown).
    task_names : list of str, default=None
        The tasks, in order (None: ``"0"``, ``"1"``, ...).

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The heat map.
    text_ : ndarray of shape (n_tasks, n_tasks) of matplotlib Text, or None
        The cell annotations (None with ``include_values=False``).
    colorbar_ : matplotlib Colorbar or None
        The colour bar (None with ``colorbar=False``).
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    skmtl.diagnostics.task_affinity : Compute the matrix.
    skmtl.diagnostics.suggest_task_groups : Group the tasks by it.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skmtl.plotting import TaskAffinityDisplay
    >>> A = pd.DataFrame([[0.3, 0.2, -0.1], [0.25, 0.3, -0.2], [-0.1, -0.1, 0.4]],
    ...                  index=["a", "b", "c"], columns=["a", "b", "c"])
    >>> display = TaskAffinityDisplay.from_affinity(A)
    >>> display.text_[0, 2].get_text()
    '-0.1'
    >>> display.im_.norm.vmin, display.im_.norm.vmax
    (-0.4, 0.4)
    """

    def __init__(self, affinity: Any, *, task_names: Sequence[str] | None = None) -> None:
        self.affinity = affinity
        self.task_names = task_names

    def plot(
        self,
        ax: Axes | None = None,
        *,
        include_values: bool = True,
        cmap: Any = "RdBu",
        values_format: str | None = None,
        colorbar: bool = True,
        xticks_rotation: str | float = "horizontal",
        im_kw: dict | None = None,
        text_kw: dict | None = None,
    ) -> TaskAffinityDisplay:
        """Draw the heat map.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        include_values : bool, default=True
            Write each cell's value in it.
        cmap : str or matplotlib Colormap, default="RdBu"
            A diverging colour map; its centre is mapped to 0 (the colour
            limits are ``±max|affinity|``).
        values_format : str, default=None
            Format of the cell values (None: ``".2g"``).
        colorbar : bool, default=True
            Add a colour bar.
        xticks_rotation : {"horizontal", "vertical"} or float, default="horizontal"
            Rotation of the column labels.
        im_kw : dict, default=None
            Passed to ``Axes.imshow``.
        text_kw : dict, default=None
            Passed to every ``Axes.text`` call of the cell values.

        Returns
        -------
        display : TaskAffinityDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        A, names = _check_affinity(self.affinity, self.task_names)
        ax, fig = get_axes(ax, "TaskAffinityDisplay.plot")
        finite = np.abs(A[np.isfinite(A)])
        vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        style = {"cmap": cmap, "vmin": -vmax, "vmax": vmax, "interpolation": "nearest"}
        self.im_ = ax.imshow(A, **merge_kwargs(style, im_kw, "im_kw"))
        self.text_ = None
        if include_values:
            fmt = values_format or ".2g"
            k = len(names)
            self.text_ = np.empty((k, k), dtype=object)
            for i in range(k):
                for j in range(k):
                    value = A[i, j]
                    finite_value = np.isfinite(value)
                    strong = finite_value and abs(value) > 0.6 * vmax
                    text = format(value, fmt) if finite_value else "n/a"
                    style = {
                        "ha": "center",
                        "va": "center",
                        "color": "white" if strong else ("black" if finite_value else "0.5"),
                    }
                    self.text_[i, j] = ax.text(
                        j, i, text, **merge_kwargs(style, text_kw, "text_kw")
                    )
        self.colorbar_ = fig.colorbar(self.im_, ax=ax) if colorbar else None
        ax.set(
            xticks=np.arange(len(names)),
            yticks=np.arange(len(names)),
            xticklabels=names,
            yticklabels=names,
            xlabel="target task (loss measured)",
            ylabel="source task (step taken)",
        )
        for label in ax.get_xticklabels():
            label.set_rotation(xticks_rotation)
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_affinity(
        cls,
        affinity: pd.DataFrame | Any,
        *,
        ax: Axes | None = None,
        include_values: bool = True,
        cmap: Any = "RdBu",
        values_format: str | None = None,
        colorbar: bool = True,
        xticks_rotation: str | float = "horizontal",
        im_kw: dict | None = None,
        text_kw: dict | None = None,
    ) -> TaskAffinityDisplay:
        """Plot a precomputed affinity matrix (see :meth:`plot` for the other parameters).

        Parameters
        ----------
        affinity : DataFrame or array-like of shape (n_tasks, n_tasks)
            As returned by :func:`skmtl.diagnostics.task_affinity` (the same
            tasks, in order, as rows and columns); an array's tasks are
            named ``"0"``, ``"1"``, ...
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        include_values : bool, default=True
            See :meth:`plot`.
        cmap : str or matplotlib Colormap, default="RdBu"
            See :meth:`plot`.
        values_format : str, default=None
            See :meth:`plot`.
        colorbar : bool, default=True
            See :meth:`plot`.
        xticks_rotation : {"horizontal", "vertical"} or float, default="horizontal"
            See :meth:`plot`.
        im_kw : dict, default=None
            See :meth:`plot`.
        text_kw : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : TaskAffinityDisplay
        """
        names = None
        if isinstance(affinity, pd.DataFrame):
            if list(map(str, affinity.index)) != list(map(str, affinity.columns)):
                raise ValueError(
                    "TaskAffinityDisplay: the affinity DataFrame must have the same tasks, in "
                    f"order, as rows and columns; got {list(affinity.index)} and "
                    f"{list(affinity.columns)}."
                )
            names = [str(c) for c in affinity.columns]
            affinity = affinity.to_numpy(dtype=float)
        display = cls(affinity, task_names=names)
        return display.plot(
            ax=ax,
            include_values=include_values,
            cmap=cmap,
            values_format=values_format,
            colorbar=colorbar,
            xticks_rotation=xticks_rotation,
            im_kw=im_kw,
            text_kw=text_kw,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        ax: Axes | None = None,
        include_values: bool = True,
        cmap: Any = "RdBu",
        values_format: str | None = None,
        colorbar: bool = True,
        xticks_rotation: str | float = "horizontal",
        im_kw: dict | None = None,
        text_kw: dict | None = None,
        **affinity_kwargs,
    ) -> TaskAffinityDisplay:
        """Measure the affinity with :func:`~skmtl.diagnostics.task_affinity` and plot it.

        Parameters
        ----------
        estimator : skmtl estimator or Pipeline ending in one
            Fitted: the affinity at its parameters; unfitted: averaged over
            the training of a clone (see :func:`~skmtl.diagnostics.task_affinity`).
            A Pipeline's preprocessing steps transform ``X`` first (unfitted
            ones are fitted, on a clone, on ``(X, y)``).
        X : array-like, sparse matrix or list of str
            Inputs, as in ``fit``.
        y : array-like, DataFrame or dict
            Targets of every task, as in ``fit``.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        include_values : bool, default=True
            See :meth:`plot`.
        cmap : str or matplotlib Colormap, default="RdBu"
            See :meth:`plot`.
        values_format : str, default=None
            See :meth:`plot`.
        colorbar : bool, default=True
            See :meth:`plot`.
        xticks_rotation : {"horizontal", "vertical"} or float, default="horizontal"
            See :meth:`plot`.
        im_kw : dict, default=None
            See :meth:`plot`.
        text_kw : dict, default=None
            See :meth:`plot`.
        **affinity_kwargs
            Passed to :func:`~skmtl.diagnostics.task_affinity` (``n_steps``,
            ``lookahead_lr``, ``random_state``).

        Returns
        -------
        display : TaskAffinityDisplay
        """
        final, (Xt,) = pipeline_inputs(estimator, X, y)
        affinity = task_affinity(final, Xt, y, **affinity_kwargs)
        return cls.from_affinity(
            affinity,
            ax=ax,
            include_values=include_values,
            cmap=cmap,
            values_format=values_format,
            colorbar=colorbar,
            xticks_rotation=xticks_rotation,
            im_kw=im_kw,
            text_kw=text_kw,
        )


def _check_affinity(affinity, task_names) -> tuple[np.ndarray, list[str]]:
    """The matrix as a float array and the task names, checked."""
    try:
        A = np.asarray(affinity, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"TaskAffinityDisplay: affinity must be a numeric matrix ({exc})."
        ) from None
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(
            f"TaskAffinityDisplay: affinity must be a non-empty square matrix, got shape {A.shape}."
        )
    names = [str(i) for i in range(A.shape[0])] if task_names is None else list(task_names)
    if len(names) != A.shape[0]:
        raise ValueError(
            f"TaskAffinityDisplay: {len(names)} task_names for a {A.shape[0]}x{A.shape[0]} "
            "affinity matrix."
        )
    return A, [str(n) for n in names]
