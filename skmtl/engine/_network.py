"""The module an estimator trains: an architecture's per-task representations, one head each."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MultiTaskNetwork"]


class MultiTaskNetwork(nn.Module):
    """``head_t(readout(body(batch)[t]))`` for every task ``t``.

    Parameters
    ----------
    body : ArchitectureModule
        Returns ``{task: representation}`` (see :mod:`skmtl.architectures`).
    heads : dict of str to nn.Module
        One head per task, from ``task.make_head``.
    levels : dict of str to {"row", "token", "generation"}
        Each task's level: a token-level or generation head is called ``head(rep, mask)``;
        a row-level head reading token vectors ``(B, T, D)`` gets them pooled
        by ``pool(rep, batch)`` first.
    pool : callable, default=None
        ``pool(token_vectors, batch) -> (B, D)``; needed only when a row-level
        task reads a token-level representation.
    weighting : nn.Module, default=None
        The weighting strategy's trainable state (moves and saves with the model).

    Attributes
    ----------
    build_groups : list of list of str
        The task names of each call that shaped the network: those of the
        architecture's ``build``, then those of every later ``body.add_tasks``
        (``add_tasks`` of the estimator appends them). Replaying the groups
        rebuilds the same module tree, which is how a saved model is loaded
        (:func:`skmtl.load`).

    ``representation`` and ``shared_parameters()`` are the body's, for the
    gradient strategies.
    """

    def __init__(self, body, heads: dict, levels: dict, pool=None, weighting=None) -> None:
        super().__init__()
        self.body = body
        # ModuleDict keys may not contain "."; task names are mapped to safe keys.
        self.task_names = list(heads)
        self.levels = dict(levels)
        self.heads = nn.ModuleDict({f"t{i}": head for i, head in enumerate(heads.values())})
        self.build_groups: list[list[str]] = [list(heads)]
        self.pool = pool
        self.weighting = weighting

    @property
    def representation(self):
        return self.body.representation

    @representation.setter
    def representation(self, value) -> None:
        self.body.representation = value

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.body.shared_parameters())

    def head(self, task: str) -> nn.Module:
        return self.heads[f"t{self.task_names.index(task)}"]

    def add_head(self, task: str, head: nn.Module, level: str) -> None:
        """Attach the head of a new task (the body must already serve it)."""
        self.heads[f"t{len(self.task_names)}"] = head
        self.task_names.append(task)
        self.levels[task] = level

    def forward(self, batch) -> dict[str, torch.Tensor]:
        reps = self.body(batch)
        mask = batch.get("mask") if isinstance(batch, dict) else None
        mask = None if mask is None else mask.to(torch.bool)
        out = {}
        for i, name in enumerate(self.task_names):
            rep, head = reps[name], self.heads[f"t{i}"]
            if self.levels[name] != "row":  # token, generation: the token vectors and mask
                out[name] = head(rep, mask)
                continue
            if rep.dim() == 3:
                if self.pool is None:
                    raise RuntimeError(f"task {name!r} reads token vectors but no pool was given.")
                rep = self.pool(rep, batch)
            out[name] = head(rep)
        return out
