"""Multi-gate mixture of experts (MMoE).

Ma, Zhao, Yi, Chen, Hong and Chi, "Modeling Task Relationships in Multi-task
Learning with Multi-gate Mixture-of-Experts", KDD 2018.
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
    move_like,
    require_blocks,
    weighted_sum,
)

__all__ = ["MMoE", "MMoEModule"]


class MMoEModule(ArchitectureModule):
    """Experts (copies of all the blocks) over the shared stem, mixed by one gate per task.

    Task ``t`` reads ``sum_e w_t(x)_e f_e(x)`` with ``x`` the stem's output,
    ``f_e`` the experts and ``w_t = softmax(gate_t(x))``. ``representation``
    is the experts' outputs followed by every task's gate logits (the gates
    read the stem, so their logits are part of the cut).
    """

    _owner = "MMoE"

    def __init__(self, stack: SharedStack, task_names: list[str], n_experts: int) -> None:
        super().__init__()
        self.__dict__["stack"] = stack  # a recipe, not a submodule
        n = stack.n_blocks
        self.stem = stack.make_stem()
        self.experts = nn.ModuleList(Chain.of(stack, range(n)) for _ in range(n_experts))
        self.gates = TaskModules()
        self._width = stack.out_features(n - 1)
        self._add_gates(task_names)

    def _add_gates(self, names: list[str]) -> list[nn.Module]:
        stack = self.stack
        new = [stack.make_gate(self._gate_width(), -1, stack.n_blocks - 1) for _ in names]
        for name, gate in zip(names, new, strict=True):
            self.gates.add(name, gate)
        return new

    def _gate_width(self) -> int:
        return len(self.experts)

    def expert_weights(self, logits: torch.Tensor) -> torch.Tensor:
        """The mixture weights ``(B, [T,] n_experts)`` of a task's gate logits."""
        return torch.softmax(logits, dim=-1)

    @property
    def task_names(self) -> list[str]:
        return list(self.gates.names)

    @property
    def out_features(self) -> dict[str, int]:
        return {t: self._width for t in self.gates.names}

    def forward(self, batch) -> dict[str, torch.Tensor]:
        x = self.stem(batch)
        outputs = [expert(x, batch) for expert in self.experts]
        logits = [gate(x, batch) for gate in self.gates.items]
        self._keep(outputs + logits)
        return {
            t: weighted_sum(self.expert_weights(z), outputs)
            for t, z in zip(self.gates.names, logits, strict=True)
        }

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """A new gate per new task over the same experts; returns the new gates."""
        new = self._add_gates(check_new_tasks(self._owner, self.task_names, names))
        move_like(self, new)
        return new


class MMoE(BaseEstimator):
    """Multi-gate mixture of experts (Ma et al., 2018).

    ``n_experts`` experts, each a fresh copy of all the blocks of the stack,
    read the shared stem's output ``x``; each task has its own softmax gate
    (a gate of the stack over ``x``) that mixes the experts' outputs per row
    (or per token): ``sum_e softmax(gate_t(x))_e f_e(x)``.

    Parameters
    ----------
    n_experts : int, default=4
        The number of experts (>= 1; with one expert MMoE is hard sharing).

    Examples
    --------
    >>> from skmtl.architectures import MMoE
    >>> MMoE(n_experts=8).get_params()
    {'n_experts': 8}
    """

    def __init__(self, n_experts: int = 4) -> None:
        self.n_experts = n_experts

    def build(self, stack: SharedStack, task_names: list[str]) -> MMoEModule:
        """The module over ``stack`` for these tasks (ValueError for a bad ``n_experts``)."""
        task_names = check_task_names("MMoE", task_names)
        n_experts = check_int("MMoE", "n_experts", self.n_experts, low=1)
        require_blocks("MMoE", stack)
        return MMoEModule(stack, task_names, n_experts)
