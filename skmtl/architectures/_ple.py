"""Progressive layered extraction (PLE): shared and task experts, level by level.

Tang, Liu, Zhao and Gong, "Progressive Layered Extraction (PLE): A Novel
Multi-Task Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
"""

from __future__ import annotations

import torch
from sklearn.base import BaseEstimator
from torch import nn

from ._base import ArchitectureModule, SharedStack
from ._common import (
    Chain,
    TaskModules,
    check_int,
    check_new_tasks,
    check_task_names,
    mix,
    move_like,
)

__all__ = ["PLE", "PLEModule", "split_levels"]


def split_levels(n_blocks: int, n_levels: int) -> list[list[int]]:
    """The blocks of each level: contiguous, sizes differing by at most one (lower first)."""
    size, extra = divmod(n_blocks, n_levels)
    groups, start = [], 0
    for level in range(n_levels):
        stop = start + size + (level < extra)
        groups.append(list(range(start, stop)))
        start = stop
    return groups


class _Level(nn.Module):
    """One extraction level: shared experts, per-task experts and gates, a shared gate."""

    def __init__(
        self,
        stack: SharedStack,
        block_ids: list[int],
        source: int,
        n_shared: int,
        n_task: int,
        task_names: list[str],
        last: bool,
    ) -> None:
        super().__init__()
        self.block_ids, self.source, self.n_task = list(block_ids), source, n_task
        target = self.block_ids[-1]
        self.shared = nn.ModuleList(Chain.of(stack, self.block_ids) for _ in range(n_shared))
        self.experts = TaskModules()  # per task: a ModuleList of n_task experts
        self.gates = TaskModules()
        self.add(stack, task_names)
        # The shared gate mixes the experts of the tasks it was built with, then the
        # shared experts; tasks added later do not feed it.
        self.shared_tasks = list(task_names)
        n_all = n_task * len(task_names) + n_shared
        self.shared_gate = None if last else stack.make_gate(n_all, source, target)

    def add(self, stack: SharedStack, names: list[str]) -> list[nn.Module]:
        """Experts and a gate for each new task; returns them."""
        new, target = [], self.block_ids[-1]
        for name in names:
            experts = nn.ModuleList(Chain.of(stack, self.block_ids) for _ in range(self.n_task))
            gate = stack.make_gate(self.n_task + len(self.shared), self.source, target)
            self.experts.add(name, experts)
            self.gates.add(name, gate)
            new += [experts, gate]
        return new

    def forward(self, h_tasks: dict, h_shared, batch):
        """``(task outputs, shared output or None, cut)`` of this level."""
        shared = [e(h_shared, batch) for e in self.shared]
        own = {
            t: [e(h_tasks[t], batch) for e in experts]
            for t, experts in zip(self.experts.names, self.experts.items, strict=True)
        }
        logits = {
            t: g(h_tasks[t], batch) for t, g in zip(self.gates.names, self.gates.items, strict=True)
        }
        out = {t: mix(logits[t], own[t] + shared) for t in self.gates.names}
        if self.shared_gate is None:
            cut = shared + [h for t in self.experts.names for h in own[t]] + list(logits.values())
            return out, None, cut
        pool = [h for t in self.shared_tasks for h in own[t]] + shared
        return out, mix(self.shared_gate(h_shared, batch), pool), None


class PLEModule(ArchitectureModule):
    """``n_levels`` extraction levels over the shared stem (see :class:`PLE`).

    ``representation`` is the last level's expert outputs followed by its
    task gates' logits.
    """

    def __init__(
        self,
        stack: SharedStack,
        task_names: list[str],
        n_levels: int,
        n_shared_experts: int,
        n_task_experts: int,
        owner: str = "PLE",
    ) -> None:
        super().__init__()
        self.__dict__["stack"] = stack  # a recipe, not a submodule
        self._owner = owner
        self.task_names = list(task_names)
        self.stem = stack.make_stem()
        groups = split_levels(stack.n_blocks, n_levels)
        sources = [-1] + [g[-1] for g in groups[:-1]]
        self.levels = nn.ModuleList(
            _Level(stack, g, src, n_shared_experts, n_task_experts, task_names, k == n_levels - 1)
            for k, (g, src) in enumerate(zip(groups, sources, strict=True))
        )
        self._width = stack.out_features(stack.n_blocks - 1)

    @property
    def out_features(self) -> dict[str, int]:
        return {t: self._width for t in self.task_names}

    def forward(self, batch) -> dict[str, torch.Tensor]:
        x = self.stem(batch)
        h_tasks, h_shared = dict.fromkeys(self.task_names, x), x
        for level in self.levels:
            h_tasks, h_shared, cut = level(h_tasks, h_shared, batch)
        self._keep(cut)
        return h_tasks

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """New task experts and gates at every level; returns them.

        The shared gates keep their experts (the old tasks' and the shared
        ones), so the old tasks' outputs do not change.
        """
        names = check_new_tasks(self._owner, self.task_names, names)
        new = [m for level in self.levels for m in level.add(self.stack, names)]
        self.task_names += names
        move_like(self, new)
        return new


class PLE(BaseEstimator):
    """Progressive layered extraction (Tang et al., 2020).

    The blocks of the stack are split into ``n_levels`` contiguous groups.
    At every level there are ``n_shared_experts`` shared experts and
    ``n_task_experts`` experts per task (fresh copies of the level's blocks);
    task ``t``'s gate mixes its own and the shared experts, and, below the
    last level, a shared gate mixes all the experts. A task's experts and
    gate at the next level read the task's mixture, the shared experts and
    gate the shared mixture; each task reads its mixture at the last level.
    The first level reads the shared stem's output. Tasks added later
    (``add_tasks``) get their own experts and gates; the shared gates keep
    mixing the experts they were built with.

    Parameters
    ----------
    n_levels : int, default=2
        The number of extraction levels, in ``[1, n_blocks]`` (1 is
        :class:`CGC`).
    n_shared_experts : int, default=2
        Shared experts per level (>= 0).
    n_task_experts : int, default=1
        Experts per task and level (>= 0; at least one expert per level in
        all: ``n_shared_experts + n_task_experts >= 1``).

    Examples
    --------
    >>> from skmtl.architectures import PLE
    >>> PLE(n_levels=3).get_params()
    {'n_levels': 3, 'n_shared_experts': 2, 'n_task_experts': 1}
    """

    _owner = "PLE"

    def __init__(
        self, n_levels: int = 2, n_shared_experts: int = 2, n_task_experts: int = 1
    ) -> None:
        self.n_levels = n_levels
        self.n_shared_experts = n_shared_experts
        self.n_task_experts = n_task_experts

    def _n_levels(self) -> int:
        return check_int(self._owner, "n_levels", self.n_levels, low=1)

    def build(self, stack: SharedStack, task_names: list[str]) -> PLEModule:
        """The module over ``stack`` for these tasks (ValueError for bad parameters)."""
        owner = self._owner
        task_names = check_task_names(owner, task_names)
        n_levels = self._n_levels()
        n_shared = check_int(owner, "n_shared_experts", self.n_shared_experts, low=0)
        n_task = check_int(owner, "n_task_experts", self.n_task_experts, low=0)
        if n_shared + n_task < 1:
            raise ValueError(
                f"{owner} needs at least one expert per level: n_shared_experts + "
                f"n_task_experts must be >= 1, got {n_shared} + {n_task}."
            )
        if stack.n_blocks < n_levels:
            raise ValueError(
                f"{owner} n_levels must be at most the stack's number of blocks "
                f"(n_blocks={stack.n_blocks}): every level is made of at least one block; "
                f"got n_levels={n_levels}."
            )
        return PLEModule(stack, task_names, n_levels, n_shared, n_task, owner)
