"""Fast Adaptive Multitask Optimization.

Liu, Liu, Stone and Liu, "FAMO: Fast Adaptive Multitask Optimization",
NeurIPS 2023.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import WeightingStrategy, release_representation
from ._utils import adam_step, check_bound

__all__ = ["FAMO"]

_EPS = 1e-8


class _FAMOState(nn.Module):
    """Task logits and their optimiser's state, as buffers (updated by FAMO itself)."""

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        self.register_buffer("logits", torch.zeros(n_tasks))
        self.register_buffer("adam_m", torch.zeros(n_tasks))
        self.register_buffer("adam_v", torch.zeros(n_tasks))
        self.register_buffer("adam_steps", torch.zeros(n_tasks))


def _masked_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    z = torch.softmax(logits.masked_fill(~mask, -torch.inf), dim=0)
    return torch.nan_to_num(z, nan=0.0)  # no task in the mask: all 0


class FAMO(WeightingStrategy):
    """Decrease every task's log-loss at about the same rate, in O(1) per step.

    With task logits ``xi`` and weights ``z = softmax(xi)``, the loss is

    ``sum_i c_i z_i log(L_i + eps) / s``,  ``s = sum_i z_i / (L_i + eps)``

    (``s`` held constant), so the update direction is
    ``sum_i z_i grad L_i / (s L_i)``, the paper's ``d_t``; ``c_i`` are the
    estimator's static ``task_weights``. The logits then follow the observed
    change of the log-losses: with ``delta_i = log L_i(t) - log L_i(t+1)``
    the logits take an Adam step (rate ``learning_rate``, L2 term
    ``weight_decay``, the paper's ``gamma``) along ``J_softmax^T delta``, so a
    task whose loss fell less than the others gains weight.

    One-step-delay implementation: the paper measures ``L(t+1)`` with a second
    forward pass on the same batch after the update. Here the logits are
    updated at the start of the next step, from the previous step's
    log-losses and the current ones (a different batch), so training costs
    no extra forward pass; the noise of changing batches averages out over
    steps. Only tasks present in both batches take part in an update (an
    absent task's logit and optimiser state are untouched), and the softmax
    of a step runs over the tasks present in it.

    The weights returned (and recorded in ``history_``) are ``c_i z_i``:
    with ``task_weights=None`` they are positive and sum to 1 over the
    present tasks.

    Parameters
    ----------
    learning_rate : float, default=0.025
        Adam step size of the logits (> 0); the paper's ``beta``.
    weight_decay : float, default=1e-3
        L2 regularisation of the logits (>= 0); the paper's ``gamma``.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import FAMO
    >>> w = FAMO()
    >>> state = w.init(["a", "b"])
    >>> total, weights = w.combine(torch.tensor([1.0, 4.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), state)
    >>> weights.tolist()
    [0.5, 0.5]
    """

    def __init__(self, learning_rate: float = 0.025, weight_decay: float = 1e-3) -> None:
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def init(self, task_names):
        super().init(task_names)
        check_bound("FAMO", "learning_rate", self.learning_rate, low=0.0, strict=True)
        check_bound("FAMO", "weight_decay", self.weight_decay, low=0.0, strict=False)
        self.prev_log_losses_ = None
        self.prev_present_ = None
        return _FAMOState(len(self.task_names_))

    def combine(self, losses, present, task_weights, state):
        """The loss with the current logits (no update)."""
        z = _masked_softmax(state.logits.detach(), present).to(losses.dtype)
        weights = z * task_weights
        safe = torch.where(present, losses, torch.ones_like(losses)).clamp_min(0) + _EPS
        scale = (z / safe.detach()).sum().clamp_min(_EPS)
        total = torch.where(present, weights * torch.log(safe), torch.zeros_like(losses)).sum()
        return total / scale, weights

    def backward(self, losses, present, task_weights, state, network):
        log_now = torch.log(losses.detach().clamp_min(0) + _EPS).to(state.logits.dtype)
        if self.prev_log_losses_ is not None:
            self._update(log_now, present, state)
        # The gradient of combine()'s loss is sum_i c_i z_i / (s (L_i + eps)) grad L_i:
        # back-propagate that linear combination (detached coefficients), the same
        # gradient through a graph as small as equal weighting's.
        with torch.no_grad():
            z = _masked_softmax(state.logits, present).to(losses.dtype)
            weights = z * task_weights
            safe = torch.where(present, losses.detach(), 1.0).clamp_min(0) + _EPS
            scale = (z / safe).sum().clamp_min(_EPS)
            coef = torch.where(present & (losses.detach() >= 0), weights / (safe * scale), 0.0)
        if losses.requires_grad:
            (coef * losses).sum().backward()
        release_representation(network)
        self.prev_log_losses_ = log_now
        self.prev_present_ = present.detach().clone()
        return weights.detach()

    @torch.no_grad()
    def _update(self, log_now, present, state) -> None:
        # No host sync: with no task in both steps the mask leaves everything as it is.
        both = present & self.prev_present_.to(present.device)
        prev = self.prev_log_losses_.to(log_now.device)
        delta = torch.where(both, prev - log_now, 0.0)
        z = _masked_softmax(state.logits, both)
        # J_softmax^T delta, over the tasks in both steps.
        grad = torch.where(both, z * (delta - (z * delta).sum()), 0.0)
        adam_step(
            state.logits,
            grad,
            state,
            both,
            float(self.learning_rate),
            weight_decay=float(self.weight_decay),
        )
