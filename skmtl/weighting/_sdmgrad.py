"""SDMGrad: stochastic direction-oriented multi-objective gradient descent.

Xiao, Ban and Ji, "Direction-oriented Multi-objective Learning: Simple and
Provable Stochastic Algorithms", NeurIPS 2023.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._gradients import GradientAggregation, check_real, gram, result
from ._simplex import SimplexWeights, project_simplex

__all__ = ["SDMGrad", "sdmgrad_weights"]


def sdmgrad_weights(
    M: np.ndarray,
    w: np.ndarray,
    lamda: float,
    niter: int,
    learning_rate: float,
    momentum: float,
) -> np.ndarray:
    """``niter`` projected momentum-SGD steps of SDMGrad's inner problem, from ``w``.

    The problem is ``min_{w in simplex} ||G^T (w + lamda w0)||^2 / 2`` with
    ``w0`` uniform, on ``M = G G^T`` divided by ``(mean_i sqrt(M_ii))^2``
    (the mean task-gradient norm, squared; as LibMTL and TorchJD do, so that
    the step size does not depend on the gradients' scale). The momentum
    buffer starts at 0 at each call. Returns the new ``w``.
    """
    k = len(M)
    scale = float(np.sqrt(np.clip(np.diag(M), 0.0, None)).mean())
    A = M / (scale**2 + 1e-8)
    w0 = np.full(k, 1.0 / k)
    pull = lamda * (A @ w0)
    velocity = None
    for _ in range(niter):
        grad = A @ w + pull
        velocity = grad if velocity is None else momentum * velocity + grad
        w = project_simplex(w - learning_rate * velocity)
    return w


class SDMGrad(SimplexWeights, GradientAggregation):
    """Step along the direction closest to the mean gradient among the conflict-averse ones.

    With ``g_w = G^T w`` and the mean gradient ``g_0 = G^T w_0``
    (``w_0 = 1/k``), SDMGrad's direction-oriented problem has the dual

    ``w* = argmin_{w in simplex} ||g_w + lamda g_0||^2 / 2``

    and the update ``d = (g_w* + lamda g_0) / (1 + lamda)``: ``lamda = 0`` is
    MGDA's min-norm point, a large ``lamda`` the mean gradient. The weights
    are not solved exactly: each step runs ``niter`` projected momentum-SGD
    iterations (rate ``learning_rate``, momentum ``momentum``, the momentum
    reset at each step) on the gradient ``A (w + lamda w_0)``, warm-started
    from the previous step's ``w``, where ``A`` is ``G_1 G_2^T`` divided by
    ``(mean_i ||g_i||)^2 + 1e-8`` (``||g_i||^2`` read off the diagonal,
    clipped at 0, as in LibMTL and TorchJD; the official code adds 1e-4 to
    the diagonal instead), so that the step size does not depend on the
    gradients' scale.

    **Single-sample variant.** The paper, its official code and LibMTL draw
    three separate mini-batches per step (each with its own forward and
    backward pass): ``G_1 G_2^T`` from two of them (``xi``, ``xi'``, an
    unbiased estimate of ``E[G] E[G]^T``) and ``d`` from the third
    (``zeta``). The :class:`~skmtl.weighting.GradientAggregation` API gives
    one batch's ``G`` per step, so here ``G_1 = G_2 = G`` (``A`` is the
    Gramian ``G G^T``, rescaled) and ``d = G^T alpha`` of the same batch;
    this is TorchJD's ``SDMGradWeighting`` applied to ``G G^T``.
    ``alpha = (w + lamda w_0) / (1 + lamda)`` sums to 1, as in LibMTL and
    TorchJD (the official code multiplies ``d`` by the number of tasks).

    ``G``'s rows are the gradients of ``c_i L_i`` (``c_i`` the estimator's
    ``task_weights``); the reported weights are ``c_i alpha_i``. A task
    absent from a batch keeps its ``w_i``: the inner iterations run over the
    present tasks (``w_0`` uniform over them), on their weights renormalised
    to their own simplex, and the result is stored back at their previous
    total (see ``weights_``).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`. (LibMTL supports only
        the parameters.)
    lamda : float, default=0.3
        Pull towards the mean gradient (>= 0); the paper's ``lambda`` and
        LibMTL's ``SDMGrad_lamda`` (0.3 in the official experiments).
    niter : int, default=20
        Inner iterations on the weights per training step (>= 1).
    learning_rate : float, default=10.0
        Step size of the inner iterations (> 0); 10 in the official code and
        TorchJD, 5 in LibMTL. The iterations settle on the optimum only for a
        step below about ``2 / ||A||`` (``||A||`` is about the number of tasks
        for gradients of similar norms). With the official 10 they need not:
        on a fixed ``G`` they may cycle between corners of the simplex, so
        that ``w`` is mostly one task's (as in the official code). A value
        such as 0.5 with the default ``niter`` solves the inner problem.
    momentum : float, default=0.5
        Momentum of the inner iterations, in [0, 1).

    Attributes
    ----------
    weights_ : ndarray of shape (n_tasks,)
        The inner problem's current ``w`` (on the simplex), starting uniform.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import SDMGrad
    >>> sdm = SDMGrad(lamda=0.0, learning_rate=0.2, niter=100)
    >>> _ = sdm.init(["a", "b"])
    >>> G = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> d, alpha = sdm.aggregate(G)  # lamda=0: MGDA's min-norm point
    >>> [round(v, 4) for v in alpha.tolist()], [round(v, 4) for v in d.tolist()]
    ([0.8, 0.2], [0.8, 0.4])
    >>> sdm.set_params(lamda=1.0).aggregate(G)[1].tolist()  # half the mean's (0.5, 0.5)
    [0.75, 0.25]
    """

    _name = "SDMGrad"

    def __init__(
        self,
        on: str = "parameters",
        lamda: float = 0.3,
        niter: int = 20,
        learning_rate: float = 10.0,
        momentum: float = 0.5,
    ) -> None:
        self.on = on
        self.lamda = lamda
        self.niter = niter
        self.learning_rate = learning_rate
        self.momentum = momentum

    def init(self, task_names):
        super().init(task_names)
        self._start(len(self.task_names_))
        return None

    def _validate(self) -> None:
        check_real("SDMGrad", "lamda", self.lamda, low=0.0)
        if (
            isinstance(self.niter, bool)
            or not isinstance(self.niter, numbers.Integral)
            or self.niter < 1
        ):
            raise ValueError(f"SDMGrad niter must be an integer >= 1, got {self.niter!r}.")
        check_real("SDMGrad", "learning_rate", self.learning_rate, low=0.0, low_open=True)
        check_real("SDMGrad", "momentum", self.momentum, low=0.0, high=1.0, high_open=True)

    def _aggregate_tasks(self, G, tasks):
        self._validate()
        tasks = list(tasks)
        w, s = self._present_weights(tasks)
        M = gram(G)
        lamda = float(self.lamda)
        if np.all(np.isfinite(M)):
            w = sdmgrad_weights(
                M, w, lamda, int(self.niter), float(self.learning_rate), float(self.momentum)
            )
            self._store(tasks, w, s)
        alpha = (w + lamda / len(tasks)) / (1.0 + lamda)
        return result(G, alpha)

    def aggregate(self, G):
        return self._aggregate_tasks(G, list(range(G.shape[0])))
