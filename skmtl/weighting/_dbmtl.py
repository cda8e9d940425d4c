"""Dual-Balancing Multi-Task Learning.

Lin, Ye, Xu, Shi, Zhang and Kwok, "Dual-Balancing for Multi-Task
Learning", arXiv:2308.12029, 2023.
"""

from __future__ import annotations

import numpy as np
import torch

from ._base import WeightingStrategy, release_representation, trainable_shared
from ._gradients import write_shared_grad
from ._utils import check_bound

__all__ = ["DBMTL"]

_EPS = 1e-8


class DBMTL(WeightingStrategy):
    """Balance loss scales with a log transform and gradient magnitudes by rescaling.

    Loss-scale balancing: every task optimises ``log(L_i + eps)``, whose
    gradient ``grad L_i / L_i`` does not change when ``L_i`` is multiplied by
    a constant. Gradient-magnitude balancing: on the shared parameters, each
    task's gradient ``g_i`` of its log-loss is smoothed by an exponential
    moving average ``gbar_i <- g_i + beta_t (gbar_i - g_i)`` with
    ``beta_t = beta / t^beta_sigma`` (``t`` the task's step count, ``gbar_i``
    starting at 0), rescaled to the largest norm and summed:

    ``grad_shared = sum_i c_i alpha_i gbar_i``,
    ``alpha_i = max_j ||gbar_j|| / ||gbar_i||``,

    with ``c_i`` the estimator's static ``task_weights``. Task-specific
    parameters (the heads) get the ordinary gradient of
    ``sum_i c_i log(L_i + eps)``.

    Implementation: :meth:`backward` computes each present task's gradient on
    the trainable shared parameters (``network.shared_parameters()``) with
    ``torch.autograd.grad`` (one backward pass through the trunk per task, as
    in LibMTL), back-propagates the log-loss sum into the other parameters
    only (``backward(inputs=...)``), then adds ``grad_shared`` to the shared
    parameters' ``.grad``. The EMAs (one flat vector per task over all
    shared parameters) live in ``grad_ema_``; an absent task's EMA and step
    count are left as they are.

    The weights returned (and recorded in ``history_``) are the effective
    scale factors ``c_i alpha_i`` on the smoothed log-loss gradients in the
    shared update (1 for the task with the largest gradient when
    ``task_weights`` is None), and 0 for a task absent from the batch.

    Parameters
    ----------
    beta : float, default=0.9
        EMA coefficient of the shared gradients, in [0, 1) (0: no smoothing).
    beta_sigma : float, default=0.5
        Decay exponent of the EMA coefficient over steps (>= 0).

    Attributes
    ----------
    grad_ema_ : Tensor of shape (n_tasks, n_shared_values) or None
        The smoothed shared gradients (None before the first step).
    steps_ : ndarray of shape (n_tasks,)
        The number of steps each task has taken part in.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skmtl.weighting import DBMTL
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.trunk, self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 1), nn.Linear(4, 1)
    ...     def shared_parameters(self):
    ...         return list(self.trunk.parameters())
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net, x = Net(), torch.randn(16, 3)
    >>> w = DBMTL()
    >>> w.init(["a", "b"]) is None
    True
    >>> h = net.trunk(x)
    >>> losses = torch.stack([net.a(h).pow(2).mean(), 100 * net.b(h).pow(2).mean()])
    >>> used = w.backward(losses, torch.tensor([True, True]), torch.ones(2), None, net)
    >>> bool(used.min() >= 1.0), float(used.min())  # the task with the largest gradient gets 1
    (True, 1.0)
    """

    def __init__(self, beta: float = 0.9, beta_sigma: float = 0.5) -> None:
        self.beta = beta
        self.beta_sigma = beta_sigma

    def init(self, task_names):
        super().init(task_names)
        check_bound("DBMTL", "beta", self.beta, low=0.0, strict=False)
        if self.beta >= 1:
            raise ValueError(f"DBMTL beta must be < 1, got {self.beta!r}.")
        check_bound("DBMTL", "beta_sigma", self.beta_sigma, low=0.0, strict=False)
        self.grad_ema_ = None
        self.steps_ = np.zeros(len(self.task_names_), dtype=np.int64)
        return None

    def combine(self, losses, present, task_weights, state):
        """The log-loss sum ``sum_i c_i log(L_i + eps)`` with weights ``c_i``.

        This is what the heads are trained on; the shared parameters need
        :meth:`backward` (magnitude balancing is not a loss).
        """
        weights = task_weights * present.to(losses.dtype)
        safe = torch.where(present, losses, torch.ones_like(losses)).clamp_min(0) + _EPS
        total = torch.where(present, weights * torch.log(safe), torch.zeros_like(losses)).sum()
        return total, weights

    def backward(self, losses, present, task_weights, state, network):
        log_total, _ = self.combine(losses, present, task_weights, state)
        shared = trainable_shared(network)
        idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
        shared_ids = {id(p) for p in shared}
        others = [p for p in network.parameters() if p.requires_grad and id(p) not in shared_ids]
        if not shared or not idx or not log_total.requires_grad:
            # Nothing shared to balance (a frozen trunk): the log-losses alone.
            if log_total.requires_grad and others:
                log_total.backward(inputs=others)
            release_representation(network)
            return (task_weights * present.to(losses.dtype)).detach()
        weights = torch.zeros_like(losses.detach())
        safe = losses.clamp_min(0) + _EPS
        n = sum(p.numel() for p in shared)
        ema = self.grad_ema_
        if ema is None or ema.shape != (len(self.task_names_), n):
            ema = shared[0].detach().new_zeros((len(self.task_names_), n))
        elif ema.device != shared[0].device:
            ema = ema.to(shared[0].device)
        self.grad_ema_ = ema
        self.steps_[idx] += 1
        beta_t = float(self.beta) / self.steps_[idx].astype(np.float64) ** float(self.beta_sigma)
        # The EMA is updated in place, one task and one parameter at a time:
        # gbar_i <- g_i + beta_t (gbar_i - g_i) = lerp(gbar_i, g_i, 1 - beta_t).
        for i, b in zip(idx, beta_t, strict=True):
            grads = (
                torch.autograd.grad(
                    torch.log(safe[i]), shared, retain_graph=True, allow_unused=True
                )
                if losses[i].requires_grad
                else [None] * len(shared)
            )
            offset = 0
            with torch.no_grad():
                for g, p in zip(grads, shared, strict=True):
                    part = ema[i, offset : offset + p.numel()]
                    offset += p.numel()
                    if g is None:  # a zero gradient
                        part.mul_(float(b))
                    elif g.is_sparse:  # row-sparse (a sparse input's first layer)
                        part.mul_(float(b)).view(p.shape).index_add_(
                            0, g._indices()[0], g._values().to(part), alpha=1.0 - float(b)
                        )
                    else:
                        part.lerp_(g.reshape(-1).to(part.dtype), 1.0 - float(b))
        if others:
            log_total.backward(inputs=others)
        release_representation(network)

        with torch.no_grad():
            norms = torch.stack([torch.linalg.vector_norm(ema[i]) for i in idx])
            alpha = norms.max() / (norms + _EPS)
            scale = alpha * task_weights.detach()[idx].to(alpha.dtype)
            update = ema[idx[0]] * scale[0]
            for r, i in enumerate(idx[1:], start=1):
                update.addcmul_(ema[i], scale[r])
            write_shared_grad(shared, update)
            weights[idx] = scale.to(weights.dtype)
        return weights
