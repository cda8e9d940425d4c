"""IMTL-L: the loss half of impartial multi-task learning.

Liu, Li, Kuang, Xue, Chen, Yang, Liao and Zhang, "Towards Impartial
Multi-task Learning", ICLR 2021.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import WeightingStrategy
from ._gradients import check_real

__all__ = ["IMTLL"]


class _LossScales(nn.Module):
    """One learnable log-scale per task, each its own parameter.

    Separate scalar parameters (rather than one vector) so that a task absent
    from a batch gets no gradient at all (``.grad`` None) and the optimiser
    leaves its scale and moments untouched.
    """

    def __init__(self, n_tasks: int, init: float) -> None:
        super().__init__()
        self.scales = nn.ParameterList(
            nn.Parameter(torch.tensor(float(init))) for _ in range(n_tasks)
        )


class IMTLL(WeightingStrategy):
    """Learn one loss scale per task so that every scaled loss is driven towards 1.

    With a learnable log-scale ``s_i`` per task and ``c_i`` the estimator's
    static ``task_weights``, the loss over the present tasks is

    ``sum_i c_i (exp(s_i) L_i - s_i)``.

    Minimising it in ``s_i`` (its gradient is ``c_i (exp(s_i) L_i - 1)``)
    gives ``exp(s_i) = 1 / L_i``: every scaled loss ``exp(s_i) L_i`` tends to
    1, so tasks whose losses live on different scales are trained on the same
    footing (the paper's scale-invariance of IMTL-L). The scales are
    parameters of the ``nn.Module`` that :meth:`init` returns, trained with
    the network by the estimator's optimiser, as in the paper (and LibMTL).
    The network is trained on ``sum_i w_i L_i`` with

    ``w_i = c_i exp(s_i)``,

    the weights returned (and recorded in ``history_``), 0 for an absent
    task. The ``- s_i`` term of a task absent from the batch is left out too,
    so its scale gets no gradient and stays as it is.

    ``c_i`` multiplies each task's whole term, so at the optimum the weight
    is ``c_i / L_i``; putting it on ``L_i`` alone would cancel it. IMTL's
    gradient half is :class:`~skmtl.weighting.IMTLG`; the paper's full IMTL
    (both halves together) is not provided as one strategy.

    Parameters
    ----------
    init_scale : float, default=0.0
        Starting value of every log-scale ``s_i`` (0 gives every task weight
        ``c_i``, LibMTL's start).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import IMTLL
    >>> w = IMTLL()
    >>> state = w.init(["a", "b"])
    >>> total, weights = w.combine(torch.tensor([1.0, 4.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), state)
    >>> float(total.detach()), weights.tolist()
    (5.0, [1.0, 1.0])
    """

    def __init__(self, init_scale: float = 0.0) -> None:
        self.init_scale = init_scale

    def init(self, task_names):
        super().init(task_names)
        check_real("IMTLL", "init_scale", self.init_scale)
        return _LossScales(len(self.task_names_), self.init_scale)

    def combine(self, losses, present, task_weights, state):
        """``(sum_i c_i (exp(s_i) L_i - s_i), c_i exp(s_i))`` over the present tasks."""
        weights = torch.zeros_like(losses)
        idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
        if not idx:
            return (weights * losses).sum(), weights.detach()
        # Only the present tasks' scales enter the graph (absent ones get no .grad).
        s = torch.stack([state.scales[i] for i in idx]).to(losses.dtype)
        c = task_weights[idx].to(losses.dtype)
        w = c * torch.exp(s)
        total = (w * losses[idx]).sum() - (c * s).sum()
        weights = weights.index_put((torch.tensor(idx, device=losses.device),), w.detach())
        return total, weights.detach()
