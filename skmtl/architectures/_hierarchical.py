"""Hierarchical supervision: each task reads its own layer of the shared stack.

Søgaard and Goldberg, "Deep multi-task learning with low level tasks
supervised at lower layers", ACL 2016.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import torch
from sklearn.base import BaseEstimator
from torch import nn

from ._base import ArchitectureModule, SharedStack
from ._common import Chain, check_new_tasks, check_task_names

__all__ = ["Hierarchical", "HierarchicalModule"]


class HierarchicalModule(ArchitectureModule):
    """``stem -> blocks``; task ``t`` reads the output of block ``layers[t]`` (1-based).

    ``representation`` is the output of the lowest block any task reads: the
    blocks above it count as task-specific for ``on="representation"``.
    """

    def __init__(self, stack: SharedStack, task_names: list[str], layers: dict[str, int]) -> None:
        super().__init__()
        self.__dict__["stack"] = stack  # a recipe, not a submodule
        self.stem = stack.make_stem()
        self.blocks = Chain.of(stack, range(stack.n_blocks))
        self.layers = {t: layers.get(t, stack.n_blocks) for t in task_names}
        self._widths = {t: stack.out_features(i - 1) for t, i in self.layers.items()}

    @property
    def task_names(self) -> list[str]:
        return list(self.layers)

    def read_block(self, task: str) -> int:
        return self.layers[task] - 1

    @property
    def out_features(self) -> dict[str, int]:
        return dict(self._widths)

    def forward(self, batch) -> dict[str, torch.Tensor]:
        h = self.stem(batch)
        outputs = [h]
        for block in self.blocks.blocks[: max(self.layers.values())]:  # none above the top read
            h = block(h, batch)
            outputs.append(h)
        cut = outputs[min(self.layers.values())]
        self._keep([cut] if isinstance(cut, torch.Tensor) else [])
        return {t: outputs[i] for t, i in self.layers.items()}

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """New tasks read the top block: nothing new to train here."""
        top = self.stack.n_blocks
        for t in check_new_tasks("Hierarchical", self.task_names, names):
            self.layers[t] = top
            self._widths[t] = self.stack.out_features(top - 1)
        return []


class Hierarchical(BaseEstimator):
    """Each task reads its own layer of the shared stack.

    Søgaard and Goldberg (2016) supervise low-level tasks (part-of-speech
    tagging) at a lower layer of a shared stack than the higher-level ones
    (chunking, named entities) that read its top: the lower task's layers are
    shared, the layers above them act as the higher tasks' own.

    Parameters
    ----------
    layers : dict of str to int or None, default=None
        The (1-based) block each named task reads, in ``[1, n_blocks]``; tasks
        not named read the top block (``None``: every task does, which is hard
        sharing). Tasks added later by ``add_tasks`` read the top block.

    Examples
    --------
    >>> from skmtl.architectures import Hierarchical
    >>> Hierarchical(layers={"upos": 1, "ner": 3}).get_params()
    {'layers': {'upos': 1, 'ner': 3}}
    """

    def __init__(self, layers: dict[str, int] | None = None) -> None:
        self.layers = layers

    def build(self, stack: SharedStack, task_names: list[str]) -> HierarchicalModule:
        """The module over ``stack`` for these tasks (ValueError for a bad ``layers``)."""
        task_names = check_task_names("Hierarchical", task_names)
        layers = {} if self.layers is None else self.layers
        if not isinstance(layers, Mapping):
            raise ValueError(
                f"Hierarchical layers must be a dict of task name to layer or None, "
                f"got {type(layers).__name__}."
            )
        unknown = [t for t in layers if t not in task_names]
        if unknown:
            raise ValueError(
                f"Hierarchical layers names unknown tasks {unknown!r}; the tasks are "
                f"{task_names!r}."
            )
        n = int(stack.n_blocks)
        bad = {
            t: i
            for t, i in layers.items()
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 1 <= i <= n
        }
        if bad:
            raise ValueError(
                f"Hierarchical layers must be block numbers in [1, {n}] (1-based, the stack "
                f"has {n} blocks), got {bad!r}."
            )
        return HierarchicalModule(stack, task_names, {t: int(i) for t, i in layers.items()})
