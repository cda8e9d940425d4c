"""Per-entity-type span precision, recall and F1 of an IOB2 tagging task."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..metrics import span_scores
from ._common import final_estimator, get_axes, merge_kwargs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SpanScoresDisplay"]

_METRICS = ("precision", "recall", "f1")
_SPAN_TASK_TYPES = ("token", "token_crf")


class SpanScoresDisplay:
    """Grouped bars of span precision, recall and F1 per entity type (strict IOB2).

    The scores are those of :func:`skmtl.metrics.span_scores` (seqeval's
    strict mode): a predicted entity counts only if its type, start and end
    all match. Each entity type's tick label gives its support (the number of
    true entities) and a horizontal line the micro-averaged F1. It is
    recommended to create the display with :meth:`from_estimator` or
    :meth:`from_predictions`; the constructor only stores its arguments.

    Parameters
    ----------
    per_type : dict of str to dict
        ``{entity_type: {"precision": p, "recall": r, "f1": f, "support": n}}``,
        the ``per_type`` entry of :func:`skmtl.metrics.span_scores`.
    micro : dict, default=None
        The micro averages (``"precision"``, ``"recall"``, ``"f1"``,
        ``"support"``); its F1 is drawn as a line.
    task_name : str, default=None
        The task, for the title.

    Attributes
    ----------
    bars_ : dict of str to matplotlib BarContainer
        For each metric drawn, one bar per entity type (in the order of
        ``per_type``).
    micro_line_ : matplotlib Line2D or None
        The horizontal line at the micro F1 (None without ``micro`` or with
        ``show_micro=False``).
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    skmtl.metrics.span_scores : Compute the scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmtl.plotting import SpanScoresDisplay
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    >>> display = SpanScoresDisplay.from_predictions(y_true, y_pred)
    >>> [label.get_text() for label in display.ax_.get_xticklabels()]
    ['LOC\\n(n=1)', 'ORG\\n(n=1)', 'PER\\n(n=1)']
    >>> [float(bar.get_height()) for bar in display.bars_["recall"]]
    [0.0, 1.0, 1.0]
    """

    def __init__(
        self,
        per_type: Mapping[str, Mapping[str, float]],
        *,
        micro: Mapping[str, float] | None = None,
        task_name: str | None = None,
    ) -> None:
        self.per_type = per_type
        self.micro = micro
        self.task_name = task_name

    def plot(
        self,
        ax: Axes | None = None,
        *,
        metrics: Sequence[str] = _METRICS,
        show_support: bool = True,
        show_micro: bool = True,
        bar_kwargs: dict | None = None,
        legend: bool = True,
    ) -> SpanScoresDisplay:
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        metrics : list of {"precision", "recall", "f1"}, default=("precision", "recall", "f1")
            The scores drawn, one bar per entity type each.
        show_support : bool, default=True
            Give each type's support in its tick label.
        show_micro : bool, default=True
            Draw the micro-averaged F1 (when ``micro`` is known).
        bar_kwargs : dict, default=None
            Passed to every ``Axes.bar`` call.
        legend : bool, default=True
            Add a legend.

        Returns
        -------
        display : SpanScoresDisplay
            ``self``, with ``ax_``, ``figure_`` and the artists set.
        """
        if isinstance(metrics, str):
            metrics = [metrics]
        metrics = list(metrics)
        bad = [m for m in metrics if m not in _METRICS]
        if bad or not metrics:
            raise ValueError(
                f"SpanScoresDisplay: metrics must be some of {list(_METRICS)}, got {metrics}."
            )
        if not isinstance(self.per_type, Mapping) or not self.per_type:
            raise ValueError(
                "SpanScoresDisplay: no entity type to plot (per_type is empty: neither the "
                "truth nor the predictions have an entity)."
            )
        types = [str(t) for t in self.per_type]
        try:
            values = {m: np.array([float(s[m]) for s in self.per_type.values()]) for m in metrics}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                "SpanScoresDisplay: each per_type entry must be a dict with 'precision', "
                f"'recall' and 'f1' ({exc!r})."
            ) from None
        ax, fig = get_axes(ax, "SpanScoresDisplay.plot")
        position = np.arange(len(types))
        width = 0.8 / len(metrics)
        self.bars_ = {}
        for k, m in enumerate(metrics):
            offset = (k - (len(metrics) - 1) / 2) * width
            style = merge_kwargs({"width": width, "label": m}, bar_kwargs, "bar_kwargs")
            self.bars_[m] = ax.bar(position + offset, values[m], **style)
        labels = types
        if show_support:
            support = [s.get("support") for s in self.per_type.values()]
            labels = [
                t if n is None else f"{t}\n(n={int(n)})"
                for t, n in zip(types, support, strict=True)
            ]
        ax.set_xticks(position, labels)
        self.micro_line_ = None
        if show_micro and self.micro is not None and "f1" in self.micro:
            f1 = float(self.micro["f1"])
            self.micro_line_ = ax.axhline(
                f1, color="0.25", linestyle="--", linewidth=1, label=f"micro F1 = {f1:.3f}"
            )
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("span score")
        ax.set_xlabel("entity type")
        if self.task_name is not None:
            ax.set_title(f"{self.task_name}: strict span scores")
        if legend:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Iterable,
        y_pred: Iterable,
        *,
        task_name: str | None = None,
        ax: Axes | None = None,
        metrics: Sequence[str] = _METRICS,
        show_support: bool = True,
        show_micro: bool = True,
        bar_kwargs: dict | None = None,
        legend: bool = True,
    ) -> SpanScoresDisplay:
        """Score IOB2 tag sequences with :func:`skmtl.metrics.span_scores` and plot them.

        Parameters
        ----------
        y_true : iterable of list of str or None
            The true tags of each sentence (None: unlabelled, skipped).
        y_pred : iterable of list of str
            The predicted tags, of the same lengths.
        task_name : str, default=None
            The task, for the title.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        metrics : list of {"precision", "recall", "f1"}, default=("precision", "recall", "f1")
            See :meth:`plot`.
        show_support : bool, default=True
            See :meth:`plot`.
        show_micro : bool, default=True
            See :meth:`plot`.
        bar_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : SpanScoresDisplay
        """
        scores = span_scores(y_true, y_pred)
        micro = {k: scores[k] for k in ("precision", "recall", "f1", "support")}
        display = cls(scores["per_type"], micro=micro, task_name=task_name)
        return display.plot(
            ax=ax,
            metrics=metrics,
            show_support=show_support,
            show_micro=show_micro,
            bar_kwargs=bar_kwargs,
            legend=legend,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        task: str | None = None,
        ax: Axes | None = None,
        metrics: Sequence[str] = _METRICS,
        show_support: bool = True,
        show_micro: bool = True,
        bar_kwargs: dict | None = None,
        legend: bool = True,
    ) -> SpanScoresDisplay:
        """Predict ``X`` with a fitted tagger and plot one IOB2 task's span scores.

        Parameters
        ----------
        estimator : fitted MultiTaskTagger or Pipeline ending in one
            The tagger.
        X : list of list of str or list of str
            The sentences, as in ``predict``.
        y : dict or DataFrame
            The true tags of every task (or at least of ``task``), keyed by
            task as in ``fit``.
        task : str, default=None
            The IOB2 token task to score (None: the model's only one).
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        metrics : list of {"precision", "recall", "f1"}, default=("precision", "recall", "f1")
            See :meth:`plot`.
        show_support : bool, default=True
            See :meth:`plot`.
        show_micro : bool, default=True
            See :meth:`plot`.
        bar_kwargs : dict, default=None
            See :meth:`plot`.
        legend : bool, default=True
            See :meth:`plot`.

        Returns
        -------
        display : SpanScoresDisplay

        Raises
        ------
        ValueError
            If ``task`` is not an IOB2 token task of the model (or is None and
            the model has none or several), or ``y`` has no column for it.
        """
        final = final_estimator(estimator)
        check_is_fitted(final)
        name, column = _span_task(final, task)
        if not isinstance(y, Mapping | pd.DataFrame):
            raise ValueError(
                "SpanScoresDisplay.from_estimator: y must be a dict or DataFrame keyed by "
                f"task, got {type(y).__name__}."
            )
        key = column if column in y else name
        if key not in y:
            raise ValueError(
                f"SpanScoresDisplay.from_estimator: y has no column for task {name!r}."
            )
        pred = estimator.predict(X)
        return cls.from_predictions(
            list(y[key]),
            list(pred[column]),
            task_name=name,
            ax=ax,
            metrics=metrics,
            show_support=show_support,
            show_micro=show_micro,
            bar_kwargs=bar_kwargs,
            legend=legend,
        )


def _is_iob2(classes: Any) -> bool:
    tags = [str(c) for c in classes]
    return bool(tags) and all(t == "O" or (len(t) > 2 and t[:2] in ("B-", "I-")) for t in tags)


def _span_task(estimator, task: str | None) -> tuple[str, Any]:
    """``(name, column label)`` of the IOB2 token task to score."""
    tasks = getattr(estimator, "tasks_", None)
    if not isinstance(tasks, Mapping):
        raise ValueError(
            "SpanScoresDisplay.from_estimator needs a fitted MultiTaskTagger (or a Pipeline "
            f"ending in one), got {type(estimator).__name__}."
        )
    candidates = [
        name
        for name, t in tasks.items()
        if getattr(t, "type", None) in _SPAN_TASK_TYPES and _is_iob2(t.classes)
    ]
    if task is None:
        if len(candidates) != 1:
            raise ValueError(
                "SpanScoresDisplay.from_estimator: pass task=..., one of the model's IOB2 token "
                f"tasks {candidates}."
                if candidates
                else "SpanScoresDisplay.from_estimator: the model has no IOB2 token task "
                "(tags 'O', 'B-<type>', 'I-<type>')."
            )
        task = candidates[0]
    task = str(task)
    if task not in candidates:
        raise ValueError(
            f"SpanScoresDisplay.from_estimator: {task!r} is not an IOB2 token task of the model; "
            f"its IOB2 token tasks are {candidates} (all tasks: {list(tasks)})."
        )
    return task, tasks[task].columns[0]
