"""Diagnostics of multi-task training: task affinity, task groups, gains over single-task.

* :func:`task_affinity` measures how a gradient step on one task's loss
  changes every other task's loss (inter-task affinity, Fifty et al., 2021).
* :func:`suggest_task_groups` partitions the tasks into groups of high
  mutual affinity.
* :func:`relative_gain` is the multi-task performance measure Δm
  (Maninis et al., 2019; Vandenhende et al., 2021).
* :func:`single_task_baselines` fits one model per task and compares it with
  the multi-task model, task by task.

Per-epoch gradient norms and gradient cosine similarities between tasks are
recorded by the estimators themselves with ``record_gradients=True``.
"""

from ._affinity import suggest_task_groups, task_affinity
from ._gain import relative_gain, single_task_baselines

__all__ = [
    "relative_gain",
    "single_task_baselines",
    "suggest_task_groups",
    "task_affinity",
]
