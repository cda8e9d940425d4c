"""GradVac: gradient vaccine.

Wang, Tsvetkov, Firat and Cao, "Gradient Vaccine: Investigating and
Improving Multi-task Optimization in Massively Multilingual Models",
ICLR 2021.
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result, seeded_rng

__all__ = ["GradVac"]


def gradvac_weights(M, targets, beta, order):
    """GradVac on the Gram matrix ``M``: ``(alpha, new_targets)``.

    ``targets[i, j]`` is the EMA cosine target ``phi_hat_ij``; ``order(k)``
    returns the order in which task ``i`` visits the others.
    """
    k = len(M)
    C = np.eye(k)
    new = np.array(targets, dtype=np.float64, copy=True)
    norms = np.sqrt(np.clip(np.diag(M), 0, None))
    for i in range(k):
        for j in order(k):
            if j == i or norms[j] <= 0:
                continue
            pc_norm = np.sqrt(max(C[i] @ M @ C[i], 0.0))
            if pc_norm <= 0:
                continue
            phi = float(np.clip(C[i] @ M[:, j] / (pc_norm * norms[j]), -1.0, 1.0))
            target = float(targets[i, j])
            if phi < target:
                C[i, j] += (
                    pc_norm
                    * (target * np.sqrt(1 - phi**2) - phi * np.sqrt(1 - target**2))
                    / (norms[j] * np.sqrt(1 - target**2))
                )
            new[i, j] = (1 - beta) * target + beta * phi
    return C.sum(0), new


class GradVac(GradientAggregation):
    """Raise every pair's gradient cosine towards its running average.

    For each task ``i`` and other task ``j`` (random order), with
    ``phi_ij = cos(g_i', g_j)`` for the current (already corrected) ``g_i'``
    and the target ``phi_hat_ij`` an exponential moving average of past
    cosines (starting at 0), if ``phi_ij < phi_hat_ij``:

    ``g_i' <- g_i' + ||g_i'|| (phi_hat sqrt(1 - phi^2) - phi sqrt(1 - phi_hat^2))
    / (||g_j|| sqrt(1 - phi_hat^2)) g_j``

    which makes ``cos(g_i', g_j) = phi_hat_ij``; then
    ``phi_hat_ij <- (1 - beta) phi_hat_ij + beta phi_ij``. The update is
    ``d = sum_i g_i'``. With the target at 0 this is PCGrad. The paper
    applies the procedure per layer group; here it runs on all shared
    parameters at once. ``alpha`` are the exact coefficients of ``d``.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    beta : float, default=0.01
        EMA rate of the cosine targets, in [0, 1] (the paper's 1e-2).
    random_state : int, Generator or None, default=None
        Seed of the visiting order. None draws the seed from torch's global
        generator when the strategy is initialised, which the estimator seeds
        from its own ``random_state`` during ``fit``: the strategy is then
        reproducible exactly when the estimator is.

    Attributes
    ----------
    targets_ : ndarray of shape (n_tasks, n_tasks)
        The EMA cosine targets ``phi_hat``.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import GradVac
    >>> d, alpha = GradVac().aggregate(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    >>> d.tolist(), alpha.tolist()  # the first step (targets 0) is PCGrad's
    ([0.5, 1.5], [2.0, 1.5])
    """

    _name = "GradVac"

    def __init__(self, on: str = "parameters", beta: float = 0.01, random_state=None) -> None:
        self.on = on
        self.beta = beta
        self.random_state = random_state

    def init(self, task_names):
        super().init(task_names)
        self.targets_ = np.zeros((len(self.task_names_), len(self.task_names_)))
        return None

    def _validate(self) -> None:
        check_real("GradVac", "beta", self.beta, low=0.0, high=1.0)
        self._rng = seeded_rng(self.random_state)

    def _aggregate_tasks(self, G, tasks):
        if getattr(self, "_rng", None) is None:
            self._validate()
        if getattr(self, "targets_", None) is None or len(self.targets_) <= max(tasks):
            self.targets_ = np.zeros((max(tasks) + 1, max(tasks) + 1))
        sub = np.ix_(tasks, tasks)
        alpha, new = gradvac_weights(
            gram(G), self.targets_[sub], float(self.beta), self._rng.permutation
        )
        self.targets_[sub] = new
        return result(G, alpha)

    def aggregate(self, G):
        return self._aggregate_tasks(G, list(range(G.shape[0])))
