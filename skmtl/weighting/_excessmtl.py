"""ExcessMTL: robust multi-task learning with excess risks.

He, Zhou, Xu and Wei, "Robust Multi-Task Learning with Excess Risks",
ICML 2024.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ._base import release_representation, trainable_shared
from ._gradients import GradientAggregation, _cut_of, check_real, result, task_gradient_matrix

__all__ = ["ExcessMTL"]

_H_EPS = 1e-7  # inside the square root of the AdaGrad accumulator, as in the official code


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + float(np.log(np.exp(x - m).sum()))


def _batch_summed(G: torch.Tensor, cut: list[torch.Tensor]) -> torch.Tensor:
    """The representation gradients ``G`` (rows: the cut's tensors flattened and
    concatenated) summed over all but each tensor's last dimension."""
    parts, offset = [], 0
    for z in cut:
        block = G.detach()[:, offset : offset + z.numel()]
        offset += z.numel()
        if z.dim() >= 2:
            parts.append(block.reshape(G.shape[0], -1, z.shape[-1]).sum(dim=1))
        else:
            parts.append(block.sum(dim=1, keepdim=True))
    return torch.cat(parts, dim=1)


class ExcessMTL(GradientAggregation):
    """Weigh tasks by their estimated excess risk, with multiplicative weights.

    The excess risk of task ``i`` (its loss above the best it can reach) is
    estimated from a second-order Taylor expansion as
    ``E_i = g_i^T H_i^{-1} g_i``, with ``g_i`` the task's gradient and the
    diagonal Hessian ``H_i`` approximated as in AdaGrad by the root of the
    task's accumulated squared gradients:

    ``S_i <- S_i + g_i^2``,  ``E_i = sum_j g_ij^2 / sqrt(S_ij + 1e-7)``.

    Each task's first ``n_warmup_steps`` steps only accumulate ``S_i``; their
    mean ``E_i`` becomes the task's baseline ``E_i^0`` (the paper's scale
    processing, which makes tasks with losses of different scales
    comparable). From then on every step updates the task weights by
    exponentiated gradient (the paper's Eq. 9), with step size ``eta``
    (``robust_step_size``):

    ``lambda_i <- lambda_i exp(eta E_i / E_i^0)``, renormalised to sum to
    the number of tasks,

    and the update is ``d = sum_i lambda_i g_i``: a task whose excess risk
    stays high relative to its start gains weight. The weights start at 1
    (the plain sum, so the first steps are equal weighting). A task absent
    from a batch keeps its weight, accumulator, baseline and step count; the
    update then runs over the present tasks past their warm-up, with their
    total weight kept (exactly the full update when every task takes part).

    The rows ``g_i`` are the gradients of ``c_i L_i`` (``c_i`` the
    estimator's ``task_weights``, see
    :class:`~skmtl.weighting.GradientAggregation`); ``c_i`` scales ``E_i``
    and ``E_i^0`` alike, so the weight update does not depend on it. The
    gradients only serve to update the weights: the whole network, heads
    included, is then trained on ``sum_i c_i lambda_i L_i`` (one backward
    pass), as in the paper, the official code and LibMTL, so the shared
    parameters get ``d`` and each head the gradient of its own
    ``c_i lambda_i L_i`` (the other gradient aggregations train the heads on
    the plain ``sum_i c_i L_i``). The weights returned (and recorded in
    ``history_``) are ``c_i lambda_i``, 0 for an absent task.

    With ``on="representation"`` the statistics are taken on the
    representation gradient summed over all but its last dimension (the rows
    of the batch, and the positions of a sequence), as LibMTL sums over the
    batch, so they do not depend on the batch size; ``d`` is still the
    weighted sum of the full gradients. That sum is the gradient of a bias
    added to the representation, and the rows' gradients can nearly cancel in
    it: a baseline from a single step is then noisy enough to let the weights
    collapse onto one task, so raise ``n_warmup_steps`` with
    ``on="representation"``.

    ``n_warmup_steps=1`` is the official code (and LibMTL): the first step
    sets the baseline without changing the weights. TorchJD's
    ``ExcessMTL(n_warmup_steps=N)`` computes the same sequence of updates
    for ``N >= 1``, up to its weights summing to 1 instead of the number of
    tasks (its ``d`` is this one's divided by the number of tasks); its
    ``n_warmup_steps=0`` also updates the weights on the first step with the
    unnormalised ``E_i`` (whose scale is that of the gradients), which the
    official code does not, so it is not offered here.

    The accumulators ``S`` are as large as the shared parameters (or the
    representation's last dimension) for every task, and they are kept with
    the fitted strategy. They restart from scratch (with the weights and
    baselines) if that size changes.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    robust_step_size : float, default=0.01
        Step size ``eta`` of the multiplicative weight update (> 0); LibMTL's
        default.
    n_warmup_steps : int, default=1
        Number of steps each task takes part in before its weight starts to
        move (>= 1); the mean excess risk over them is its baseline. The paper
        (Appendix C.1) collects the statistics over 3 epochs.

    Attributes
    ----------
    log_weights_ : ndarray of shape (n_tasks,)
        ``log lambda``, the logarithms of the task weights.
    baseline_ : ndarray of shape (n_tasks,)
        The baseline excess risks ``E^0`` (NaN during a task's warm-up).
    steps_ : ndarray of shape (n_tasks,)
        The number of steps each task has taken part in.
    warmup_steps_, warmup_sum_ : ndarray of shape (n_tasks,)
        The number of warm-up steps of each task so far and the sum of their
        excess risks.
    sq_grad_sum_ : Tensor of shape (n_tasks, n_values) or None
        The accumulated squared gradients ``S`` (None before the first step).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import ExcessMTL
    >>> w = ExcessMTL(robust_step_size=1.0)
    >>> w.init(["a", "b"]) is None
    True
    >>> G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> w.aggregate(G)[1].tolist()  # the warm-up step: equal weights
    [1.0, 1.0]
    >>> d, alpha = w.aggregate(torch.tensor([[1.0, 0.0], [0.0, 0.1]]))  # "b" has converged
    >>> bool(alpha[0] > 1.0 > alpha[1]), round(float(alpha.sum()), 4)
    (True, 2.0)
    """

    _name = "ExcessMTL"

    def __init__(
        self, on: str = "parameters", robust_step_size: float = 1e-2, n_warmup_steps: int = 1
    ) -> None:
        self.on = on
        self.robust_step_size = robust_step_size
        self.n_warmup_steps = n_warmup_steps

    def init(self, task_names):
        super().init(task_names)
        self._reset(len(self.task_names_))
        return None

    def _validate(self) -> None:
        check_real("ExcessMTL", "robust_step_size", self.robust_step_size, low=0.0, low_open=True)
        n = self.n_warmup_steps
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"ExcessMTL n_warmup_steps must be an integer >= 1, got {n!r}.")

    def _reset(self, n_tasks: int) -> None:
        self.log_weights_ = np.zeros(n_tasks)
        self.baseline_ = np.full(n_tasks, np.nan)
        self.steps_ = np.zeros(n_tasks, dtype=np.int64)
        self.warmup_steps_ = np.zeros(n_tasks, dtype=np.int64)
        self.warmup_sum_ = np.zeros(n_tasks)
        self.sq_grad_sum_ = None

    # ------------------------------------------------------------ training step

    def backward(self, losses, present, task_weights, state, network):
        """Update the weights from the present tasks' gradients, then back-propagate
        ``sum_i c_i lambda_i L_i`` into every parameter."""
        try:
            idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
            shared = trainable_shared(network)
            cut = None
            if self.on == "representation":
                cut = [z for z in _cut_of(network, self._name) if z.requires_grad]
            targets = shared if cut is None else cut
            if shared and targets and idx and losses.requires_grad:
                buffer = self._buffer(len(losses), shared) if cut is None else None
                kept, G = task_gradient_matrix(task_weights * losses, idx, targets, out=buffer)
                if G is not None:
                    stats = G.detach() if cut is None else _batch_summed(G, cut)
                    self._update(stats, kept)
            lam = torch.as_tensor(np.exp(self.log_weights_), device=losses.device)
            weights = torch.where(present, task_weights * lam.to(losses.dtype), 0.0).detach()
            total = torch.where(present, weights * losses, torch.zeros_like(losses)).sum()
            if total.requires_grad:
                total.backward()
            return weights
        finally:
            release_representation(network)

    def combine(self, losses, present, task_weights, state):
        """``sum_i c_i lambda_i L_i`` with the current weights (no update)."""
        lam = torch.as_tensor(np.exp(self.log_weights_), device=losses.device)
        weights = torch.where(present, task_weights * lam.to(losses.dtype), 0.0)
        total = torch.where(present, weights * losses, torch.zeros_like(losses)).sum()
        return total, weights

    # ------------------------------------------------------------ aggregation

    def _update(self, stats: torch.Tensor, tasks: list[int]) -> None:
        """One ExcessMTL step on the statistics rows ``stats`` of these tasks."""
        if getattr(self, "log_weights_", None) is None or len(self.log_weights_) <= max(tasks):
            self._validate()
            self._reset(max(tasks) + 1)
        n_tasks = len(self.log_weights_)
        acc = self.sq_grad_sum_
        if acc is not None and acc.shape[1] != stats.shape[1]:
            self._reset(n_tasks)  # another set of shared values: start again
            acc = None
        if acc is None:
            acc = stats.new_zeros((n_tasks, stats.shape[1]))
        elif acc.device != stats.device or acc.dtype != stats.dtype:
            acc = acc.to(device=stats.device, dtype=stats.dtype)
        self.sq_grad_sum_ = acc
        risk = np.empty(len(tasks))
        with torch.no_grad():
            for r, i in enumerate(tasks):
                acc[i].addcmul_(stats[r], stats[r])
                risk[r] = float((stats[r].square() / (acc[i] + _H_EPS).sqrt()).sum())
        n_warm = int(self.n_warmup_steps)
        updating, ratios = [], []
        for r, i in enumerate(tasks):
            self.steps_[i] += 1
            if np.isfinite(self.baseline_[i]):
                updating.append(i)
                ratios.append(risk[r] / self.baseline_[i])
                continue
            # Warm-up: accumulate the excess risk; its mean becomes the baseline
            # (a warm-up whose mean is not positive, e.g. all-zero statistics, restarts).
            self.warmup_sum_[i] += risk[r]
            self.warmup_steps_[i] += 1
            if self.warmup_steps_[i] >= n_warm:
                mean = self.warmup_sum_[i] / self.warmup_steps_[i]
                if np.isfinite(mean) and mean > 0:
                    self.baseline_[i] = mean
                else:
                    self.warmup_sum_[i], self.warmup_steps_[i] = 0.0, 0
        if updating:
            lw = self.log_weights_[updating]
            mass = _logsumexp(lw)
            new = lw + float(self.robust_step_size) * np.asarray(ratios)
            self.log_weights_[updating] = new - _logsumexp(new) + mass

    def _aggregate_tasks(self, G, tasks):
        self._update(G.detach(), tasks)
        return result(G, np.exp(self.log_weights_[tasks]))

    def aggregate(self, G):
        return self._aggregate_tasks(G, list(range(G.shape[0])))
