"""The sharing-architecture protocol: how the tasks share the layers of a stack.

An estimator describes its shared layers as a :class:`SharedStack`: a *stem*
(an input stage that every architecture keeps shared: a text encoder's hashed
embeddings, or nothing for numeric features) followed by ``n_blocks`` *blocks*
(the MLP's hidden layers, a text encoder's contextual layers). It can build as
many fresh copies of a block as an architecture asks for, and gates that read
the stem's (or a block's) output.

An :class:`Architecture` is a parameter object (``architecture=MMoE(n_experts=4)``,
grid-searchable as ``architecture__n_experts``). :meth:`Architecture.build`
returns an :class:`ArchitectureModule`: an ``nn.Module`` whose ``forward(batch)``
returns one representation per task, at the level of the stack's output.

Gradient strategies
-------------------
``shared_parameters()`` are the parameters the strategies with
``on="parameters"`` aggregate over (the whole architecture module: every
parameter that is not a task head). In a training-mode forward with gradients
enabled the module sets ``representation`` to a list of tensors that is a *cut*
of the graph between those parameters and the task outputs: every path from a
shared parameter to a task's representation goes through exactly one tensor
of the list, and no tensor of the list depends on another. Strategies with
``on="representation"`` aggregate the per-task gradients of the concatenated
cut and back-propagate the result once through it. Parameters that do not
lead to the cut get the ordinary gradient of the weighted loss sum. (A frozen
module in eval mode keeps its cut too when it carries no graph, see
:meth:`ArchitectureModule._keep`.)
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

__all__ = ["Architecture", "ArchitectureModule", "SharedStack"]


@runtime_checkable
class SharedStack(Protocol):
    """What an estimator hands an architecture: recipes for its shared layers.

    Block ``i`` reads the output of block ``i - 1`` (block 0 reads the stem's
    output) and is called as ``block(h, batch)``; ``batch`` is the model input of
    the step (a dict with ``"mask"`` for text, a tensor or sparse rows for
    features), which blocks may use (the mask) or ignore.
    """

    n_blocks: int

    def make_stem(self) -> nn.Module:
        """The shared input stage: ``stem(batch) -> x0`` (may hold no parameter)."""

    def make_block(self, i: int) -> nn.Module:
        """A freshly initialised copy of block ``i`` (0-based)."""

    def out_features(self, i: int) -> int:
        """Width of block ``i``'s output (``i = -1``: the stem's)."""

    def level(self, i: int) -> str:
        """``"token"`` (``(B, T, D)``) or ``"row"`` (``(B, D)``) for block ``i``'s output."""

    def make_gate(self, n_out: int, source: int, target: int) -> nn.Module:
        """A fresh gate ``gate(h_source, batch) -> logits``.

        It reads the output of block ``source`` (``-1``: the stem) and returns
        ``n_out`` logits per row (``(B, n_out)``) or per token (``(B, T, n_out)``),
        matching the level of block ``target``'s output, which it will mix.
        """


class ArchitectureModule(nn.Module):
    """Base of the modules that :meth:`Architecture.build` returns.

    Subclasses implement ``forward(batch) -> {task: representation}`` (setting
    ``self.representation`` as described in the module docstring, via
    :meth:`_keep`), ``out_features`` (``{task: width}``) and :meth:`add_tasks`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.representation: list[torch.Tensor] | None = None

    def __getstate__(self):
        state = super().__getstate__()
        state["representation"] = None  # a batch's activations and graph: never saved
        return state

    def _keep(self, tensors: list[torch.Tensor]) -> None:
        """Store the cut of a training-mode forward with gradients (else None).

        A module in eval mode keeps a cut that carries no graph too: that is a
        frozen module (put in eval mode) while :meth:`add_tasks`'s new heads
        train, whose gradient strategies then see that no task gradient
        reaches it. A forward in eval mode whose cut does carry a graph (a
        gradient probe) keeps nothing, so no batch's graph outlives it.
        """
        keep = torch.is_grad_enabled() and (
            self.training or not any(t.requires_grad for t in tensors)
        )
        self.representation = list(tensors) if keep else None

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.parameters())

    def read_block(self, task: str) -> int:
        """The (0-based) block of the stack whose output ``task``'s representation is
        shaped like (the last block, except for :class:`Hierarchical`)."""
        return self.stack.n_blocks - 1

    @property
    def out_features(self) -> dict[str, int]:
        raise NotImplementedError

    def add_tasks(self, names: list[str]) -> list[nn.Module]:
        """Extend the module to new tasks; return the new submodules (the trainable part
        when the old network stays frozen, as in ``add_tasks(freeze_shared=True)``)."""
        raise NotImplementedError


@runtime_checkable
class Architecture(Protocol):
    """A sharing architecture: parameters in ``__init__``, built per fit."""

    def build(self, stack: SharedStack, task_names: list[str]) -> ArchitectureModule:
        """A fresh module over ``stack`` for these tasks (ValueError for bad parameters)."""

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
