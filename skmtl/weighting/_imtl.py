"""IMTL-G: the gradient half of impartial multi-task learning.

Liu, Li, Kuang, Xue, Chen, Yang, Liao and Zhang, "Towards Impartial
Multi-task Learning", ICLR 2021.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, gram, result

__all__ = ["IMTLG"]


class IMTLG(GradientAggregation):
    """Find the update whose projections onto every task's unit gradient are equal.

    With ``u_i = g_i / ||g_i||``, ``D = [g_1 - g_2, ..., g_1 - g_k]`` and
    ``U = [u_1 - u_2, ..., u_1 - u_k]``, the paper's closed form is
    ``alpha_{2:k} = g_1 U^T (D U^T)^{-1}``, ``alpha_1 = 1 - sum alpha_{2:k}``,
    and ``d = sum_i alpha_i g_i``, so that ``d . u_i`` is the same for every
    task. Computed on the Gram matrix (a least-squares solve when
    ``D U^T`` is singular, e.g. for linearly dependent gradients).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import IMTLG
    >>> d, alpha = IMTLG().aggregate(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> [round(v, 4) for v in d.tolist()], [round(v, 4) for v in alpha.tolist()]
    ([0.6667, 0.6667], [0.6667, 0.3333])
    """

    _name = "IMTL-G"

    def __init__(self, on: str = "parameters") -> None:
        self.on = on

    def aggregate(self, G):
        M = gram(G)
        k = len(M)
        if k == 1:
            return result(G, np.ones(1))
        norms = np.sqrt(np.clip(np.diag(M), 0, None))
        GU = M / np.where(norms > 0, norms, 1.0)[None, :]  # GU[a, b] = g_a . u_b
        # (D U^T)[r, s] = (g_1 - g_r) . (u_1 - u_s), r, s = 2..k; g_1 U^T[s] = g_1 . (u_1 - u_s)
        g1U = GU[0, 0] - GU[0, 1:]
        DU = GU[0, 0] - GU[0, 1:][None, :] - GU[1:, 0][:, None] + GU[1:, 1:]
        rest = np.linalg.lstsq(DU.T, g1U, rcond=None)[0]
        alpha = np.concatenate([[1.0 - rest.sum()], rest])
        return result(G, alpha)
