"""Small helpers shared by several loss-weighting strategies."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

__all__ = ["adam_step", "check_bound"]


def check_bound(owner: str, name: str, value, *, low: float, strict: bool) -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and np.isfinite(value)
        and (value > low if strict else value >= low)
    )
    if not ok:
        op = ">" if strict else ">="
        raise ValueError(f"{owner} {name} must be a finite number {op} {low}, got {value!r}.")


def adam_step(
    value: torch.Tensor,
    grad: torch.Tensor,
    state: nn.Module,
    mask: torch.Tensor,
    lr: float,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> None:
    """One Adam step on the entries of ``value`` where ``mask``, in place.

    Moments and step counts live in ``state``'s buffers ``adam_m``,
    ``adam_v`` and ``adam_steps`` (per entry, so a task that is absent from a
    batch keeps its optimiser state untouched). ``weight_decay`` is Adam's
    L2 term (added to the gradient), as ``torch.optim.Adam``.
    """
    b1, b2 = betas
    # In place and with few operations: this runs at every training step on a
    # vector of n_tasks entries, where each tensor operation's fixed cost dominates.
    on = mask.to(value.dtype)
    g = grad.add(value, alpha=weight_decay) if weight_decay else grad
    state.adam_steps.add_(on)
    state.adam_m.addcmul_(g - state.adam_m, on, value=1 - b1)
    state.adam_v.addcmul_(g * g - state.adam_v, on, value=1 - b2)
    t = state.adam_steps.clamp_min(1)
    denom = (state.adam_v / (1 - torch.pow(b2, t))).sqrt_().add_(eps)
    step = state.adam_m / (1 - torch.pow(b1, t))
    value.addcdiv_(step.mul_(on), denom, value=-lr)
