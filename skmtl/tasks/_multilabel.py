"""Multilabel classification: a set of labels per cell, one sigmoid output per label."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn
from torch.nn import functional as F

from ..utils import is_missing, missing_mask
from ._base import EncodedTarget
from ._cells import all_missing_message, as_column, is_label_set, scalar
from ._task import Task

__all__ = ["MultilabelTask"]


class MultilabelTask(Task):
    """Each cell is a list / tuple / set of labels, or a row of a 2-D 0/1 block.

    An empty cell (``()``) is the label set "none of them", not a missing
    label. Trained with binary cross-entropy summed over the labels (the
    negative log-likelihood of the row's label set); :meth:`predict` gives
    per-label probabilities and :meth:`decode` the labels at or above the
    threshold (a float, or one per label).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import MultilabelTask
    >>> task = MultilabelTask.from_column("tags", [("b", "a"), None, (), ["c"]])
    >>> task
    MultilabelTask(name='tags', columns=['tags'], classes=['a', 'b', 'c'], n_outputs=3)
    >>> task.encode([("b", "a"), None]).target
    array([[1., 1., 0.],
           [0., 0., 0.]], dtype=float32)
    >>> task.decode(np.array([[0.9, 0.2, 0.6]]), threshold=[0.5, 0.5, 0.7]).tolist()
    [('a',)]
    """

    type: ClassVar[str] = "multilabel"
    default_metric: ClassVar[str] = "f1_macro"

    @classmethod
    def from_column(
        cls, name: str, column: Any, columns: list | None = None, **options
    ) -> MultilabelTask:
        """The sorted labels of label-set cells, or the column indices of a 0/1 block."""
        column = as_column(column, f"Task {name!r}")
        labelled_mask = ~missing_mask(column)
        labelled = column[labelled_mask]
        if len(labelled) == 0:
            raise ValueError(all_missing_message(name))
        if column.ndim == 2:
            values = labelled.astype(np.float64)
            if not np.all(np.isin(values, (0, 1))):
                raise ValueError(f"Task {name!r}: a multilabel block must hold only 0 and 1.")
            return cls(name, columns, np.arange(column.shape[1]), column.shape[1], block=True)
        seen: set = set()
        for row, cell in zip(np.flatnonzero(labelled_mask), labelled, strict=True):
            seen.update(_label_set(name, row, cell))
        if not seen:
            raise ValueError(f"Task {name!r}: no row has any label; nothing to learn.")
        try:
            classes = np.array(sorted(seen))
        except TypeError:
            raise ValueError(f"Task {name!r}: labels mix types and cannot be sorted.") from None
        return cls(name, columns, classes, len(classes))

    def encode(self, column: Any, *, check_unseen: bool = False, **context) -> EncodedTarget:
        """A float32 0/1 matrix ``(n, n_labels)``; labels unseen in fit are dropped
        (or raise with ``check_unseen``)."""
        column = as_column(column, f"Task {self.name!r}")
        labelled = ~missing_mask(column)
        target = np.zeros((len(column), self.n_outputs), dtype=np.float32)
        if self.block:
            target[labelled] = column[labelled].astype(np.float32)
            return EncodedTarget(target, labelled)
        index = {label: j for j, label in enumerate(self.classes.tolist())}
        for row in np.flatnonzero(labelled):
            for label in _label_set(self.name, row, column[row]):
                j = index.get(scalar(label))
                if j is None:
                    if check_unseen:
                        raise ValueError(
                            f"Task {self.name!r}, row {row}: label {label!r} was never seen in "
                            f"fit; known labels: {self.classes.tolist()}."
                        )
                    continue  # a label the model cannot predict adds no training signal
                target[row, j] = 1.0
        return EncodedTarget(target, labelled)

    def decode(
        self, prediction: np.ndarray, *, threshold=0.5, min_labels: int = 0, **context
    ) -> np.ndarray:
        """Tuples of the labels at or above ``threshold`` (0/1 rows for a block task).

        ``min_labels``: a row with fewer labels over the threshold gets its
        ``min_labels`` most probable labels instead (1: never an empty set).
        """
        on = prediction >= np.asarray(threshold, dtype=np.float64)
        k = min(int(min_labels), prediction.shape[1]) if prediction.ndim == 2 else 0
        if k > 0:
            short = on.sum(axis=1) < k
            if short.any():
                top = np.argsort(-prediction[short], axis=1, kind="stable")[:, :k]
                fill = np.zeros_like(on[short])
                np.put_along_axis(fill, top, True, axis=1)
                on[short] = fill
        if self.block:
            return on.astype(np.int64)
        out = np.empty(len(prediction), dtype=object)
        labels = self.classes.tolist()
        out[:] = [tuple(labels[j] for j in np.flatnonzero(row)) for row in on]
        return out

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
        """Sigmoid cross-entropy summed over labels (``class_weight``: pos_weight), weighted mean.

        Summed, not averaged, over labels (as sklearn's MLPClassifier), so that a
        28-label task does not weigh as little as a 4-label one.
        """
        per_row = F.binary_cross_entropy_with_logits(
            output, target, pos_weight=class_weight, reduction="none"
        ).sum(dim=1)
        return self.weighted_mean(per_row, weight)

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """Per-label probabilities ``(n, n_labels)``, float64."""
        return torch.sigmoid(output).detach().to("cpu", torch.float64).numpy()

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """Per-label ``pos_weight``: None, ``"balanced"`` (negatives / positives) or a dict."""
        if spec is None:
            return None
        if isinstance(spec, str) and spec == "balanced":
            pos = encoded.target[encoded.labelled].sum(axis=0)
            neg = encoded.labelled.sum() - pos
            w = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
        else:
            w = self.label_weights(spec)
        return np.asarray(w, dtype=np.float32)

    def score(
        self,
        encoded: EncodedTarget,
        prediction: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        threshold=0.5,
    ) -> float:
        """Macro F1 over the labels that are true or predicted in the labelled rows."""
        labelled = encoded.labelled
        if not labelled.any():
            return float("nan")
        sw = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        truth = encoded.target[labelled] > 0.5
        pred = np.asarray(prediction)[labelled] >= np.asarray(threshold)
        keep = truth.any(axis=0) | pred.any(axis=0)
        if not keep.any():
            return 1.0  # nothing true and nothing predicted: all correct
        return float(
            f1_score(
                truth[:, keep], pred[:, keep], average="macro", zero_division=0, sample_weight=sw
            )
        )


def _label_set(name: str, row: int, cell: object):
    """The labels of one labelled cell; a scalar cell or a missing label in it raises."""
    if not is_label_set(cell):
        raise ValueError(
            f"Task {name!r}, row {row}: a multilabel cell must be a list, tuple or "
            f"set of labels (or missing), got {cell!r}."
        )
    labels = list(cell)
    for label in labels:
        if is_missing(label):
            raise ValueError(
                f"Task {name!r}, row {row}: the label set {cell!r} holds a missing value "
                f"({label!r}), which is no label; drop it, or make the whole cell None if "
                "the row is not labelled."
            )
    return labels
