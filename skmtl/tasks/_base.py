"""The task-type protocol: everything a task's type decides, in one object.

A *task type* is a small class, one file each (``_binary.py``, ``_multiclass.py``,
...). ``fit`` turns the user's column of labels into a fitted task object
(:meth:`TaskType.from_column`); the training engine and the estimators then only
call the methods below, never branch on the type's name. Adding a task type is
one new file that implements this protocol, plus one line in
:data:`skmtl.tasks.TASK_TYPES`.

Levels
------
``level == "row"``: one label (or label set, or value vector) per sample; the
head reads a ``(B, D)`` representation (a text encoder's token vectors are
pooled first). ``level == "token"``: one label per token of a sentence; the head
reads ``(B, T, D)`` token vectors and the batch's ``mask`` ``(B, T)``.

Encoded targets
---------------
:class:`EncodedTarget` holds the training arrays of one task: ``target``
(int64 with -1 where missing, or float32 ``(n, k)``), ``labelled`` (bool, per
row) and, for token-level tasks, ``offsets`` ``(n + 1,)`` of the flat token
array (``target[offsets[i]:offsets[i + 1]]`` are the codes of sentence ``i``).
``take(rows)`` cuts the rows of a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

__all__ = ["EncodedTarget", "TaskType", "token_index"]


def token_index(offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Flat token positions of documents ``rows``, in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    return np.arange(new[-1], dtype=np.int64) + np.repeat(starts - new[:-1], lengths)


@dataclass
class EncodedTarget:
    """Training arrays of one task (see the module docstring)."""

    target: np.ndarray
    labelled: np.ndarray
    offsets: np.ndarray | None = None  # token-level tasks only

    def __len__(self) -> int:
        return int(self.labelled.shape[0])

    def take(self, rows: np.ndarray) -> EncodedTarget:
        rows = np.asarray(rows, dtype=np.int64)
        if self.offsets is None:
            return EncodedTarget(self.target[rows], self.labelled[rows])
        index = token_index(self.offsets, rows)
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        offsets = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return EncodedTarget(self.target[index], self.labelled[rows], offsets)

    def element_weight(self, row_weight: np.ndarray) -> np.ndarray:
        """Per-element loss weight: the row weight times the labelled mask (float32).

        Row-level: one weight per row. Token-level: one per token, the row's weight
        where the token has a label (code >= 0), else 0.
        """
        if self.offsets is None:
            return (row_weight * self.labelled).astype(np.float32)
        per_token = np.repeat(row_weight.astype(np.float32), np.diff(self.offsets))
        return per_token * (self.target >= 0)


@runtime_checkable
class TaskType(Protocol):
    """A fitted task: its label space and everything its type decides.

    Attributes
    ----------
    type : str
        Class attribute: the vocabulary name ("binary", "multiclass", "multilabel", "continuous",
        "token", "token_crf"), shared by estimators and :mod:`skmtl.metrics`.
    level : {"row", "token"}
        Class attribute: whether a label belongs to a row or to each token.
    default_metric : str
        Class attribute: a :func:`skmtl.metrics.task_score` metric name.
    is_classification : bool
        Class attribute: single-label classification (predict_proba gives a distribution).
    name : str
        The task's name (its column of Y).
    columns : list
        The Y columns the task came from (several for a grouped continuous task).
    classes : ndarray or None
    n_outputs : int
        Width of the head's output layer.
    """

    type: ClassVar[str]
    level: ClassVar[str]
    default_metric: ClassVar[str]
    is_classification: ClassVar[bool]
    name: str
    columns: list
    classes: np.ndarray | None
    n_outputs: int

    @classmethod
    def from_column(
        cls, name: str, column: Any, columns: list | None = None, **options
    ) -> TaskType:
        """Learn the label space from a training column (ValueError naming task and row).

        ``columns`` (the Y columns of the task) defaults to ``[name]``.
        """

    def encode(self, column: Any, *, check_unseen: bool = False, **context) -> EncodedTarget:
        """Encode a column; ``check_unseen`` raises on labels never seen in fit.

        Token-level tasks take ``lengths`` (tokens kept per sentence) and
        ``full_lengths`` (tokens before truncation) in ``context``.
        """

    def decode(self, prediction: np.ndarray, *, threshold=0.5, **context) -> Any:
        """Predictions (from :meth:`predict`) back to labels, one cell per row.

        Token-level tasks take ``lengths`` and ``full_lengths`` in ``context``
        (and ``fill``, the tag of tokens cut by truncation).
        """

    def make_head(
        self,
        in_features: int,
        *,
        hidden_layer_sizes: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> nn.Module:
        """A fresh head: ``head(rep)`` (row level) or ``head(rep, mask)`` (token level)."""

    def loss(
        self,
        output: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        *,
        class_weight: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> torch.Tensor:
        """Weighted mean loss over the batch's labelled elements (0 when none).

        ``head``: the module from :meth:`make_head` that gave ``output``; needed
        by a type whose head holds parameters used outside ``forward`` (the
        CRF's transition scores of ``token_crf``), ignored by the others.
        """

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """Head output to NumPy: probabilities, values, or class codes (token tasks).

        ``head`` as in :meth:`loss` (``token_crf`` decodes with its CRF).
        """

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """Resolve a ``class_weight`` spec (None, "balanced", {label: w}) for the loss."""

    def score(
        self,
        encoded: EncodedTarget,
        prediction: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        threshold=0.5,
    ) -> float:
        """The default metric on encoded targets (NaN when nothing is labelled)."""
