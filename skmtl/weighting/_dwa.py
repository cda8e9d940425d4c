"""Dynamic Weight Average.

Liu, Johns and Davison, "End-to-End Multi-Task Learning with Attention",
CVPR 2019.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ._base import WeightingStrategy

__all__ = ["DWA"]


class DWA(WeightingStrategy):
    """Weigh tasks by how slowly their loss fell over the last two epochs.

    For epoch ``t`` the weight of task ``k`` is

    ``lambda_k(t) = K exp(r_k(t-1) / T) / sum_i exp(r_i(t-1) / T)``,
    ``r_k(t-1) = L_k(t-1) / L_k(t-2)``,

    with ``K`` the number of tasks (so the weights sum to ``K``), ``T`` the
    temperature and ``L_k`` the mean training loss of task ``k`` over an
    epoch (the losses the estimator passes to :meth:`end_epoch`). A task whose
    loss stalls (ratio near 1) gets more weight than one whose loss falls fast.
    The first two epochs use weight 1 for every task. The loss is
    ``sum_k lambda_k w_k L_k`` with ``w_k`` the estimator's ``task_weights``.

    A task with no labelled row in one of the two epochs (mean loss 0) or a
    non-finite loss has no ratio; it gets the neutral ratio 1.

    Parameters
    ----------
    temperature : float, default=2.0
        Softness ``T`` of the softmax (> 0); large values give every task
        weight 1. The paper uses 2.

    Attributes
    ----------
    epoch_losses_ : list of ndarray
        The mean task losses of the last (at most) two epochs.
    dwa_weights_ : ndarray of shape (n_tasks,)
        The weights of the current epoch (before ``task_weights``).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skmtl.weighting import DWA
    >>> w = DWA(temperature=2.0)
    >>> _ = w.init(["a", "b"])
    >>> w.end_epoch(np.array([1.0, 1.0]))
    >>> w.end_epoch(np.array([0.5, 1.0]))  # "a" halved, "b" stalled
    >>> total, weights = w.combine(torch.tensor([1.0, 1.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), None)
    >>> [round(v, 3) for v in weights.tolist()]
    [0.876, 1.124]
    """

    def __init__(self, temperature: float = 2.0) -> None:
        self.temperature = temperature

    def init(self, task_names):
        super().init(task_names)
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not np.isfinite(t) or t <= 0:
            raise ValueError(f"DWA temperature must be a finite number > 0, got {t!r}.")
        self.epoch_losses_ = []
        self.dwa_weights_ = np.ones(len(self.task_names_))
        return None

    def combine(self, losses, present, task_weights, state):
        dwa = torch.as_tensor(self.dwa_weights_, dtype=losses.dtype, device=losses.device)
        weights = dwa * task_weights * present.to(losses.dtype)
        return (weights * losses).sum(), weights

    def end_epoch(self, epoch_task_losses) -> None:
        losses = np.asarray(epoch_task_losses, dtype=np.float64).reshape(-1)
        self.epoch_losses_ = [*self.epoch_losses_[-1:], losses]
        if len(self.epoch_losses_) < 2:
            return
        before, last = self.epoch_losses_
        valid = (before > 0) & (last > 0) & np.isfinite(before) & np.isfinite(last)
        ratio = np.ones_like(last)
        ratio[valid] = last[valid] / before[valid]
        logits = ratio / float(self.temperature)
        e = np.exp(logits - logits.max())
        self.dwa_weights_ = len(ratio) * e / e.sum()
