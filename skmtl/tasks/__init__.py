"""Task types as objects: one small class per type, one vocabulary for all of skmtl.

Every decision that depends on a task's type lives in its class: inferring
the label space from a training column (:meth:`~Task.from_column`), encoding
and decoding targets, building the head, the masked loss, turning head
outputs into probabilities or codes, class weights and the default metric.
The estimators, the tagger and :mod:`skmtl.metrics` only call these methods
and never branch on a type's name.

``binary``, ``multiclass`` (:class:`BinaryTask`, :class:`MulticlassTask`)
    One label per row; softmax cross-entropy. ``from_column`` picks the class
    by the number of labels (2: binary).
``multilabel`` (:class:`MultilabelTask`)
    A label set (or a 0/1 block row) per row; sigmoid cross-entropy summed over labels.
``continuous`` (:class:`ContinuousTask`)
    A float (or a row of several columns) per row; squared error on z-scores.
``token`` (:class:`TokenTask`)
    A tag list per sentence, one tag per token; mean cross-entropy per labelled token.
``token_crf`` (:class:`TokenCRFTask`)
    As ``token``, with a linear-chain CRF: sentence likelihood, Viterbi decoding.
``generation`` (:class:`GenerationTask`)
    A target text per row (level ``"generation"``): a decoder over the token
    vectors, teacher-forced cross-entropy per subword, greedy or beam decoding.

The protocol
------------
A task type is a subclass of :class:`Task` (see :class:`TaskType` for the
structural protocol) with the class attributes ``type``, ``level``,
``default_metric`` and ``is_classification``, and these methods:

``from_column(name, column, columns=None, **options)`` (class method)
    Learn the label space from a training column; ValueError naming task and row.
``encode(column, *, check_unseen=False, **context)``
    An :class:`EncodedTarget` (``target``, per-row ``labelled``, ``offsets``
    for token-level tasks, which take ``lengths`` and ``full_lengths``).
``make_head(in_features, *, hidden_layer_sizes=(), activation="relu", dropout=0.0)``
    A fresh ``nn.Module``: ``head(rep)`` (row level) or ``head(rep, mask)``.
``loss(output, target, weight, *, class_weight=None, mask=None, head=None)``
    Weighted mean over the labelled elements, exactly 0 when there are none.
``predict(output, *, mask=None, head=None)``
    Head output to NumPy: probabilities, values, or class codes.
``decode(prediction, *, threshold=0.5, **context)``
    Predictions back to the user's labels, one cell per row.
``class_weights(spec, encoded)``
    Resolve a ``class_weight`` spec.
``score(encoded, prediction, *, sample_weight=None, threshold=0.5)``
    The default metric on encoded targets.

Adding a task type
------------------
One new class, plus one line in :data:`TASK_TYPES`. An ordinal-regression
type, for instance, predicts ``K - 1`` cumulative probabilities
``P(y > classes[k])`` and decodes the number of them above the threshold:

>>> import numpy as np
>>> import torch
>>> from torch.nn import functional as F
>>> from skmtl.tasks import TASK_TYPES, EncodedTarget, Task, get_task_type
>>> class OrdinalTask(Task):
...     '''Ordered classes; output k is the logit of P(y > classes[k]).'''
...     type, default_metric = "ordinal", "accuracy"
...
...     @classmethod
...     def from_column(cls, name, column, columns=None, **options):
...         values = np.asarray(column, dtype=float)
...         classes = np.unique(values[~np.isnan(values)])
...         return cls(name, columns, classes, len(classes) - 1)
...
...     def encode(self, column, *, check_unseen=False, **context):
...         values = np.asarray(column, dtype=float)
...         labelled = ~np.isnan(values)
...         rank = np.searchsorted(self.classes, np.where(labelled, values, self.classes[0]))
...         target = (rank[:, None] > np.arange(self.n_outputs)).astype(np.float32)
...         return EncodedTarget(target, labelled)
...
...     def loss(self, output, target, weight, *, class_weight=None, mask=None, head=None):
...         per_row = F.binary_cross_entropy_with_logits(output, target, reduction="none")
...         return self.weighted_mean(per_row.sum(dim=1), weight)
...
...     def predict(self, output, *, mask=None, head=None):
...         return torch.sigmoid(output).detach().double().numpy()
...
...     def decode(self, prediction, *, threshold=0.5, **context):
...         return self.classes[(prediction >= threshold).sum(axis=1)]
...
...     def score(self, encoded, prediction, *, sample_weight=None, threshold=0.5):
...         ok = encoded.labelled
...         rank = (prediction[ok] >= threshold).sum(axis=1)
...         return float(np.mean(rank == encoded.target[ok].sum(axis=1)))
>>> TASK_TYPES["ordinal"] = OrdinalTask
>>> stars = [1, 3, np.nan, 2, 3]
>>> task = get_task_type("ordinal").from_column("stars", stars)
>>> task
OrdinalTask(name='stars', columns=['stars'], classes=[1.0, 2.0, 3.0], n_outputs=2)
>>> enc = task.encode(stars)
>>> enc.target.tolist()
[[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
>>> head = task.make_head(4)  # the default: a TaskHead with n_outputs outputs
>>> _ = torch.manual_seed(0)
>>> output = head(torch.randn(5, 4))
>>> weight = torch.from_numpy(enc.element_weight(np.ones(5)))
>>> bool(task.loss(output, torch.from_numpy(enc.target), weight) > 0)
True
>>> task.decode(np.array([[0.9, 0.2], [0.9, 0.8]])).tolist()
[2.0, 3.0]
>>> del TASK_TYPES["ordinal"]  # (the example leaves the registry as it was)
"""

from __future__ import annotations

from ._base import EncodedTarget, TaskType, token_index
from ._binary import BinaryTask
from ._categorical import CategoricalTask
from ._cells import is_label_set, labels_array
from ._continuous import ContinuousTask
from ._generation import GenerationTask, check_texts_column
from ._infer import infer_task_type
from ._multiclass import MulticlassTask
from ._multilabel import MultilabelTask
from ._targets import TargetLayout, assemble, columns_for, resolve_tasks, split_targets
from ._task import Task
from ._token import TokenHead, TokenTask
from ._token_crf import TokenCRFHead, TokenCRFTask

__all__ = [
    "ROW_TASK_TYPES",
    "TASK_TYPES",
    "BinaryTask",
    "CategoricalTask",
    "ContinuousTask",
    "EncodedTarget",
    "GenerationTask",
    "MulticlassTask",
    "MultilabelTask",
    "TargetLayout",
    "Task",
    "TaskType",
    "TokenCRFHead",
    "TokenCRFTask",
    "TokenHead",
    "TokenTask",
    "assemble",
    "check_texts_column",
    "columns_for",
    "get_task_type",
    "infer_task_type",
    "is_label_set",
    "labels_array",
    "resolve_tasks",
    "split_targets",
    "token_index",
]

#: Every task type by name: the one vocabulary of estimators, tagger and metrics.
TASK_TYPES: dict[str, type[Task]] = {
    "binary": BinaryTask,
    "multiclass": MulticlassTask,
    "multilabel": MultilabelTask,
    "continuous": ContinuousTask,
    "token": TokenTask,
    "token_crf": TokenCRFTask,
    "generation": GenerationTask,
}

#: The row-level types (one label, label set or value vector per sample), which
#: the feature-based estimators accept.
ROW_TASK_TYPES = ("binary", "multiclass", "multilabel", "continuous")


def get_task_type(name: str) -> type[Task]:
    """The task class registered in :data:`TASK_TYPES` under ``name``.

    Examples
    --------
    >>> from skmtl.tasks import get_task_type
    >>> get_task_type("multilabel").__name__
    'MultilabelTask'
    """
    try:
        return TASK_TYPES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown task type {name!r}; expected one of {list(TASK_TYPES)}."
        ) from None
