"""Aligned-MTL: aligning the principal components of the task gradients.

Senushkin, Patakin, Kuznetsov and Konushin, "Independent Component
Alignment for Multi-Task Learning", CVPR 2023.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, gram, result

__all__ = ["AlignedMTL"]


class AlignedMTL(GradientAggregation):
    """Replace the task gradients by an orthogonal set of equal norms (condition number 1).

    With ``G = U S V^T`` (thin SVD, computed from the eigendecomposition of
    ``G G^T = U S^2 U^T``, keeping the numerically non-zero eigenvalues),
    the aligned gradients are the rows of ``G_hat = B G`` with
    ``B = s_min U S^{-1} U^T``: on the span of the gradients they are
    mutually orthogonal with norm ``s_min``, the smallest singular value.
    The update is ``d = G_hat^T 1 = sum_i alpha_i g_i`` with ``alpha = B 1``.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the paper's cheaper
        Aligned-MTL-UB), see :class:`~skmtl.weighting.GradientAggregation`.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import AlignedMTL
    >>> d, alpha = AlignedMTL().aggregate(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> d.tolist(), alpha.tolist()
    ([1.0, 1.0], [1.0, 0.5])
    """

    _name = "Aligned-MTL"

    def __init__(self, on: str = "parameters") -> None:
        self.on = on

    @staticmethod
    def alignment_matrix(M: np.ndarray) -> np.ndarray:
        """``B`` for the Gram matrix ``M`` (zeros when every gradient is 0)."""
        lam, V = np.linalg.eigh(M)
        tol = max(float(lam.max()), 0.0) * len(M) * np.finfo(np.float64).eps
        keep = lam > tol
        if not keep.any():
            return np.zeros_like(M)
        lam, V = lam[keep], V[:, keep]
        return np.sqrt(lam.min()) * (V / np.sqrt(lam)) @ V.T

    def aggregate(self, G):
        B = self.alignment_matrix(gram(G))
        return result(G, B.sum(1))
