"""Helpers shared by the sharing architectures (validation, expert chains, mixing)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from ._base import SharedStack

__all__ = [
    "Chain",
    "TaskModules",
    "check_int",
    "check_new_tasks",
    "check_task_names",
    "mix",
    "move_like",
    "require_blocks",
    "weighted_sum",
]


def check_int(owner: str, name: str, value, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, else a ValueError naming ``owner.name``."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    ok = ok and value >= low and (high is None or value <= high)
    if not ok:
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{owner} {name} must be an integer {bound}, got {value!r}.")
    return int(value)


def check_task_names(owner: str, names) -> list[str]:
    """The task names as a list: non-empty, strings, no duplicate."""
    names = list(names)
    if not names:
        raise ValueError(f"{owner} needs at least one task, got none.")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise ValueError(f"{owner} task names must be strings, got {bad!r}.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{owner} task names must be unique, got duplicates {dup!r}.")
    return names


def check_new_tasks(owner: str, old: Sequence[str], names) -> list[str]:
    """New task names for ``add_tasks``: valid and none already present."""
    names = check_task_names(owner, names)
    clash = [n for n in names if n in old]
    if clash:
        raise ValueError(f"{owner} already has tasks {clash!r}; add_tasks takes new names only.")
    return names


def require_blocks(owner: str, stack: SharedStack, low: int = 1) -> int:
    """``stack.n_blocks``, checked to be at least ``low``."""
    n = int(stack.n_blocks)
    if n < low:
        raise ValueError(
            f"{owner} needs a shared stack of at least {low} block(s) (its experts or "
            f"columns are copies of the blocks); this one has n_blocks={n} "
            "(for example hidden_layer_sizes=())."
        )
    return n


class Chain(nn.Module):
    """Consecutive blocks of a stack, called as ``chain(h, batch)``."""

    def __init__(self, blocks: Sequence[nn.Module]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    @classmethod
    def of(cls, stack: SharedStack, indices: Sequence[int]) -> Chain:
        """A chain of fresh copies of blocks ``indices`` of ``stack``."""
        return cls([stack.make_block(i) for i in indices])

    def forward(self, h, batch):
        for block in self.blocks:
            h = block(h, batch)
        return h


class TaskModules(nn.Module):
    """One module per task, keyed by position (task names may hold any character)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.items = nn.ModuleList()

    def add(self, name: str, module: nn.Module) -> None:
        self.names.append(name)
        self.items.append(module)

    def __getitem__(self, name: str) -> nn.Module:
        return self.items[self.names.index(name)]

    def __len__(self) -> int:
        return len(self.names)


def mix(logits: torch.Tensor, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum_e softmax(logits)[..., e] * outputs[e]`` (row or token level)."""
    return weighted_sum(torch.softmax(logits, dim=-1), outputs)


def weighted_sum(weights: torch.Tensor, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum_e weights[..., e] * outputs[e]``; ``weights`` ``(B, [T,] E)``."""
    if len(outputs) == 1:
        return weights[..., :1] * outputs[0]
    stacked = torch.stack(list(outputs), dim=-1)  # (B, [T,] D, E)
    return (stacked * weights.unsqueeze(-2)).sum(-1)


def move_like(reference: nn.Module, modules: Sequence[nn.Module]) -> None:
    """Move new modules to the device (and floating dtype) of ``reference``'s tensors."""
    tensors = list(reference.parameters()) + list(reference.buffers())
    ref = next((t for t in tensors if t.is_floating_point()), None)
    if ref is None:
        return
    for module in modules:
        module.to(device=ref.device, dtype=ref.dtype)
