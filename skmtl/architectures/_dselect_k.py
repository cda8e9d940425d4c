"""DSelect-k: a differentiable, per-example k-sparse gate over the experts.

Hazimeh, Zhao, Chowdhery, Sathiamoorthy, Chen, Mazumder, Hong and Chi,
"DSelect-k: Differentiable Selection in the Mixture of Experts with
Applications to Multi-Task Learning", NeurIPS 2021.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ._base import SharedStack
from ._common import check_int, check_task_names, require_blocks
from ._mmoe import MMoEModule

__all__ = ["DSelectK", "DSelectKModule", "smooth_step"]


def smooth_step(t: torch.Tensor, gamma: float) -> torch.Tensor:
    """The cubic smooth step: 0 below ``-gamma/2``, 1 above ``gamma/2``, C1 between.

    ``s(t) = -2 t^3 / gamma^3 + 3 t / (2 gamma) + 1/2`` on ``(-gamma/2, gamma/2)``.
    """
    u = t.clamp(-gamma / 2, gamma / 2)  # no huge cube (nor NaN gradient) far outside
    inside = -2.0 / gamma**3 * u**3 + 3.0 / (2.0 * gamma) * u + 0.5
    inside = torch.where(t >= gamma / 2, torch.ones_like(t), inside)
    return torch.where(t <= -gamma / 2, torch.zeros_like(t), inside)


def binary_codes(n_experts: int) -> torch.Tensor:
    """``(n_experts, m)`` bool: row ``e`` is ``e`` in binary, most significant bit first."""
    m = (n_experts - 1).bit_length()  # ceil(log2(n_experts))
    codes = [[(e >> (m - 1 - j)) & 1 for j in range(m)] for e in range(n_experts)]
    return torch.as_tensor(np.array(codes, dtype=bool).reshape(n_experts, m))


class DSelectKModule(MMoEModule):
    """MMoE's experts, each task mixing them with a DSelect-k gate.

    A task's gate returns ``k * m + k`` logits per row (or token): ``k``
    selectors of ``m = ceil(log2 n_experts)`` code logits ``z_i`` and ``k``
    selector logits ``w``. Selector ``i`` puts weight
    ``prod_j s(z_ij)^[b_ej] (1 - s(z_ij))^[1 - b_ej]`` on expert ``e`` (code
    ``b_e``, ``s`` the smooth step); the expert weights are the selectors'
    mixture under ``softmax(w)``. ``representation`` is as for MMoE.
    """

    _owner = "DSelectK"

    def __init__(
        self, stack: SharedStack, task_names: list[str], n_experts: int, k: int, gamma: float
    ) -> None:
        super().__init__(stack, [], n_experts)
        self.k = k
        self.gamma = gamma
        self.register_buffer("codes", binary_codes(n_experts), persistent=False)
        self._add_gates(task_names)

    def _gate_width(self) -> int:
        return self.k * self.codes.shape[1] + self.k

    def expert_weights(self, logits: torch.Tensor) -> torch.Tensor:
        k, m = self.k, self.codes.shape[1]
        z = logits[..., : k * m].unflatten(-1, (k, 1, m))  # (..., k, 1, m)
        s = smooth_step(z, self.gamma)
        # (..., k, n_experts): every selector's weight on each expert (only the first
        # n_experts codes exist when n_experts is not a power of 2).
        selectors = torch.where(self.codes, s, 1 - s).prod(-1)
        w = torch.softmax(logits[..., k * m :], dim=-1).unsqueeze(-1)  # (..., k, 1)
        return (w * selectors).sum(-2)


class DSelectK(BaseEstimator):
    """Mixture of experts with a DSelect-k gate per task (Hazimeh et al., 2021).

    The experts are MMoE's (fresh copies of all the blocks over the shared
    stem); each task's gate is per example (read from the stem's output) and
    selects at most ``k`` experts through ``k`` smooth binary selectors, so it
    converges to a sparse mixture while staying differentiable. For
    ``n_experts`` not a power of 2, only the first ``n_experts`` of the
    ``2^m`` codes exist, as in the paper's reference code (the weights can
    then sum to less than 1; the reference code's extra loss against that
    is not added, nor its optional entropy regulariser).

    Parameters
    ----------
    n_experts : int, default=4
        The number of experts (>= 1).
    k : int, default=2
        The number of selectors: the most experts a task mixes, in
        ``[1, n_experts]``.
    gamma : float, default=1.0
        Width of the smooth step's cubic region (> 0).

    Examples
    --------
    >>> import torch
    >>> from skmtl.architectures import DSelectK
    >>> DSelectK(n_experts=8, k=2).get_params()
    {'gamma': 1.0, 'k': 2, 'n_experts': 8}
    >>> from skmtl.architectures._dselect_k import smooth_step
    >>> smooth_step(torch.tensor([-1.0, 0.0, 0.25, 1.0]), gamma=1.0).tolist()
    [0.0, 0.5, 0.84375, 1.0]
    """

    def __init__(self, n_experts: int = 4, k: int = 2, gamma: float = 1.0) -> None:
        self.n_experts = n_experts
        self.k = k
        self.gamma = gamma

    def build(self, stack: SharedStack, task_names: list[str]) -> DSelectKModule:
        """The module over ``stack`` for these tasks (ValueError for bad parameters)."""
        task_names = check_task_names("DSelectK", task_names)
        n_experts = check_int("DSelectK", "n_experts", self.n_experts, low=1)
        k = check_int("DSelectK", "k", self.k, low=1, high=n_experts)
        gamma = self.gamma
        if (
            isinstance(gamma, bool)
            or not isinstance(gamma, numbers.Real)
            or not np.isfinite(gamma)
            or gamma <= 0
        ):
            raise ValueError(f"DSelectK gamma must be a finite number > 0, got {gamma!r}.")
        require_blocks("DSelectK", stack)
        return DSelectKModule(stack, task_names, n_experts, k, float(gamma))
