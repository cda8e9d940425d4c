"""Single-label classification (binary and multiclass): one label per cell, softmax head."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.metrics import accuracy_score
from torch import nn
from torch.nn import functional as F

from ..utils import missing_mask
from ._base import EncodedTarget
from ._cells import all_missing_message, as_column, is_label_set, labels_array, scalar
from ._task import Task

__all__ = ["CategoricalTask"]


class CategoricalTask(Task):
    """Shared base of :class:`BinaryTask` and :class:`MulticlassTask`.

    One label per cell, trained with softmax cross-entropy over ``n_classes``
    outputs; :meth:`predict` gives the class probabilities and :meth:`decode`
    their argmax label. :meth:`from_column` returns a :class:`BinaryTask` for
    two classes and a :class:`MulticlassTask` for more, whichever class it is
    called on.
    """

    default_metric: ClassVar[str] = "accuracy"
    is_classification: ClassVar[bool] = True

    @classmethod
    def from_column(
        cls, name: str, column: Any, columns: list | None = None, **options
    ) -> CategoricalTask:
        """Learn the sorted classes (at least 2) of a 1-D column of labels."""
        from ._binary import BinaryTask
        from ._multiclass import MulticlassTask

        column = as_column(column, f"Task {name!r}")
        kind = cls.type or "classification"
        if column.ndim != 1:
            raise ValueError(f"Task {name!r}: a {kind} task needs a 1-D column, got a 2-D block.")
        labelled = ~missing_mask(column)
        if not labelled.any():
            raise ValueError(all_missing_message(name))
        values = _single_labels(name, kind, column[labelled], np.flatnonzero(labelled))
        if values.dtype.kind == "f":
            if not np.all(np.isfinite(values)):
                raise ValueError(f"Input y contains infinity: task {name!r} has non-finite labels.")
            if np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
                # integer labels that pandas or numpy made float (to hold NaN for
                # missing cells, or beside another column that does): the classes,
                # and so the predictions, are int64; encode takes 1 and 1.0 alike.
                # Non-integral floats reach here only when `tasks` names the type
                # (inference calls them continuous): they stay float labels.
                values = values.astype(np.int64)
        classes = np.unique(values)
        if len(classes) < 2:
            raise ValueError(
                f"Task {name!r} has only one class ({scalar(classes[0])!r}) in its labelled rows; "
                "a classification task needs at least 2 classes."
            )
        task_cls = BinaryTask if len(classes) == 2 else MulticlassTask
        return task_cls(name, columns, classes, len(classes))

    def encode(self, column: Any, *, check_unseen: bool = False, **context) -> EncodedTarget:
        """Class codes (int64, -1 where missing); a label never seen in fit always raises."""
        column = as_column(column, f"Task {self.name!r}")
        labelled = ~missing_mask(column)
        rows = np.flatnonzero(labelled)
        target = np.full(len(column), -1, dtype=np.int64)
        values = _single_labels(self.name, self.type, column[labelled], rows)
        try:
            idx = np.clip(np.searchsorted(self.classes, values), 0, len(self.classes) - 1)
            unseen = self.classes[idx] != values
        except TypeError:  # str labels against numeric classes, or the reverse
            idx, unseen = np.zeros(len(values), dtype=int), np.ones(len(values), dtype=bool)
        if np.any(unseen):
            bad = sorted({repr(scalar(v)) for v in values[unseen]})
            raise ValueError(
                f"Task {self.name!r}: labels {', '.join(bad[:5])} were never seen in fit "
                f"(first at row {rows[np.argmax(unseen)]}); known classes: {self.classes.tolist()}."
            )
        target[labelled] = idx
        return EncodedTarget(target, labelled)

    def decode(self, prediction: np.ndarray, *, threshold=0.5, **context) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes[np.argmax(prediction, axis=1)]

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
        """Softmax cross-entropy per row (``class_weight`` per class), weighted mean."""
        per_row = F.cross_entropy(
            output, target.clamp(min=0), weight=class_weight, reduction="none"
        )
        return self.weighted_mean(per_row, weight)

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, float64."""
        return torch.softmax(output, dim=1).detach().to("cpu", torch.float64).numpy()

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """None, ``"balanced"`` (``n / (n_classes * count)``) or ``{label: weight}``."""
        if spec is None:
            return None
        if isinstance(spec, str) and spec == "balanced":
            w = self.balanced_weights(encoded.target[encoded.labelled])
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
        """Accuracy of the argmax class on the labelled rows."""
        labelled = encoded.labelled
        if not labelled.any():
            return float("nan")
        sw = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        pred = np.asarray(prediction)[labelled]
        pred = pred.argmax(axis=1) if pred.ndim == 2 else pred
        return float(accuracy_score(encoded.target[labelled], pred, sample_weight=sw))


def _single_labels(name: str, kind: str, cells: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The labelled cells as a uniform array; a list/tuple/set cell is an error naming its row."""
    if cells.dtype.kind == "O":
        for row, cell in zip(rows, cells, strict=True):
            if is_label_set(cell):
                raise ValueError(
                    f"Task {name!r}, row {row}: a {kind} task takes one label per cell, got a "
                    f"{type(cell).__name__} ({cell!r:.60}); a cell holding several labels "
                    "makes a multilabel task (or, for a tagger, a token-level task)."
                )
    return labels_array(name, cells)
