"""The concrete base class of every task type, and helpers the types share."""

from __future__ import annotations

import abc
import copy
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..heads import TaskHead
from ._base import EncodedTarget

__all__ = ["Task"]

_REPR_CLASSES = 10


class Task(abc.ABC):
    """A fitted task: its label space and everything its type decides.

    Subclasses set the class attributes and implement :meth:`from_column`,
    :meth:`encode`, :meth:`decode`, :meth:`loss` and :meth:`score`; the
    defaults of :meth:`make_head`, :meth:`predict` and :meth:`class_weights`
    suit a row-level task whose head output needs no transformation. See
    :class:`skmtl.tasks.TaskType` for the protocol.

    Parameters
    ----------
    name : str
        Task name (the DataFrame column or dict key; ``"0"``, ``"1"``, ... for
        arrays).
    columns : list
        The Y columns the task came from (several for a grouped continuous task).
    classes : ndarray or None
        The labels, sorted; None for a continuous task.
    n_outputs : int
        Width of the head's output layer.
    block : bool, default=False
        Whether the task came from a 2-D block (a dict value).

    Attributes
    ----------
    type : str
        The task type's name in :data:`skmtl.tasks.TASK_TYPES`.
    level : {"row", "token"}
        ``"row"``: ``head(rep)`` on ``(B, D)``; ``"token"``: ``head(rep, mask)``
        on ``(B, T, D)`` token vectors.
    default_metric : str
        A :func:`skmtl.metrics.task_score` metric name.
    is_classification : bool
        Single-label row classification (``predict_proba`` gives a distribution).
    """

    type: ClassVar[str] = ""
    level: ClassVar[str] = "row"
    default_metric: ClassVar[str] = ""
    is_classification: ClassVar[bool] = False

    def __init__(
        self,
        name: str,
        columns: Sequence | None,
        classes: np.ndarray | None,
        n_outputs: int,
        *,
        block: bool = False,
    ) -> None:
        self.name = str(name)
        self.columns = [name] if columns is None else list(columns)
        self.classes = classes
        self.n_outputs = int(n_outputs)
        self.block = bool(block)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"columns={self.columns!r}"]
        if self.classes is not None:
            shown = np.asarray(self.classes)[:_REPR_CLASSES].tolist()
            more = ", ..." if len(self.classes) > _REPR_CLASSES else ""
            parts.append(f"classes={str(shown)[:-1]}{more}]")
        parts.append(f"n_outputs={self.n_outputs}")
        if self.block:
            parts.append("block=True")
        return f"{type(self).__name__}({', '.join(parts)})"

    # ------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        """The fitted task as plain fields: ``{"type": ..., <attribute>: value, ...}``.

        Every instance attribute (name, columns, classes, n_outputs, block and
        a type's own, such as ``mean`` / ``scale`` or ``majority``), unchanged:
        :func:`skmtl.save` writes the values as JSON. :meth:`from_dict` is the
        inverse.

        Examples
        --------
        >>> from skmtl.tasks import BinaryTask
        >>> fields = BinaryTask.from_column("spam", ["yes", "no"]).to_dict()
        >>> fields["type"], fields["classes"].tolist(), fields["n_outputs"]
        ('binary', ['no', 'yes'], 2)
        >>> BinaryTask.from_dict(fields)
        BinaryTask(name='spam', columns=['spam'], classes=['no', 'yes'], n_outputs=2)
        """
        return {"type": self.type, **{k: copy.copy(v) for k, v in vars(self).items()}}

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> Task:
        """The task of :meth:`to_dict`'s fields, as fitted (nothing is re-learned).

        Raises a ValueError when ``fields`` is of another type or lacks a field
        that the type's constructor takes.
        """
        fields = dict(fields)
        kind = fields.pop("type", None)
        if kind != cls.type:
            raise ValueError(f"{cls.__name__}.from_dict needs type {cls.type!r}, got {kind!r}.")
        required = {"name", "columns", "classes", "n_outputs", "block"}
        required |= set(inspect.signature(cls.__init__).parameters) - {"self"}
        missing = sorted(required - set(fields))
        if missing:
            raise ValueError(f"A saved {kind!r} task lacks the fields {missing}.")
        task = cls.__new__(cls)
        task.__dict__.update(fields)
        return task

    # ------------------------------------------------------------ the protocol

    @classmethod
    @abc.abstractmethod
    def from_column(cls, name: str, column: Any, columns: list | None = None, **options) -> Task:
        """Learn the label space from a training column (ValueError naming task and row).

        ``columns`` defaults to ``[name]``. Options a type does not know are ignored,
        so that a caller can pass the same options to every type.
        """

    @abc.abstractmethod
    def encode(self, column: Any, *, check_unseen: bool = False, **context) -> EncodedTarget:
        """Encode a column; ``check_unseen`` raises on labels never seen in fit."""

    @abc.abstractmethod
    def decode(self, prediction: np.ndarray, *, threshold=0.5, **context) -> Any:
        """Predictions (from :meth:`predict`) back to labels, one cell per row."""

    def make_head(
        self,
        in_features: int,
        *,
        hidden_layer_sizes: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> nn.Module:
        """A fresh :class:`skmtl.heads.TaskHead` with ``n_outputs`` outputs: ``head(rep)``."""
        return TaskHead(in_features, self.n_outputs, tuple(hidden_layer_sizes), activation, dropout)

    @abc.abstractmethod
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
        """Weighted mean loss over the batch's labelled elements (0 when none)."""

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """The head output as float64 NumPy (no transformation)."""
        return output.detach().to("cpu", torch.float64).numpy()

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """None: this type takes no class weights (any ``spec`` is ignored)."""
        return None

    @abc.abstractmethod
    def score(
        self,
        encoded: EncodedTarget,
        prediction: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        threshold=0.5,
    ) -> float:
        """The default metric on encoded targets (NaN when nothing is labelled)."""

    # ------------------------------------------------------------ helpers

    @staticmethod
    def weighted_mean(per_element: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``sum(loss * weight) / sum(weight)``; exactly 0 (zero gradient) when no weight."""
        total = weight.sum()
        # clamp: an unlabelled batch gives 0 / tiny = 0, with zero gradient.
        return (per_element * weight).sum() / total.clamp(min=torch.finfo(total.dtype).tiny)

    def label_weights(self, spec: Any) -> np.ndarray:
        """Weights of ``classes`` from a ``{label: weight}`` dict (absent labels: 1)."""
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"class_weight for task {self.name!r} must be None, 'balanced' or a dict "
                f"{{label: weight}}, got {spec!r}."
            )
        classes = np.asarray(self.classes).tolist()
        unknown = [k for k in spec if k not in classes]
        if unknown:
            raise ValueError(
                f"class_weight for task {self.name!r} names unknown labels {unknown}; "
                f"the labels are {classes}."
            )
        w = np.array([float(spec.get(c, 1.0)) for c in classes])
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"class_weight for task {self.name!r} must be finite and >= 0.")
        return w

    def balanced_weights(self, codes: np.ndarray) -> np.ndarray:
        """``n / (n_classes * count)`` per class from labelled codes (sklearn's "balanced")."""
        counts = np.bincount(codes, minlength=len(self.classes))
        return counts.sum() / (len(self.classes) * np.maximum(counts, 1))
