"""Training data as the engine sees it: inputs plus each task's encoded targets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..tasks import EncodedTarget, token_index

__all__ = ["TaskTensors", "TrainingData", "to_device"]


def to_device(batch, device):
    """Move a tensor, an object with ``.to`` (sparse rows) or a dict of them to ``device``."""
    if isinstance(batch, dict):
        return {key: value.to(device, non_blocking=True) for key, value in batch.items()}
    return batch.to(device, non_blocking=True)


@dataclass
class TrainingData:
    """What one fit trains on.

    Attributes
    ----------
    inputs : Inputs
        The model inputs (see :class:`skmtl.engine.Inputs`).
    targets : dict of str to EncodedTarget
        Each task's encoded targets (only the tasks being trained).
    row_weights : dict of str to ndarray
        Each task's per-row sample weight (float, ``(n,)``), before masking.
    class_weights : dict of str to ndarray or None
        Each task's resolved class weights (see ``TaskType.class_weights``).
    task_weights : ndarray
        The static weight of each task's loss, in task order.
    """

    inputs: object
    targets: dict[str, EncodedTarget]
    row_weights: dict[str, np.ndarray]
    class_weights: dict[str, np.ndarray | None] = field(default_factory=dict)
    task_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.inputs)

    def take(self, rows: np.ndarray) -> TrainingData:
        return TrainingData(
            self.inputs.take(rows),
            {t: e.take(rows) for t, e in self.targets.items()},
            {t: w[rows] for t, w in self.row_weights.items()},
            self.class_weights,
            self.task_weights,
        )


class TaskTensors:
    """One task's targets and element weights on the device, permutable by rows.

    Row-level tasks hold one element per row; token-level tasks one per token,
    with ``offsets`` (NumPy) giving each row's token range.
    """

    def __init__(self, target: torch.Tensor, weight: torch.Tensor, offsets=None) -> None:
        self.target, self.weight, self.offsets = target, weight, offsets

    @classmethod
    def build(cls, encoded: EncodedTarget, row_weight: np.ndarray, device) -> TaskTensors:
        weight = encoded.element_weight(np.asarray(row_weight, dtype=np.float32))
        return cls(
            torch.from_numpy(np.ascontiguousarray(encoded.target)).to(device),
            torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)).to(device),
            encoded.offsets,
        )

    def permute(self, order: np.ndarray) -> TaskTensors:
        if self.offsets is None:
            index = torch.from_numpy(np.asarray(order, dtype=np.int64)).to(self.target.device)
            return TaskTensors(
                self.target.index_select(0, index), self.weight.index_select(0, index)
            )
        flat = torch.from_numpy(token_index(self.offsets, order)).to(self.target.device)
        lengths = self.offsets[order + 1] - self.offsets[order]
        offsets = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return TaskTensors(
            self.target.index_select(0, flat), self.weight.index_select(0, flat), offsets
        )

    def owners(self, start: int, stop: int) -> torch.Tensor:
        """The row (0-based, within rows ``start:stop``) of each element of :meth:`rows`."""
        device = self.weight.device
        if self.offsets is None:
            return torch.arange(stop - start, device=device)
        lengths = torch.from_numpy(np.diff(self.offsets[start : stop + 1])).to(device)
        return torch.repeat_interleave(torch.arange(stop - start, device=device), lengths)

    def labelled_rows(self) -> np.ndarray:
        """Whether each row has an element of positive weight (a label that trains)."""
        weight = self.weight.detach().cpu().numpy()
        if self.offsets is None:
            return weight.reshape(len(weight), -1).sum(axis=1) > 0
        cumulative = np.concatenate([[0.0], np.cumsum(weight, dtype=np.float64)])
        return cumulative[self.offsets[1:]] - cumulative[self.offsets[:-1]] > 0

    def keep_rows(self, keep: np.ndarray) -> TaskTensors:
        """A copy whose rows where ``keep`` is False have weight 0 (they train nothing)."""
        mask = torch.from_numpy(np.asarray(keep, dtype=bool)).to(self.weight.device)
        if self.offsets is not None:
            mask = torch.repeat_interleave(
                mask, torch.from_numpy(np.diff(self.offsets)).to(mask.device)
            )
        mask = mask.reshape((-1,) + (1,) * (self.weight.dim() - 1))
        return TaskTensors(self.target, self.weight * mask.to(self.weight.dtype), self.offsets)

    def rows(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(target, weight)`` of rows ``start:stop``."""
        if self.offsets is not None:
            start, stop = int(self.offsets[start]), int(self.offsets[stop])
        return self.target[start:stop], self.weight[start:stop]
