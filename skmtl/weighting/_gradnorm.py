"""GradNorm: gradient normalisation for adaptive loss balancing.

Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization
for Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import WeightingStrategy, release_representation, trainable_shared
from ._utils import adam_step, check_bound

__all__ = ["GradNorm"]


def _last_shared_weight(network: nn.Module) -> list[nn.Parameter]:
    """GradNorm's ``W``: the weight matrix of the last shared layer.

    That is the last trainable trunk parameter with two or more dimensions
    (a trailing LayerNorm's vectors are skipped); a trunk without any
    matrix falls back to its last trainable tensor.
    """
    shared = trainable_shared(network)
    matrices = [p for p in shared if p.dim() >= 2]
    if matrices:
        return matrices[-1:]
    return shared[-1:]


class _GradNormState(nn.Module):
    """The task weights and their optimiser's state, as buffers.

    Buffers, not parameters: the estimator's optimiser must not update the
    weights (GradNorm updates them itself), yet they move and pickle with
    the network.
    """

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        self.register_buffer("weights", torch.ones(n_tasks))
        self.register_buffer("initial_losses", torch.full((n_tasks,), float("nan")))
        self.register_buffer("adam_m", torch.zeros(n_tasks))
        self.register_buffer("adam_v", torch.zeros(n_tasks))
        self.register_buffer("adam_steps", torch.zeros(n_tasks))


class GradNorm(WeightingStrategy):
    """Learn task weights that equalise the tasks' gradient norms on the shared layer.

    The loss is ``sum_i w_i c_i L_i`` with learned weights ``w_i`` (starting at
    1) and ``c_i`` the estimator's static ``task_weights``. At every step,
    after the network's gradients are computed, the weights take one step on
    GradNorm's loss

    ``L_grad = sum_i | G_i - mean(G) r_i^alpha |``

    where ``G_i = w_i ||grad_W L_i||`` is the gradient norm of the weighted
    task loss with respect to ``W``, the weight matrix of the last shared
    layer, ``r_i = Ltilde_i / mean_j Ltilde_j`` the relative inverse training
    rate with ``Ltilde_i = L_i(t) / L_i(0)`` (``L_i(0)`` is the task's loss
    at its first step), and the target ``mean(G) r_i^alpha`` is held constant.
    The weights are then renormalised to sum to the number of tasks. Tasks
    that train slower get larger gradients; ``alpha`` sets how strongly.

    Implementation notes: the weights are buffers of the state module
    (registered on the network, so they move and pickle with it), not
    parameters; they are updated here, by Adam with ``learning_rate`` on
    ``L_grad`` (the paper optimises them with the network's optimiser), and
    the network's loss uses them detached. ``c_i`` scales the loss after
    balancing (it is not undone by GradNorm). Only the tasks present in the
    batch take part: an absent task's weight, initial loss and optimiser
    state are left as they are, and the present tasks' weights keep their
    sum when renormalised (so all weights still sum to the number of tasks).

    Parameters
    ----------
    alpha : float, default=1.5
        Strength of the restoring force towards a common training rate
        (>= 0; 0 pulls every task to the same gradient norm). The paper uses
        1.5 for NYUv2.
    learning_rate : float, default=0.025
        Adam step size of the weight update (> 0).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skmtl.weighting import GradNorm
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.trunk, self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 1), nn.Linear(4, 1)
    ...     def shared_parameters(self):
    ...         return list(self.trunk.parameters())
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net, x = Net(), torch.randn(16, 3)
    >>> w = GradNorm()
    >>> state = w.init(["a", "b"])
    >>> h = net.trunk(x)
    >>> losses = torch.stack([net.a(h).pow(2).mean(), 10 * net.b(h).pow(2).mean()])
    >>> used = w.backward(losses, torch.tensor([True, True]), torch.ones(2), state, net)
    >>> used.tolist()  # the weights of this step; the next step uses the updated ones
    [1.0, 1.0]
    >>> round(float(state.weights.sum()), 6)
    2.0
    """

    def __init__(self, alpha: float = 1.5, learning_rate: float = 0.025) -> None:
        self.alpha = alpha
        self.learning_rate = learning_rate

    def init(self, task_names):
        super().init(task_names)
        check_bound("GradNorm", "alpha", self.alpha, low=0.0, strict=False)
        check_bound("GradNorm", "learning_rate", self.learning_rate, low=0.0, strict=True)
        return _GradNormState(len(self.task_names_))

    def combine(self, losses, present, task_weights, state):
        """The loss with the current weights (no update)."""
        weights = state.weights.detach().to(losses.dtype) * task_weights
        weights = weights * present.to(losses.dtype)
        return (weights * losses).sum(), weights

    def backward(self, losses, present, task_weights, state, network):
        total, used = self.combine(losses, present, task_weights, state)
        idx = torch.nonzero(present, as_tuple=False).flatten()
        shared = _last_shared_weight(network)
        norms = None
        if shared and len(idx) >= 2:
            rows = []
            for i in idx.tolist():
                if not losses[i].requires_grad:
                    rows.append(torch.zeros((), device=losses.device))
                    continue
                grads = torch.autograd.grad(losses[i], shared, retain_graph=True, allow_unused=True)
                sq = [g.pow(2).sum() for g in grads if g is not None]
                rows.append(torch.stack(sq).sum().sqrt() if sq else losses.new_zeros(()))
            norms = torch.stack(rows).detach().to(state.weights.dtype)
        if total.requires_grad:
            total.backward()
        release_representation(network)
        with torch.no_grad():  # L_i(0): the task's loss at its first step
            first = present & torch.isnan(state.initial_losses)
            state.initial_losses.copy_(
                torch.where(first, losses.detach().to(state.weights.dtype), state.initial_losses)
            )
        if norms is not None:
            self._update(losses.detach().to(state.weights.dtype), present, idx, norms, state)
        return used.detach()

    @torch.no_grad()
    def _update(self, losses, present, idx, norms, state) -> None:
        tiny = torch.finfo(losses.dtype).tiny
        ratio = losses[idx] / state.initial_losses[idx].clamp_min(tiny)
        r = ratio / ratio.mean().clamp_min(tiny)
        w = state.weights[idx]
        G = w * norms
        target = G.mean() * r.pow(float(self.alpha))
        # d/dw_i |w_i g_i - target_i| with the target held constant.
        grad_present = torch.sign(G - target) * norms
        grad = torch.zeros_like(state.weights)
        grad[idx] = torch.nan_to_num(grad_present, nan=0.0, posinf=0.0, neginf=0.0)
        before = w.sum()
        adam_step(state.weights, grad, state, present, float(self.learning_rate))
        # Keep the weights positive; the present tasks keep their total.
        new = state.weights[idx].clamp_min(1e-6 * float(before) / len(idx))
        state.weights[idx] = new * (before / new.sum())
