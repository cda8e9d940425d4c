"""Hard parameter sharing: every task reads the top of one shared stack.

Caruana, "Multitask Learning", Machine Learning 28, 1997.
"""

from __future__ import annotations

import torch
from sklearn.base import BaseEstimator
from torch import nn

from ._base import ArchitectureModule, SharedStack
from ._common import Chain, check_new_tasks, check_task_names

__all__ = ["HardSharing", "HardSharingModule"]


class HardSharingModule(ArchitectureModule):
    """``stem -> blocks``, the last output read by every task.

    ``representation`` is ``[last output]`` (the stem's output when the stack
    has no block, if it is a tensor).
    """

    def __init__(self, stack: SharedStack, task_names: list[str]) -> None:
        super().__init__()
        self.__dict__["stack"] = stack  # a recipe, not a submodule
        self.task_names = list(task_names)
        self.stem = stack.make_stem()
        self.blocks = Chain.of(stack, range(stack.n_blocks))
        self._width = stack.out_features(stack.n_blocks - 1)

    @property
    def out_features(self) -> dict[str, int]:
        return {t: self._width for t in self.task_names}

    def forward(self, batch) -> dict[str, torch.Tensor]:
        h = self.blocks(self.stem(batch), batch)
        self._keep([h] if isinstance(h, torch.Tensor) else [])
        return {t: h for t in self.task_names}

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """New tasks read the same output: nothing new to train here."""
        self.task_names += check_new_tasks("HardSharing", self.task_names, names)
        return []


class HardSharing(BaseEstimator):
    """Hard parameter sharing (the default architecture).

    The stem and every block of the stack are shared; each task's head reads
    the output of the last block (Caruana, 1997). It has no parameter.

    Examples
    --------
    >>> from skmtl.architectures import HardSharing
    >>> HardSharing().get_params()
    {}
    """

    def build(self, stack: SharedStack, task_names: list[str]) -> HardSharingModule:
        """The module over ``stack`` for these tasks."""
        return HardSharingModule(stack, check_task_names("HardSharing", task_names))
