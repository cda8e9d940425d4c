"""Customized gate control (CGC): single-level progressive layered extraction.

Tang, Liu, Zhao and Gong, "Progressive Layered Extraction (PLE): A Novel
Multi-Task Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
"""

from __future__ import annotations

from ._ple import PLE

__all__ = ["CGC"]


class CGC(PLE):
    """Customized gate control: shared and per-task experts, one gate per task.

    The single-level form of :class:`PLE` (Tang et al., 2020): experts are
    fresh copies of all the blocks of the stack over the shared stem, and
    task ``t``'s gate mixes its own ``n_task_experts`` experts and the
    ``n_shared_experts`` shared ones.

    Parameters
    ----------
    n_shared_experts : int, default=2
        Shared experts (>= 0).
    n_task_experts : int, default=1
        Experts per task (>= 0; ``n_shared_experts + n_task_experts >= 1``).

    Examples
    --------
    >>> from skmtl.architectures import CGC
    >>> CGC(n_task_experts=2).get_params()
    {'n_shared_experts': 2, 'n_task_experts': 2}
    """

    _owner = "CGC"

    def __init__(self, n_shared_experts: int = 2, n_task_experts: int = 1) -> None:
        self.n_shared_experts = n_shared_experts
        self.n_task_experts = n_task_experts

    def _n_levels(self) -> int:
        return 1
