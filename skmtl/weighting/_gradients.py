"""Shared machinery of the gradient-aggregation strategies (PCGrad, MGDA, ...).

Each strategy sees the matrix ``G`` (n_present, n_shared_values) of the
present tasks' gradients of their (task-weighted) losses with respect to the
trainable shared parameters, aggregates it into one update vector ``d`` that
is written into the shared parameters' ``.grad``, and returns the effective
per-task coefficients. The task-specific parameters (the heads) get the
ordinary gradient of the weighted loss sum.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from ._base import WeightingStrategy
from ._gradnorm import _trainable_shared

__all__ = ["GradientAggregation", "task_gradient_matrix", "write_shared_grad"]

_ON = ("parameters", "representation")


def task_gradient_matrix(
    weighted_losses: torch.Tensor, idx: list[int], shared: list[nn.Parameter]
) -> tuple[list[int], torch.Tensor | None]:
    """Flattened gradients of ``weighted_losses[i]`` (``i`` in ``idx``) on ``shared``.

    Returns ``(kept, G)``: the tasks whose gradient is not identically zero
    (a loss that does not depend on the shared parameters is left out) and
    their gradients as the rows of ``G`` (None when no task is kept). The
    graph is retained for the heads' backward pass.
    """
    rows, kept = [], []
    for i in idx:
        if not weighted_losses[i].requires_grad:
            continue
        grads = torch.autograd.grad(
            weighted_losses[i], shared, retain_graph=True, allow_unused=True
        )
        if all(g is None for g in grads):
            continue
        row = torch.cat(
            [
                (g if g is not None else torch.zeros_like(p)).reshape(-1)
                for g, p in zip(grads, shared, strict=True)
            ]
        )
        if not bool(torch.isfinite(row).all()) or bool((row != 0).any()):
            rows.append(row.detach())
            kept.append(i)
    return kept, (torch.stack(rows) if rows else None)


@torch.no_grad()
def write_shared_grad(shared: list[nn.Parameter], d: torch.Tensor) -> None:
    """Add the flat update ``d`` to the ``.grad`` of the shared parameters, in order."""
    offset = 0
    for p in shared:
        part = d[offset : offset + p.numel()].view_as(p).to(p.dtype)
        offset += p.numel()
        if p.grad is None:
            p.grad = part.clone()
        else:
            p.grad.add_(part)


def gram(G: torch.Tensor) -> np.ndarray:
    """``G G^T`` in float64 NumPy (the small matrix most aggregators work on)."""
    G64 = G.detach().to(torch.float64)
    return (G64 @ G64.T).cpu().numpy()


def combine_rows(G: torch.Tensor, alpha) -> torch.Tensor:
    """``sum_i alpha_i G[i]`` in ``G``'s dtype."""
    a = torch.as_tensor(np.asarray(alpha, dtype=np.float64), device=G.device)
    return (a.to(torch.float64) @ G.to(torch.float64)).to(G.dtype)


def check_real(owner, name, value, *, low=None, high=None, low_open=False, high_open=False):
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'(' if low_open else '['}{low}, "
        hi = "" if high is None else f"{high}{')' if high_open else ']'}"
        raise ValueError(
            f"{owner} {name} must be a finite number in {lo or '(-inf, '}"
            f"{hi or 'inf)'}, got {value!r}."
        )


def simplex_minimize(fun, jac, k: int, x0=None) -> np.ndarray:
    """Minimise a smooth function over the probability simplex (SLSQP)."""
    from scipy.optimize import minimize

    x0 = np.full(k, 1.0 / k) if x0 is None else np.asarray(x0, dtype=np.float64)
    res = minimize(
        fun,
        x0,
        jac=jac,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(k)}],
        options={"ftol": 1e-12, "maxiter": 200},
    )
    w = np.clip(res.x, 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k)


def make_rng(random_state):
    """A NumPy Generator from ``random_state`` (None, int or Generator)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)


class GradientAggregation(WeightingStrategy):
    """Base class of the strategies that aggregate the per-task gradient matrix.

    Subclasses define :meth:`aggregate` ``(G) -> (d, alpha)``, with ``G`` of
    shape (n_tasks, n_values) and ``d = sum_i alpha_i G[i]`` where the
    method defines such coefficients. :meth:`backward` builds ``G`` from the
    gradients of the present tasks' weighted losses ``c_i L_i`` (``c_i`` the
    estimator's ``task_weights``) on the trainable shared parameters (one
    backward pass through the network per task), writes ``d`` into their
    ``.grad``, back-propagates ``sum_i c_i L_i`` into the other parameters
    only (the heads), and returns ``c_i alpha_i``: the coefficient of the
    gradient of the unweighted loss ``L_i`` in ``d``; 0 for an absent task.
    """

    _name = "GradientAggregation"

    def _check_on(self) -> None:
        if self.on not in _ON:
            raise ValueError(f"{self._name} on must be one of {_ON}, got {self.on!r}.")
        if self.on == "representation":
            raise NotImplementedError(
                f"{self._name}(on='representation') needs the gradients with respect to the "
                "shared representation (the trunk's output), which "
                "WeightingStrategy.backward(losses, present, task_weights, state, network) "
                "does not receive; use on='parameters'."
            )

    def init(self, task_names):
        super().init(task_names)
        self._check_on()
        self._validate()
        return None

    def _validate(self) -> None:
        """Check the parameters (subclasses)."""

    def aggregate(self, G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(d, alpha)`` for the gradient matrix ``G`` (n_tasks, n_values)."""
        raise NotImplementedError

    def _aggregate_tasks(self, G, tasks):
        """:meth:`aggregate` for the rows of these task indices (stateful subclasses)."""
        return self.aggregate(G)

    def combine(self, losses, present, task_weights, state):
        """The weighted sum ``sum_i c_i L_i`` (what the heads are trained on)."""
        weights = task_weights * present.to(losses.dtype)
        total = torch.where(present, task_weights * losses, torch.zeros_like(losses)).sum()
        return total, weights

    def backward(self, losses, present, task_weights, state, network):
        total, weights = self.combine(losses, present, task_weights, state)
        shared = _trainable_shared(network)
        shared_ids = {id(p) for p in shared}
        others = [p for p in network.parameters() if p.requires_grad and id(p) not in shared_ids]
        idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
        kept, G = [], None
        if shared and idx and total.requires_grad:
            kept, G = task_gradient_matrix(task_weights * losses, idx, shared)
        if total.requires_grad and others:
            total.backward(inputs=others)
        if G is None:
            return weights.detach()
        d, alpha = self._aggregate_tasks(G, kept)
        write_shared_grad(shared, d)
        out = torch.zeros_like(weights.detach())
        out[kept] = alpha.to(out) * task_weights.detach()[kept].to(out)
        return out


def result(G: torch.Tensor, alpha) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_i alpha_i G[i], alpha)`` as tensors on ``G``'s device and dtype."""
    a = np.asarray(alpha, dtype=np.float64)
    return combine_rows(G, a), torch.as_tensor(a, device=G.device).to(G.dtype)
