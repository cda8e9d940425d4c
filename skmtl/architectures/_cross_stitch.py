"""Cross-stitch networks: one column per task, mixed after every layer.

Misra, Shrivastava, Gupta and Hebert, "Cross-stitch Networks for Multi-task
Learning", CVPR 2016.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from ._base import ArchitectureModule, SharedStack
from ._common import (
    Chain,
    TaskModules,
    check_new_tasks,
    check_task_names,
    move_like,
    require_blocks,
)

__all__ = ["CrossStitch", "CrossStitchModule"]


class _Unit(nn.Module):
    """Task ``t``'s rows of the cross-stitch units: ``alpha[l][t, :]`` for every layer ``l``.

    One tensor per layer (``alpha.0``, ``alpha.1``, ...), so the last unit's
    weights, which act after the representation's cut, are a parameter of
    their own. The rows cover the columns that existed when the task was
    added: a task added later is not read by the earlier ones.
    """

    def __init__(self, n_layers: int, n_columns: int, own: int, self_weight: float, learn: bool):
        super().__init__()
        other = (1.0 - self_weight) / (n_columns - 1) if n_columns > 1 else 0.0
        row = torch.full((n_columns,), other)
        row[own] = self_weight if n_columns > 1 else 1.0
        rows = [row.clone() for _ in range(n_layers)]
        if learn:
            self.alpha = nn.ParameterList(nn.Parameter(r) for r in rows)
        else:
            self.alpha = _Buffers(rows)

    def forward(self, layer: int, columns: list[torch.Tensor]) -> torch.Tensor:
        a = self.alpha[layer]
        out = a[0] * columns[0]
        for s in range(1, a.shape[0]):
            out = out + a[s] * columns[s]
        return out


class _Buffers(nn.Module):
    """Fixed unit rows (``learn_units=False``): buffers, indexable like a ParameterList."""

    def __init__(self, rows: list[torch.Tensor]) -> None:
        super().__init__()
        for i, r in enumerate(rows):
            self.register_buffer(str(i), r)

    def __getitem__(self, i: int) -> torch.Tensor:
        return getattr(self, str(i))


class CrossStitchModule(ArchitectureModule):
    """One column of blocks per task over the shared stem, stitched after every block.

    ``h_t <- sum_s alpha[l][t, s] h_s`` after block ``l`` of every column;
    task ``t`` reads ``h_t`` after the last unit. ``representation`` is the
    columns' outputs of the last block (before the last unit, whose
    ``alpha`` then gets the plain gradient).
    """

    def __init__(
        self, stack: SharedStack, task_names: list[str], self_weight: float, learn_units: bool
    ) -> None:
        super().__init__()
        self.__dict__["stack"] = stack  # a recipe, not a submodule
        self.self_weight = self_weight
        self.learn_units = learn_units
        self.stem = stack.make_stem()
        self.columns = TaskModules()
        self.units = TaskModules()
        self._width = stack.out_features(stack.n_blocks - 1)
        self._add(task_names)

    def _add(self, names: list[str]) -> list[nn.Module]:
        stack, new = self.stack, []
        n_columns = len(self.columns) + len(names)
        for name in names:
            column = Chain.of(stack, range(stack.n_blocks))
            unit = _Unit(
                stack.n_blocks, n_columns, len(self.columns), self.self_weight, self.learn_units
            )
            self.columns.add(name, column)
            self.units.add(name, unit)
            new += [column, unit]
        return new

    @property
    def task_names(self) -> list[str]:
        return list(self.columns.names)

    @property
    def out_features(self) -> dict[str, int]:
        return {t: self._width for t in self.columns.names}

    def forward(self, batch) -> dict[str, torch.Tensor]:
        x = self.stem(batch)
        h = [x] * len(self.columns)
        last = self.stack.n_blocks - 1
        for layer in range(last + 1):
            out = [
                column.blocks[layer](h_t, batch)
                for column, h_t in zip(self.columns.items, h, strict=True)
            ]
            if layer == last:
                self._keep(out)
            h = [unit(layer, out) for unit in self.units.items]
        return dict(zip(self.columns.names, h, strict=True))

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """A new column and unit rows per new task; returns them.

        The new tasks' rows read every column; the old tasks' rows stay as they
        are and do not read the new columns, so the old outputs do not change.
        """
        new = self._add(check_new_tasks("CrossStitch", self.task_names, names))
        move_like(self, new)
        return new


class CrossStitch(BaseEstimator):
    """Cross-stitch networks (Misra et al., 2016).

    Every task has its own column, a fresh copy of all the blocks of the
    stack, over the shared stem; after every block a cross-stitch unit
    replaces each column's output by a linear combination of all the
    columns' outputs, ``h_t' = sum_s alpha[l][t, s] h_s``, with ``alpha``
    learned. A unit starts at ``self_weight`` on its own column and shares
    the rest equally among the others, as the paper's initialisation.

    Parameters
    ----------
    self_weight : float, default=0.9
        The initial weight of a column on itself, in [0, 1]; the other
        columns get ``(1 - self_weight) / (n_tasks - 1)`` each (with one task
        the unit is the identity). 1 starts from independent networks.
    learn_units : bool, default=True
        Learn ``alpha`` (False keeps the initial units fixed).

    Examples
    --------
    >>> from skmtl.architectures import CrossStitch
    >>> CrossStitch(self_weight=0.8).get_params()
    {'learn_units': True, 'self_weight': 0.8}
    """

    def __init__(self, self_weight: float = 0.9, learn_units: bool = True) -> None:
        self.self_weight = self_weight
        self.learn_units = learn_units

    def build(self, stack: SharedStack, task_names: list[str]) -> CrossStitchModule:
        """The module over ``stack`` for these tasks (ValueError for bad parameters)."""
        task_names = check_task_names("CrossStitch", task_names)
        w = self.self_weight
        if (
            isinstance(w, bool)
            or not isinstance(w, numbers.Real)
            or not np.isfinite(w)
            or not 0 <= w <= 1
        ):
            raise ValueError(f"CrossStitch self_weight must be a number in [0, 1], got {w!r}.")
        if not isinstance(self.learn_units, (bool, np.bool_)):
            raise ValueError(
                f"CrossStitch learn_units must be True or False, got {self.learn_units!r}."
            )
        require_blocks("CrossStitch", stack)
        return CrossStitchModule(stack, task_names, float(w), bool(self.learn_units))
