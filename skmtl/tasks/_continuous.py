"""Continuous targets: one float per cell, or a 2-D block of several columns."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.metrics import r2_score
from torch import nn

from ..utils import missing_mask
from ._base import EncodedTarget
from ._cells import all_missing_message, as_column
from ._task import Task

__all__ = ["ContinuousTask"]


class ContinuousTask(Task):
    """Regression on standardised targets: squared error summed over the task's columns.

    ``mean`` and ``scale`` (per column, from the labelled training rows) turn
    targets into z-scores for training; :meth:`decode` turns the head's values
    back. A task of several columns (a 2-D block, or DataFrame columns grouped
    with ``tasks={"vad": {"type": "continuous", "columns": [...]}}``) has one
    output per column.

    Attributes
    ----------
    mean : ndarray of shape (n_outputs,)
    scale : ndarray of shape (n_outputs,)
        Standard deviation, 1 where it is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import ContinuousTask
    >>> task = ContinuousTask.from_column("rating", [1.0, np.nan, 3.0])
    >>> task.mean, task.scale
    (array([2.]), array([1.]))
    >>> task.encode([1.0, np.nan, 3.0]).target.ravel().tolist()
    [-1.0, 0.0, 1.0]
    >>> task.decode(np.array([[0.5]])).tolist()
    [2.5]
    """

    type: ClassVar[str] = "continuous"
    default_metric: ClassVar[str] = "r2"

    def __init__(
        self,
        name: str,
        columns: list | None,
        mean: np.ndarray,
        scale: np.ndarray,
        *,
        block: bool = False,
    ) -> None:
        super().__init__(name, columns, None, len(mean), block=block)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def from_column(
        cls, name: str, column: Any, columns: list | None = None, **options
    ) -> ContinuousTask:
        """Learn each column's mean and standard deviation from the labelled rows."""
        column = as_column(column, f"Task {name!r}")
        labelled = column[~missing_mask(column)]
        if len(labelled) == 0:
            raise ValueError(all_missing_message(name))
        try:
            values = np.asarray(labelled, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Unknown label type: task {name!r} has non-numeric values "
                "and cannot be continuous."
            ) from None
        if values.ndim == 1:
            values = values[:, None]
        if not np.all(np.isfinite(values)):
            raise ValueError(f"Input y contains infinity: task {name!r} has non-finite values.")
        magnitude = np.abs(values).max(axis=0)
        # values beyond 1e150 or below 1e-150 are divided by their largest magnitude,
        # so that the squares of the standard deviation neither overflow nor underflow
        extreme = (magnitude > 1e150) | ((magnitude < 1e-150) & (magnitude > 0))
        peak = np.where(extreme, magnitude, 1.0)
        mean = (values / peak).mean(axis=0) * peak
        scale = (values / peak).std(axis=0) * peak
        # a constant column (its spread is rounding noise) keeps scale 1; a column in
        # tiny units (1e-13) keeps its own scale
        scale[(scale == 0) | (scale <= 1e-12 * magnitude)] = 1.0
        return cls(name, columns, mean, scale, block=column.ndim == 2)

    def encode(self, column: Any, *, check_unseen: bool = False, **context) -> EncodedTarget:
        """Standardised values, float32 ``(n, n_outputs)`` (0 where missing)."""
        column = as_column(column, f"Task {self.name!r}")
        labelled = ~missing_mask(column)
        n_labelled = int(labelled.sum())
        values = np.zeros((len(column), self.n_outputs), dtype=np.float64)
        if n_labelled:
            try:
                vals = np.asarray(column[labelled], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Unknown label type: task {self.name!r} has non-numeric values "
                    "and cannot be continuous."
                ) from None
            vals = vals.reshape(n_labelled, self.n_outputs)
            if not np.all(np.isfinite(vals)):
                raise ValueError(
                    f"Input y contains infinity: task {self.name!r} has non-finite values."
                )
            values[labelled] = (vals - self.mean) / self.scale
        return EncodedTarget(values.astype(np.float32), labelled)

    def decode(self, prediction: np.ndarray, *, threshold=0.5, **context) -> np.ndarray:
        """Values on the original scale: 1-D for a one-column task, else ``(n, n_outputs)``."""
        values = np.asarray(prediction, dtype=np.float64) * self.scale + self.mean
        return values[:, 0] if self.n_outputs == 1 and not self.block else values

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
        """Squared error summed over the task's columns (standardised scale), weighted mean."""
        per_row = (output - target).pow(2).sum(dim=1)
        return self.weighted_mean(per_row, weight)

    def score(
        self,
        encoded: EncodedTarget,
        prediction: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        threshold=0.5,
    ) -> float:
        """R² on the labelled rows (averaged over columns; unchanged by standardising)."""
        labelled = encoded.labelled
        if not labelled.any():
            return float("nan")
        sw = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        return float(
            r2_score(encoded.target[labelled], np.asarray(prediction)[labelled], sample_weight=sw)
        )
