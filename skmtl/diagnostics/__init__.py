"""Diagnostics of multi-task training: task affinity, task groups, gains over single-task.

* :func:`task_affinity` measures how a gradient step on one task's loss
  changes every other task's loss (inter-task affinity, Fifty et al., 2021).
* :func:`suggest_task_groups` partitions the tasks into groups of high
  mutual affinity.
* :func:`relative_gain` is the multi-task performance measure Δm
  (Maninis et al., 2019; Vandenhende et al., 2021).
* :func:`single_task_baselines` fits one model per task and compares it with
  the multi-task model, task by task.
* :func:`rank_auxiliary_tasks` ranks candidate auxiliary tasks for a target
  task (lookahead affinity or gradient cosine on held-out target labels), and
  :class:`AuxiliaryTaskSelector` fits the target with the tasks it keeps.

Per-epoch gradient norms and gradient cosine similarities between tasks are
recorded by the estimators themselves with ``record_gradients=True``.
"""

from ._affinity import suggest_task_groups, task_affinity
from ._gain import relative_gain, single_task_baselines
from ._selection import AuxiliaryTaskSelector, rank_auxiliary_tasks

__all__ = [
    "AuxiliaryTaskSelector",
    "rank_auxiliary_tasks",
    "relative_gain",
    "single_task_baselines",
    "suggest_task_groups",
    "task_affinity",
]
