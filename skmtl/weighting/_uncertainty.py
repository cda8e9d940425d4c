"""Homoscedastic uncertainty weighting.

Kendall, Gal and Cipolla, "Multi-Task Learning Using Uncertainty to Weigh
Losses for Scene Geometry and Semantics", CVPR 2018.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import WeightingStrategy

__all__ = ["UncertaintyWeighting"]


class _LogVariances(nn.Module):
    def __init__(self, n_tasks: int, init: float) -> None:
        super().__init__()
        self.log_var = nn.Parameter(torch.full((n_tasks,), float(init)))


class UncertaintyWeighting(WeightingStrategy):
    """Learn one log-variance ``s_t`` per task: ``sum_t 0.5 exp(-s_t) w_t L_t + 0.5 s_t``.

    The regression form of Kendall et al. (2018), used for every task type as
    in LibMTL. At the optimum ``exp(s_t)`` equals the task's (weighted) loss,
    so noisier tasks get smaller weights ``0.5 exp(-s_t)``. ``w_t`` are the
    estimator's static ``task_weights``.

    Parameters
    ----------
    init_log_var : float, default=0.0
        Starting value of every ``s_t`` (0 gives every task weight 0.5).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import UncertaintyWeighting
    >>> w = UncertaintyWeighting()
    >>> state = w.init(["a", "b"])
    >>> total, weights = w.combine(torch.tensor([1.0, 2.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), state)
    >>> weights.tolist()
    [0.5, 0.5]
    """

    def __init__(self, init_log_var: float = 0.0) -> None:
        self.init_log_var = init_log_var

    def init(self, task_names):
        super().init(task_names)
        return _LogVariances(len(task_names), self.init_log_var)

    def combine(self, losses, present, task_weights, state):
        log_var = state.log_var
        on = present.to(losses.dtype)
        weights = 0.5 * torch.exp(-log_var) * task_weights * on
        # The regulariser only counts where the task was seen in this batch.
        total = (weights * losses).sum() + 0.5 * (log_var * on).sum()
        return total, weights
