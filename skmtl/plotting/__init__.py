"""Plots of multi-task training and evaluation, as scikit-learn-style Display objects.

Each display stores its data in ``__init__``; ``plot(ax=None, ...)`` draws it
and keeps ``ax_``, ``figure_`` and the artists; the classmethods
``from_estimator`` (and ``from_<precomputed result>``) compute the data and
plot it, and return the display.

================================  ==============================================
:class:`HistoryDisplay`           learning curves of ``history_``, per task
:class:`GradientConflictDisplay`  gradient cosine of each pair of tasks by epoch
                                  (``record_gradients=True``)
:class:`TaskAffinityDisplay`      heat map of
                                  :func:`skmtl.diagnostics.task_affinity`
:class:`RelativeGainDisplay`      Δm bars against single-task models
                                  (:func:`skmtl.diagnostics.single_task_baselines`)
:class:`ParetoFrontDisplay`       the trade-off between tasks of a
                                  weight-conditioned model
                                  (:func:`skmtl.model_selection.pareto_front`)
:class:`SpanScoresDisplay`        span precision / recall / F1 per entity type of
                                  an IOB2 tagging task
================================  ==============================================

matplotlib is an optional dependency (``pip install skmtl[plot]``): it is
imported only when something is drawn, not by ``import skmtl.plotting``.
"""

from ..model_selection import ParetoFrontDisplay
from ._affinity import TaskAffinityDisplay
from ._gain import RelativeGainDisplay
from ._gradients import GradientConflictDisplay
from ._history import HistoryDisplay
from ._spans import SpanScoresDisplay

__all__ = [
    "GradientConflictDisplay",
    "HistoryDisplay",
    "ParetoFrontDisplay",
    "RelativeGainDisplay",
    "SpanScoresDisplay",
    "TaskAffinityDisplay",
]
