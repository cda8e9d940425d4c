"""MoDo: multi-objective gradient with double sampling.

Chen, Fernando, Ying and Chen, "Three-Way Trade-Off in Multi-Objective
Learning: Optimization, Generalization and Conflict-Avoidance", NeurIPS 2023
(extended in JMLR 2024).
"""

from __future__ import annotations

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result
from ._simplex import SimplexWeights, project_simplex

__all__ = ["MoDo"]


class MoDo(SimplexWeights, GradientAggregation):
    """Update the task weights by one projected stochastic step per training step.

    MoDo tracks the weights ``lambda`` of MGDA's min-norm problem
    ``min_{lambda in simplex} ||G^T lambda||^2 / 2 + rho ||lambda||^2 / 2``
    with one projected gradient step per training step instead of solving it:

    ``lambda <- Proj_simplex(lambda - gamma (G_1 G_2^T lambda + rho lambda))``,
    ``d = G_3^T lambda``

    where the paper's ``G_1``, ``G_2`` (and ``G_3``) are the task gradients of
    independent mini-batches, so that ``G_1 G_2^T lambda`` is an unbiased
    estimate of the gradient of ``||G^T lambda||^2 / 2``; the weights converge
    to the min-norm point (MGDA's) as the steps shrink.

    **Single-sample variant.** The strategy sees one batch's gradient matrix
    ``G`` per step (the :class:`~skmtl.weighting.GradientAggregation` API),
    so here ``G_1 = G_2 = G_3 = G``:
    ``lambda <- Proj(lambda - gamma (G G^T lambda + rho lambda))`` and
    ``d = G^T lambda`` with the updated ``lambda``. This is TorchJD's
    ``MoDoWeighting`` applied to the Gramian ``G G^T`` (which its
    documentation warns loses the paper's unbiasedness guarantee:
    ``E[G G^T]`` over-estimates ``E[G] E[G]^T`` by the gradients'
    covariance). The paper, its official code and LibMTL instead draw two
    (LibMTL: three) separate mini-batches per step from the data loader, each
    with its own forward and backward pass, and update the network with the
    third one (``d = G_3^T lambda``).

    ``G``'s rows are the gradients of ``c_i L_i`` (``c_i`` the estimator's
    ``task_weights``); the reported weights are ``c_i lambda_i``. A task
    absent from a batch keeps its ``lambda_i``; the step runs on the present
    tasks' weights renormalised to their own simplex and is stored back at
    their previous total (see ``weights_``).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`. (LibMTL supports only
        the parameters.)
    gamma : float, default=1e-3
        Step size of the weights' update (> 0); LibMTL's ``MoDo_gamma``
        (TorchJD's default is 0.1). It multiplies squared gradient norms:
        scale it with the size of the gradients.
    rho : float, default=0.1
        L2 regularisation of the weights (>= 0); LibMTL's ``MoDo_rho``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_tasks,)
        The current ``lambda`` (on the simplex), starting uniform.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import MoDo
    >>> modo = MoDo(gamma=0.1, rho=0.0)
    >>> _ = modo.init(["a", "b"])
    >>> G = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> d, alpha = modo.aggregate(G)  # lambda - 0.1 (G G^T) lambda, projected
    >>> [round(v, 4) for v in alpha.tolist()], [round(v, 4) for v in d.tolist()]
    ([0.575, 0.425], [0.575, 0.85])
    >>> for _ in range(200):  # on a fixed G: towards the min-norm point (0.8, 0.2)
    ...     d, alpha = modo.aggregate(G)
    >>> [round(v, 4) for v in alpha.tolist()]
    [0.8, 0.2]
    """

    _name = "MoDo"

    def __init__(self, on: str = "parameters", gamma: float = 1e-3, rho: float = 0.1) -> None:
        self.on = on
        self.gamma = gamma
        self.rho = rho

    def init(self, task_names):
        super().init(task_names)
        self._start(len(self.task_names_))
        return None

    def _validate(self) -> None:
        check_real("MoDo", "gamma", self.gamma, low=0.0, low_open=True)
        check_real("MoDo", "rho", self.rho, low=0.0)

    def _aggregate_tasks(self, G, tasks):
        self._validate()
        tasks = list(tasks)
        lam, s = self._present_weights(tasks)
        M = gram(G)
        if np.all(np.isfinite(M)):
            lam = project_simplex(lam - float(self.gamma) * (M @ lam + float(self.rho) * lam))
            self._store(tasks, lam, s)
        return result(G, lam)

    def aggregate(self, G):
        return self._aggregate_tasks(G, list(range(G.shape[0])))
