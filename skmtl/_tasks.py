"""Backwards-compatible names for :mod:`skmtl.tasks` (the task types as objects).

Everything here is a re-export or a thin wrapper over the task objects' methods;
new code should use :mod:`skmtl.tasks` directly.
"""

from __future__ import annotations

import numpy as np

from .tasks import (
    EncodedTarget,
    TargetLayout,
    Task,
    assemble,
    columns_for,
    get_task_type,
    resolve_tasks,
    split_targets,
)
from .tasks import infer_task_type as _infer_task_type
from .tasks import is_label_set as _is_label_set
from .tasks import labels_array as _labels_array

#: The row-level task types of the feature and text estimators (the vocabulary
#: of :class:`~skmtl.MultiTaskEstimator`'s ``tasks``); all types, token-level
#: ones included, are in :data:`skmtl.tasks.TASK_TYPES`.
TASK_TYPES = ("binary", "multiclass", "multilabel", "continuous")
CLASSIFICATION_TYPES = ("binary", "multiclass")

#: The encoded arrays of one task (an alias of :class:`skmtl.tasks.EncodedTarget`).
EncodedTask = EncodedTarget

__all__ = [
    "TASK_TYPES",
    "EncodedTask",
    "TargetLayout",
    "Task",
    "assemble",
    "build_task",
    "columns_for",
    "decode_predictions",
    "encode_task",
    "infer_task_type",
    "resolve_tasks",
    "split_targets",
]

# Old private names that skmtl.model_selection still imports from here.
__all__ += ["_is_label_set", "_labels_array"]


def infer_task_type(name: str, column: np.ndarray) -> str:
    """``skmtl.tasks.infer_task_type(column, name=name)`` (the old argument order)."""
    return _infer_task_type(column, name=name)


def build_task(name: str, task_type: str, column: np.ndarray, columns: list) -> Task:
    """Fit the task object of type ``task_type`` on ``column``."""
    return get_task_type(task_type).from_column(name, column, columns)


def encode_task(task: Task, column, *, check_unseen: bool = False, **context) -> EncodedTarget:
    """``task.encode(column, check_unseen=check_unseen)``."""
    return task.encode(column, check_unseen=check_unseen, **context)


def decode_predictions(task: Task, output: np.ndarray, threshold=0.5, **context):
    """``task.decode(output, threshold=threshold)``."""
    return task.decode(output, threshold=threshold, **context)
