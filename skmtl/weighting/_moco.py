"""MoCo: multi-objective gradient correction with tracked task gradients.

Fernando, Shen, Liu, Chaudhury, Murugesan and Chen, "Mitigating Gradient
Bias in Multi-Objective Learning: A Provably Convergent Approach", ICLR 2023.
"""

from __future__ import annotations

import numpy as np
import torch

from ._gradients import GradientAggregation, check_real, combine_rows, gram
from ._simplex import project_simplex

__all__ = ["MoCo"]

_NORMALIZATIONS = ("loss", "none")


class MoCo(GradientAggregation):
    """Step along the min-norm combination of tracked task gradients, found by one step a batch.

    MGDA's weights computed from one batch's gradients are biased; MoCo
    tracks each task's gradient and moves the weights by one projected
    gradient step per batch instead of solving for them. With ``h_i`` the
    gradient of task ``i``'s weighted loss ``c_i L_i`` on the shared
    parameters, scaled to the loss value (``h_i = |c_i L_i| g_i / ||g_i||``,
    ``normalization="loss"``, as LibMTL and the authors' code) or not
    (``h_i = g_i``, ``normalization="none"``, the paper's Algorithm 1), at
    each step:

    ``y_i <- y_i - beta_t (y_i - h_i)``, ``beta_t = beta / t_i^beta_sigma``,

    ``lambda <- Proj_simplex(lambda - gamma_s (Y Y^T + rho I) lambda)``,
    ``gamma_s = gamma / s^gamma_sigma``,

    and the shared parameters' ``.grad`` is ``d = Y^T lambda = sum_i lambda_i y_i``
    (the rows ``y_i`` of ``Y`` start at 0, ``lambda`` at ``1/k``; ``t_i``
    counts task ``i``'s steps, ``s`` the steps). The heads get the ordinary
    gradient of ``sum_i c_i L_i``. With ``beta = 1`` (no memory) and
    ``rho = 0`` the weights converge, on fixed gradients, to MGDA's
    min-norm point. Parameter space only: the gradients with respect to a
    batch's representation cannot be tracked across batches.

    A task absent from the batch (or whose gradient is exactly 0) keeps its
    ``y_i``, ``t_i`` and ``lambda_i``: the weights of the present tasks are
    rescaled to sum to 1 (uniform if they sum to 0), take the step on
    their own simplex, and are stored back rescaled to their previous sum
    (left at 0 if it was 0).

    Reported weights: ``d`` is built from the tracked gradients, not from
    this batch's, so it has no exact coefficients on the batch's
    gradients. :meth:`backward` returns (and the history records)
    ``c_i lambda_i`` for each present task (``lambda`` on the present tasks'
    simplex, after the step) and 0 for an absent one: the coefficient of
    ``y_i / c_i`` (the tracked gradient of the unweighted loss) in ``d``,
    so that ``.grad = sum_i (w_i / c_i) y_i`` over the present tasks with ``y_`` after the step.

    Differences from the references: the paper projects each ``y_i`` onto a
    ball (a bound on the gradients) and LibMTL does not; neither is done
    here. LibMTL replaces the simplex projection of ``lambda`` by a
    softmax, which does not converge to the min-norm point; this follows
    the paper. Parameters and defaults are LibMTL's.

    Parameters
    ----------
    beta : float, default=0.5
        Tracking rate of the task gradients, in (0, 1] (1: no memory).
    beta_sigma : float, default=0.5
        Decay exponent of the tracking rate over a task's steps (>= 0).
    gamma : float, default=0.1
        Step size of the weights (> 0).
    gamma_sigma : float, default=0.5
        Decay exponent of the weights' step size over the steps (>= 0).
    rho : float, default=0.0
        L2 regularisation of the weights' update (>= 0).
    normalization : {"loss", "none"}, default="loss"
        "loss" scales each gradient to the norm of its weighted loss before
        tracking (LibMTL); "none" tracks the raw gradients (the paper).

    Attributes
    ----------
    y_ : Tensor of shape (n_tasks, n_shared_values) or None
        The tracked gradients ``y_i`` (None before the first step).
    lambda_ : ndarray of shape (n_tasks,)
        The task weights ``lambda``.
    steps_ : ndarray of shape (n_tasks,)
        The number of steps each task has taken part in (``t_i``).
    n_steps_ : int
        The number of weight updates (``s``).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import MGDA
    >>> from skmtl.weighting import MoCo
    >>> G = torch.tensor([[1.0, 0.0], [-1.0, 2.0]], dtype=torch.float64)
    >>> moco = MoCo(beta=1.0, beta_sigma=0.0, gamma=0.2, gamma_sigma=0.0,
    ...             normalization="none")
    >>> moco.init(["a", "b"]) is None
    True
    >>> for _ in range(200):  # fixed gradients, no tracking memory
    ...     d, lam = moco.aggregate(G)
    >>> [round(v, 4) for v in lam.tolist()], [round(v, 4) for v in MGDA().aggregate(G)[1].tolist()]
    ([0.75, 0.25], [0.75, 0.25])
    """

    _name = "MoCo"
    #: Not a parameter: MoCo tracks parameter-space gradients only.
    on = "parameters"

    def __init__(
        self,
        beta: float = 0.5,
        beta_sigma: float = 0.5,
        gamma: float = 0.1,
        gamma_sigma: float = 0.5,
        rho: float = 0.0,
        normalization: str = "loss",
    ) -> None:
        self.beta = beta
        self.beta_sigma = beta_sigma
        self.gamma = gamma
        self.gamma_sigma = gamma_sigma
        self.rho = rho
        self.normalization = normalization

    def _validate(self) -> None:
        check_real("MoCo", "beta", self.beta, low=0.0, high=1.0, low_open=True)
        check_real("MoCo", "beta_sigma", self.beta_sigma, low=0.0)
        check_real("MoCo", "gamma", self.gamma, low=0.0, low_open=True)
        check_real("MoCo", "gamma_sigma", self.gamma_sigma, low=0.0)
        check_real("MoCo", "rho", self.rho, low=0.0)
        if self.normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"MoCo normalization must be one of {_NORMALIZATIONS}, got {self.normalization!r}."
            )

    def init(self, task_names):
        super().init(task_names)
        self._reset(len(self.task_names_))
        return None

    def _reset(self, k: int) -> None:
        self.y_ = None
        self.lambda_ = np.full(k, 1.0 / k)
        self.steps_ = np.zeros(k, dtype=np.int64)
        self.n_steps_ = 0

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_losses", None)  # the batch's losses, only during backward
        return state

    def backward(self, losses, present, task_weights, state, network):
        self._losses = (task_weights * losses).detach()
        try:
            return super().backward(losses, present, task_weights, state, network)
        finally:
            self._losses = None

    def aggregate(self, G, losses=None):
        """One MoCo step on the gradients ``G`` of every task (rows in task order).

        ``losses`` are the rows' weighted losses ``c_i L_i``, needed with
        ``normalization="loss"``. Returns ``(d, lambda)`` with
        ``d = sum_i lambda_i y_i`` (the tracked gradients after the step),
        not a combination of ``G``'s rows.
        """
        self._losses = None if losses is None else torch.as_tensor(losses).detach()
        try:
            return self._aggregate_tasks(G, list(range(G.shape[0])))
        finally:
            self._losses = None

    def _aggregate_tasks(self, G, tasks):
        self._validate()
        G = G.detach()
        lam_all, y = getattr(self, "lambda_", None), getattr(self, "y_", None)
        if lam_all is None or len(lam_all) <= max(tasks):
            self._reset(max(tasks) + 1)  # not initialised (a direct call of aggregate)
        elif y is not None and (y.shape[1] != G.shape[1] or y.dtype != G.dtype):
            self._reset(len(lam_all))  # other shared parameters: start afresh
        y = self.y_
        if y is None:
            y = G.new_zeros((len(self.lambda_), G.shape[1]))
        elif y.device != G.device:
            y = y.to(G.device)
        self.y_ = y
        scale = np.ones(len(tasks))
        if self.normalization == "loss":
            losses = getattr(self, "_losses", None)
            if losses is None:
                raise ValueError("MoCo normalization='loss' needs the tasks' losses.")
            norms = np.sqrt(np.clip(np.diag(gram(G)), 0, None))
            size = np.abs(losses.detach().to("cpu", torch.float64).numpy()[tasks])
            scale = np.where(norms > 0, size / np.where(norms > 0, norms, 1.0), 0.0)
        self.steps_[tasks] += 1
        beta_t = float(self.beta) / self.steps_[tasks].astype(np.float64) ** float(self.beta_sigma)
        with torch.no_grad():
            for r, (i, b) in enumerate(zip(tasks, beta_t, strict=True)):
                # y_i <- y_i - b (y_i - h_i) = (1 - b) y_i + b h_i, in place.
                y[i].mul_(1.0 - float(b)).add_(G[r], alpha=float(b * scale[r]))
        Y = y[tasks]
        M = gram(Y)
        mass = float(self.lambda_[tasks].sum())
        lam = self.lambda_[tasks] / mass if mass > 0 else np.full(len(tasks), 1.0 / len(tasks))
        self.n_steps_ += 1
        gamma_s = float(self.gamma) / float(self.n_steps_) ** float(self.gamma_sigma)
        lam = project_simplex(lam - gamma_s * (M @ lam + float(self.rho) * lam))
        if mass > 0:
            self.lambda_[tasks] = mass * lam
        d = combine_rows(Y, lam)
        return d, torch.as_tensor(lam, device=G.device).to(G.dtype)
