"""Task-specific heads and their masked losses.

Every loss takes the rows of a batch and a per-row weight that is 0 where the
task's label is missing, so a row labelled for one task only still trains the
shared layers through that task. A task with no labelled row in the batch
returns a loss of exactly 0 (no NaN, no division by 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..encoders import make_activation

__all__ = ["TaskHead", "masked_task_loss", "head_output_to_numpy"]


class TaskHead(nn.Module):
    """Optional private hidden layers, then a linear output layer."""

    def __init__(
        self,
        in_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.layers(h)


def masked_task_loss(
    task_type: str,
    output: torch.Tensor,
    target: torch.Tensor,
    row_weight: torch.Tensor,
    class_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Weighted mean loss over a batch's labelled rows of one task.

    ``row_weight`` is the sample weight times the labelled mask. Per row:
    cross-entropy (binary, multiclass), binary cross-entropy summed over the
    labels (multilabel), squared error summed over the task's columns on the
    standardised scale (continuous).
    """
    if task_type in ("binary", "multiclass"):
        per_row = F.cross_entropy(
            output, target.clamp(min=0), weight=class_weight, reduction="none"
        )
    elif task_type == "multilabel":
        # Summed over labels: the negative log-likelihood of the row's label set
        # (as in sklearn's MLPClassifier), so averaging does not shrink a
        # 28-label task to the weight of a 4-label one.
        per_row = F.binary_cross_entropy_with_logits(
            output, target, pos_weight=class_weight, reduction="none"
        ).sum(dim=1)
    else:
        # Summed over the columns of a multi-column task, likewise.
        per_row = (output - target).pow(2).sum(dim=1)
    total = row_weight.sum()
    # clamp: an unlabelled batch gives 0 / 1 = 0, with zero gradient.
    return (per_row * row_weight).sum() / total.clamp(min=torch.finfo(total.dtype).tiny)


def head_output_to_numpy(task_type: str, output: torch.Tensor):
    """Probabilities for classification heads, raw values for regression."""
    if task_type in ("binary", "multiclass"):
        output = torch.softmax(output, dim=1)
    elif task_type == "multilabel":
        output = torch.sigmoid(output)
    return output.detach().to("cpu", torch.float64).numpy()
