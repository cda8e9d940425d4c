"""Per-epoch bookkeeping of task losses and weights: the rows of ``history_``."""

from __future__ import annotations

import torch

__all__ = ["EpochStats"]


class EpochStats:
    """Per-epoch sums of task losses and the weights the strategy used."""

    def __init__(self, names: list[str], device) -> None:
        self.names = names
        self.loss_sum = torch.zeros(len(names), device=device)
        self.seen = torch.zeros(len(names), device=device)
        self.weight_sum = torch.zeros(len(names), device=device)
        self.total_sum = torch.zeros((), device=device)
        self.n_batches = 0

    def add(self, losses: torch.Tensor, present: torch.Tensor, used: torch.Tensor) -> None:
        detached = losses.detach()
        self.loss_sum += detached * present
        self.seen += present
        self.weight_sum += used
        self.total_sum += (used * detached).sum()
        self.n_batches += 1

    def task_loss(self):
        """Mean loss of each task over the batches where it had labels (numpy)."""
        return (self.loss_sum / self.seen.clamp(min=1)).cpu().numpy()

    def record(self, epoch: int) -> dict:
        """The history entry: total loss, per-task loss and per-task weight."""
        # Mean weight over the batches where the task had labels (a batch
        # without any gives the task no loss, so no weight).
        weights = (self.weight_sum / self.seen.clamp(min=1)).cpu().tolist()
        return {
            "epoch": epoch,
            "train_loss": float(self.total_sum) / max(self.n_batches, 1),
            "task_loss": dict(zip(self.names, map(float, self.task_loss()), strict=True)),
            "task_weight": dict(zip(self.names, map(float, weights), strict=True)),
        }
