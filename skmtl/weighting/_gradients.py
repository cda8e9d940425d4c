"""Shared machinery of the gradient-aggregation strategies (PCGrad, MGDA, ...).

Each strategy sees the matrix ``G`` (n_present, n_values) of the present
tasks' gradients of their (task-weighted) losses and aggregates it into one
update vector ``d``, returning the effective per-task coefficients.

``on="parameters"``: ``G``'s rows are the gradients with respect to the
trainable shared parameters (one backward pass through the whole network
per task) and ``d`` is written into their ``.grad``.

``on="representation"``: ``G``'s rows are the gradients with respect to the
shared representation ``z`` (kept by the network as ``network.representation``:
the trunk's output that the heads consume, or a list of tensors that cut the
graph between the shared parameters and the task outputs, as a sharing
architecture keeps, see :mod:`skmtl.architectures`; ``z`` is then their
concatenation), which only needs a backward pass through the heads per task;
``d`` is then back-propagated once through the trunk (``.grad += J_z^T d``).
This is MGDA-UB for MGDA (Sener and Koltun, 2018) and LibMTL's ``rep_grad``
for the others.

In both modes the task-specific parameters (the heads) get the ordinary
gradient of the weighted loss sum.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from ._base import WeightingStrategy, release_representation, trainable_shared

__all__ = ["GradientAggregation", "task_gradient_matrix", "write_shared_grad"]

_ON = ("parameters", "representation")


def task_gradient_matrix(
    weighted_losses: torch.Tensor,
    idx: list[int],
    shared: list[nn.Parameter] | list[torch.Tensor],
    out: torch.Tensor | None = None,
) -> tuple[list[int], torch.Tensor | None]:
    """Flattened gradients of ``weighted_losses[i]`` (``i`` in ``idx``) on ``shared``.

    Returns ``(kept, G)``: the tasks whose gradient is not identically zero
    (a loss that does not depend on the shared parameters is left out) and
    their gradients as the rows of ``G`` (None when no task is kept). The
    graph is retained for the heads' backward pass. ``shared`` may be
    parameters or an intermediate tensor (the shared representation).

    ``out``, if given and of shape ``(>= len(idx), n_values)``, is the buffer
    the rows are written into (``G`` is then a view of it, valid until the
    buffer is reused): on the CPU, allocating a fresh matrix of the size of
    the shared parameters at every step costs as much as a backward pass.
    """
    n = sum(p.numel() for p in shared)
    ref = shared[0]
    if (
        out is None
        or out.dim() != 2
        or out.shape[0] < len(idx)
        or out.shape[1] != n
        or out.dtype != ref.dtype
        or out.device != ref.device
    ):
        out = torch.empty((len(idx), n), dtype=ref.dtype, device=ref.device)
    kept: list[int] = []
    for i in idx:
        if not weighted_losses[i].requires_grad:
            continue
        grads = torch.autograd.grad(
            weighted_losses[i], shared, retain_graph=True, allow_unused=True
        )
        if all(g is None for g in grads):
            continue
        row = out[len(kept)]
        offset = 0
        with torch.no_grad():
            for g, p in zip(grads, shared, strict=True):
                part = row[offset : offset + p.numel()]
                offset += p.numel()
                if g is None:
                    part.zero_()
                elif g.is_sparse:  # a row-sparse gradient (a sparse input's first layer)
                    part.zero_()
                    part.view(p.shape).index_add_(0, g._indices()[0], g._values().to(part))
                else:
                    part.copy_(g.reshape(-1))
            # Keep the row unless it is exactly 0 (a NaN or inf row is kept and shows);
            # the squared norm is the fast test, exact unless it underflows.
            nonzero = bool(torch.dot(row, row) != 0) or bool(row.any())
        if nonzero:
            kept.append(i)
    return kept, (out[: len(kept)] if kept else None)


@torch.no_grad()
def write_shared_grad(shared: list[nn.Parameter], d: torch.Tensor) -> None:
    """Add the flat update ``d`` to the ``.grad`` of the shared parameters, in order.

    A parameter without a gradient gets a view of ``d`` (no copy).
    """
    offset = 0
    for p in shared:
        part = d[offset : offset + p.numel()].view_as(p).to(p.dtype)
        offset += p.numel()
        if p.grad is None:
            p.grad = part if p.is_contiguous() else part.clone()
        else:
            add_grad(p, part)


@torch.no_grad()
def add_grad(p: torch.Tensor, g: torch.Tensor) -> None:
    """``p.grad += g`` for dense or sparse (row-sparse COO) ``p.grad`` and ``g``.

    A sparse gradient plus a dense one is dense.
    """
    if p.grad is None:
        p.grad = g
    elif p.grad.is_sparse and not g.is_sparse:
        p.grad = g + p.grad
    else:
        p.grad.add_(g)


_GRAM_CHUNK = 1 << 16


def gram(G: torch.Tensor) -> np.ndarray:
    """``G G^T`` in float64 NumPy (the small matrix most aggregators work on).

    Accumulated in float64 over column blocks on the CPU, so a float32 ``G``
    of millions of columns is never copied whole.
    """
    G = G.detach()
    n = G.shape[1]
    if G.dtype == torch.float64 or G.device.type != "cpu" or n <= _GRAM_CHUNK:
        G64 = G.to(torch.float64)
        return (G64 @ G64.T).cpu().numpy()
    M = torch.zeros((G.shape[0], G.shape[0]), dtype=torch.float64)
    for a in range(0, n, _GRAM_CHUNK):
        part = G[:, a : a + _GRAM_CHUNK].to(torch.float64)
        M.addmm_(part, part.T)
    return M.numpy()


def combine_rows(G: torch.Tensor, alpha) -> torch.Tensor:
    """``sum_i alpha_i G[i]`` in ``G``'s dtype."""
    a = torch.as_tensor(np.asarray(alpha, dtype=np.float64), device=G.device).to(G.dtype)
    return a @ G.detach()


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


def seeded_rng(random_state) -> np.random.Generator:
    """:func:`make_rng`, with the seed of ``random_state=None`` drawn from torch.

    The estimator seeds torch's global generator from its own ``random_state``
    around ``fit`` (where it calls the strategy's ``init``), so a strategy left
    at ``random_state=None`` is reproducible exactly when the estimator is.
    """
    if random_state is None:
        random_state = int(torch.randint(0, 2**31 - 1, (1,)).item())
    return make_rng(random_state)


def _cut_of(network: nn.Module, name: str) -> list[torch.Tensor]:
    """``network.representation`` as a list of tensors (a tensor, or the cut's list)."""
    z = getattr(network, "representation", None)
    if isinstance(z, torch.Tensor):
        return [z]
    if isinstance(z, (list, tuple)) and z and all(isinstance(t, torch.Tensor) for t in z):
        return list(z)
    got = "it is None" if z is None else f"got {type(z).__name__}"
    raise RuntimeError(
        f"{name}(on='representation') needs the network to store its shared "
        "representation (the trunk output the task heads consume, or a list of tensors "
        "cutting the graph between the shared parameters and the task outputs) as "
        f"`network.representation` in its training forward pass; {type(network).__name__} "
        f"did not ({got}). Use on='parameters' with this network."
    )


class GradientAggregation(WeightingStrategy):
    """Base class of the strategies that aggregate the per-task gradient matrix.

    Subclasses define :meth:`aggregate` ``(G) -> (d, alpha)``, with ``G`` of
    shape (n_tasks, n_values) and ``d = sum_i alpha_i G[i]`` where the
    method defines such coefficients. :meth:`backward` builds ``G`` from the
    gradients of the present tasks' weighted losses ``c_i L_i`` (``c_i`` the
    estimator's ``task_weights``), back-propagates ``sum_i c_i L_i`` into the
    task-specific parameters only (the heads), and returns ``c_i alpha_i``:
    the coefficient of the gradient of the unweighted loss ``L_i`` in ``d``;
    0 for an absent task.

    With ``on="parameters"`` the gradients are those of the trainable shared
    parameters (one backward pass through the network per task) and ``d``
    is written into their ``.grad``. With ``on="representation"`` they are
    the gradients of the shared representation ``z`` (the tensor the heads
    consume, or the concatenation of a list of tensors that cut the graph
    between the shared parameters and the task outputs; the network must set
    ``network.representation`` to it in its training forward pass), which
    only back-propagate through the heads; ``d`` is split back into the cut's
    tensors and back-propagated once through the trunk, so the shared
    parameters get ``J_z^T d``. That is cheaper (one trunk backward pass
    instead of one per task) and approximates the parameter-space method
    (for MGDA it is the paper's MGDA-UB). Shared parameters that do not
    lead to ``z`` (the layers above the cut, such as the upper layers of
    :class:`~skmtl.architectures.Hierarchical`) get the ordinary gradient of
    the weighted sum.
    """

    _name = "GradientAggregation"

    def _check_on(self) -> None:
        if self.on not in _ON:
            raise ValueError(f"{self._name} on must be one of {_ON}, got {self.on!r}.")

    def init(self, task_names):
        super().init(task_names)
        self._check_on()
        self._validate()
        return None

    def _validate(self) -> None:
        """Check the parameters (subclasses)."""

    def aggregate(self, G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(d, alpha)`` for the gradient matrix ``G`` (n_tasks, n_values).

        During training ``G`` is a scratch buffer that the next step
        overwrites: an implementation must not keep a reference to it.
        """
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
        try:
            if self.on == "representation":
                return self._backward_representation(losses, present, task_weights, state, network)
            return self._backward_parameters(losses, present, task_weights, state, network)
        finally:
            release_representation(network)

    def _coefficients(self, weights, kept, alpha, task_weights):
        out = torch.zeros_like(weights.detach())
        out[kept] = alpha.to(out) * task_weights.detach()[kept].to(out)
        return out

    def _buffer(self, n_tasks: int, shared: list[nn.Parameter]) -> torch.Tensor:
        """The (n_tasks, n_shared_values) scratch matrix of ``G``, kept for the epoch."""
        n = sum(p.numel() for p in shared)
        ws = getattr(self, "_workspace", None)
        if (
            ws is None
            or ws.shape != (n_tasks, n)
            or ws.dtype != shared[0].dtype
            or ws.device != shared[0].device
        ):
            ws = torch.empty((n_tasks, n), dtype=shared[0].dtype, device=shared[0].device)
            self._workspace = ws
        return ws

    def end_epoch(self, epoch_task_losses) -> None:
        self._workspace = None  # a fitted model does not carry the scratch matrix

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_workspace", None)  # scratch, the size of the shared parameters
        return state

    def _backward_parameters(self, losses, present, task_weights, state, network):
        total, weights = self.combine(losses, present, task_weights, state)
        shared = trainable_shared(network)
        shared_ids = {id(p) for p in shared}
        others = [p for p in network.parameters() if p.requires_grad and id(p) not in shared_ids]
        idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
        kept, G = [], None
        if shared and idx and total.requires_grad:
            kept, G = task_gradient_matrix(
                task_weights * losses, idx, shared, out=self._buffer(len(losses), shared)
            )
        if total.requires_grad and others:
            total.backward(inputs=others)
        if G is None:
            return weights.detach()
        d, alpha = self._aggregate_tasks(G, kept)
        if d.untyped_storage().data_ptr() == G.untyped_storage().data_ptr():
            d = d.clone()  # G is scratch reused next step; .grad must not alias it
        write_shared_grad(shared, d)
        return self._coefficients(weights, kept, alpha, task_weights)

    def _backward_representation(self, losses, present, task_weights, state, network):
        # Only the cut's tensors that carry a gradient (a frozen part's do not).
        cut = [z for z in _cut_of(network, self._name) if z.requires_grad]
        total, weights = self.combine(losses, present, task_weights, state)
        shared = trainable_shared(network)
        shared_ids = {id(p) for p in shared}
        others = [p for p in network.parameters() if p.requires_grad and id(p) not in shared_ids]
        idx = torch.nonzero(present, as_tuple=False).flatten().tolist()
        kept, G = [], None
        if shared and idx and total.requires_grad and cut:
            kept, G = task_gradient_matrix(task_weights * losses, idx, cut)
        if G is None:  # no present task depends on z (e.g. a frozen trunk): the heads alone
            if total.requires_grad and others:
                total.backward(inputs=others)
            return weights.detach()
        d, alpha = self._aggregate_tasks(G, kept)
        # One backward pass through the trunk with the aggregated gradient of z,
        # split back into the cut's tensors.
        parts = torch.split(d, [z.numel() for z in cut])
        grad_outputs = [g.reshape(z.shape).to(z.dtype) for g, z in zip(parts, cut, strict=True)]
        grads = torch.autograd.grad(
            cut, shared, grad_outputs=grad_outputs, retain_graph=True, allow_unused=True
        )
        with torch.no_grad():
            for p, g in zip(shared, grads, strict=True):
                if g is not None:
                    add_grad(p, g.to(p.dtype))
        # The heads (and any shared parameter after z): the gradient of the weighted sum.
        rest = others + [p for p, g in zip(shared, grads, strict=True) if g is None]
        if rest:
            total.backward(inputs=rest)
        return self._coefficients(weights, kept, alpha, task_weights)


def result(G: torch.Tensor, alpha) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_i alpha_i G[i], alpha)`` as tensors on ``G``'s device and dtype."""
    a = np.asarray(alpha, dtype=np.float64)
    return combine_rows(G, a), torch.as_tensor(a, device=G.device).to(G.dtype)
