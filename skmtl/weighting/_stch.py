"""Smooth Tchebycheff scalarization.

Lin, Zhang, Yang, Zhang and Zhang, "Smooth Tchebycheff Scalarization for
Multi-Objective Optimization", ICML 2024.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ._base import WeightingStrategy
from ._utils import check_bound

__all__ = ["STCH"]

_EPS = 1e-8


class STCH(WeightingStrategy):
    """Minimise a smooth maximum of the tasks' log-losses relative to a reference point.

    After a warm-up, over the ``k`` tasks present in the batch, the loss is

    ``STCH = k mu log sum_i exp(c_i (log(L_i + eps) - log z_i) / mu)``,

    a smooth version of the Tchebycheff scalarization
    ``k max_i c_i (log L_i - log z_i)``, which it approaches from above as
    ``mu -> 0`` (it exceeds it by at most ``k mu log k``). ``c_i`` are the
    estimator's static ``task_weights`` (the paper's preference vector
    ``lambda``), ``mu`` is the smoothing parameter and ``z_i`` the reference
    point: as in the official multi-task code (and LibMTL), the log-losses are
    normalised by the task's mean training loss in the last warm-up epoch,
    so every task starts near ``log(L_i / z_i) = 0``. The factor ``k`` is
    LibMTL's, which keeps the update on the scale of the warm-up's.

    Its gradient is ``sum_i w_i grad L_i`` with

    ``w_i = k p_i c_i / (L_i + eps)``,  ``p = softmax(c (log(L + eps) - log z) / mu)``,

    the weights returned (and recorded in ``history_``), 0 for an absent
    task: the task that is furthest above its reference point gets most of
    the weight (all of it as ``mu -> 0``).

    Warm-up: for the first ``warmup_epochs`` epochs the loss is the
    log-loss sum ``sum_i c_i log(L_i + eps)`` (weights ``c_i / (L_i + eps)``),
    as in LibMTL. At the end of each warm-up epoch (:meth:`end_epoch`, which
    the estimator calls with each task's mean loss over the epoch's batches)
    ``z_i`` is set to that mean, so the reference point is the last warm-up
    epoch's (LibMTL's average over the batches of its last warm-up epoch). A
    task without labels in an epoch (mean loss 0) keeps its previous ``z_i``;
    one that had none in any warm-up epoch takes it from the first later
    epoch in which it has, and uses ``z_i = 1`` until then. With
    ``warmup_epochs=0`` STCH starts at once, with ``z_i = 1`` for every task
    throughout (no normalisation).

    The losses are assumed to be ``>= 0`` (a negative one is clipped at 0);
    ``eps = 1e-8`` keeps the log finite at a zero loss (LibMTL adds ``1e-20``
    to ``L_i / z_i``). LibMTL's loss also subtracts the (detached) largest
    normalised log-loss inside the log-sum-exp without adding it back, which
    changes its value but not its gradient; the value here is the formula
    above. LibMTL reports weights 1 in both phases; the weights here are
    those of the gradient.

    Parameters
    ----------
    mu : float, default=1.0
        Smoothing parameter (> 0): small values approach the (non-smooth)
        Tchebycheff scalarization; large ones give every task the same ``p_i``,
        the gradient of the warm-up's log-loss sum. LibMTL's default.
    warmup_epochs : int, default=5
        Number of epochs trained on the log-loss sum before STCH starts
        (>= 0). LibMTL's default ``STCH_warmup_epoch=4`` counts epochs from 0
        and warms up through epoch 4, i.e. 5 epochs.

    Attributes
    ----------
    epochs_ : int
        The number of epochs finished (:meth:`end_epoch` calls).
    nadir_ : ndarray of shape (n_tasks,)
        The reference point ``z`` (NaN for a task whose reference is not
        known yet, which then uses 1).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skmtl.weighting import STCH
    >>> w = STCH(mu=1.0, warmup_epochs=1)
    >>> w.init(["a", "b"]) is None
    True
    >>> w.end_epoch(np.array([2.0, 0.5]))  # the warm-up epoch sets z = (2, 0.5)
    >>> total, weights = w.combine(torch.tensor([2.0, 1.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), None)
    >>> p = weights * torch.tensor([2.0, 1.0]) / 2  # the softmax over the normalised log-losses
    >>> [round(v, 4) for v in p.tolist()]  # exp(log 1) : exp(log 2) = 1 : 2
    [0.3333, 0.6667]
    """

    def __init__(self, mu: float = 1.0, warmup_epochs: int = 5) -> None:
        self.mu = mu
        self.warmup_epochs = warmup_epochs

    def init(self, task_names):
        super().init(task_names)
        check_bound("STCH", "mu", self.mu, low=0.0, strict=True)
        w = self.warmup_epochs
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 0:
            raise ValueError(f"STCH warmup_epochs must be an integer >= 0, got {w!r}.")
        self.epochs_ = 0
        self.nadir_ = np.full(len(self.task_names_), np.nan)
        return None

    def _warming_up(self) -> bool:
        """Whether the current epoch is a warm-up epoch (log-loss sum)."""
        return self.epochs_ < int(self.warmup_epochs)

    def combine(self, losses, present, task_weights, state):
        """``(loss, w)`` of the current phase (warm-up log-loss sum, or STCH)."""
        c = torch.where(present, task_weights.to(losses.dtype), torch.zeros_like(losses))
        safe = torch.where(present, losses, torch.ones_like(losses)).clamp_min(0) + _EPS
        log_losses = torch.log(safe)
        if self._warming_up():
            total = torch.where(present, c * log_losses, 0.0).sum()
            return total, (c / safe).detach()
        nadir = np.where(np.isfinite(self.nadir_), self.nadir_, 1.0)
        log_z = torch.as_tensor(np.log(nadir), device=losses.device).to(losses.dtype)
        mu = float(self.mu)
        scaled = torch.where(present, c * (log_losses - log_z) / mu, -torch.inf)
        k = present.sum().to(losses.dtype)
        lse = torch.logsumexp(scaled, dim=0)
        total = torch.where(k > 0, k * mu * lse, torch.zeros_like(lse))
        p = torch.nan_to_num(torch.softmax(scaled.detach(), dim=0), nan=0.0)
        return total, (k * p * c / safe).detach()

    def end_epoch(self, epoch_task_losses) -> None:
        losses = np.asarray(epoch_task_losses, dtype=np.float64).reshape(-1)
        valid = np.isfinite(losses) & (losses > 0)
        # During warm-up every epoch with labels updates z (the last one counts);
        # afterwards only a task without a reference yet takes one (none without warm-up).
        if self._warming_up():
            update = valid
        elif int(self.warmup_epochs) > 0:
            update = valid & ~np.isfinite(self.nadir_)
        else:
            update = np.zeros_like(valid)
        self.nadir_ = np.where(update, losses, self.nadir_)
        self.epochs_ += 1
