"""The torch module of a multi-task model: a shared trunk and one head per task."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MultiTaskNetwork"]


class MultiTaskNetwork(nn.Module):
    """Hard parameter sharing: ``heads[task](trunk(x))`` for every task.

    ``weighting`` holds the trainable state of a loss-weighting strategy
    (for example uncertainty weighting's log-variances), so it moves with
    the model between devices and is saved with it.

    ``representation`` is the trunk's output of the last training-mode
    forward pass with gradients enabled (the tensor every head consumes),
    for the gradient strategies with ``on="representation"``; it is None
    otherwise, cleared by the strategy after its backward pass, and never
    saved (it is not a parameter or buffer, and pickling drops it).
    """

    def __init__(
        self, trunk: nn.Module, heads: dict[str, nn.Module], weighting: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.trunk = trunk
        # ModuleDict keys may not contain "."; map task names to safe keys.
        self.task_names = list(heads)
        self.heads = nn.ModuleDict({f"t{i}": head for i, head in enumerate(heads.values())})
        self.weighting = weighting
        self.representation: torch.Tensor | None = None

    def __getstate__(self):
        state = super().__getstate__()
        state["representation"] = None  # a batch's activations and graph: never saved
        return state

    def head(self, task: str) -> nn.Module:
        return self.heads[f"t{self.task_names.index(task)}"]

    def add_head(self, task: str, head: nn.Module) -> None:
        """Attach a head for a new task (transfer to a new task)."""
        self.heads[f"t{len(self.task_names)}"] = head
        self.task_names.append(task)

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.trunk.parameters())

    def forward(self, x) -> dict[str, torch.Tensor]:
        shared = self.trunk(x)
        self.representation = shared if self.training and torch.is_grad_enabled() else None
        return {name: self.heads[f"t{i}"](shared) for i, name in enumerate(self.task_names)}
