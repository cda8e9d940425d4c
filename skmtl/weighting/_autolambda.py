"""Auto-Lambda: task weights learnt by a bilevel step on held-out rows.

Liu, Johns and Davison, "Auto-Lambda: Disentangling Dynamic Task
Relationships", Transactions on Machine Learning Research (TMLR), 2022.
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ._base import WeightingStrategy, release_representation
from ._gradients import check_real
from ._utils import adam_step

__all__ = ["AutoLambda"]

# The official code's finite-difference radius: eps = 0.01 / ||dw'||.
_FD_RADIUS = 0.01


class _AutoLambdaState(nn.Module):
    """The task weights and their Adam state, as buffers (updated by AutoLambda itself)."""

    def __init__(self, n_tasks: int, weight_init: float) -> None:
        super().__init__()
        self.register_buffer("lambdas", torch.full((n_tasks,), float(weight_init)))
        self.register_buffer("adam_m", torch.zeros(n_tasks))
        self.register_buffer("adam_v", torch.zeros(n_tasks))
        self.register_buffer("adam_steps", torch.zeros(n_tasks))


def _rng_devices(device: torch.device) -> list:
    if device.type == "cuda":
        return [device.index if device.index is not None else torch.cuda.current_device()]
    return []


class _RandomReplay:
    """Replay one state of torch's generators (the same dropout masks at each pass)."""

    def __init__(self, device: torch.device) -> None:
        self.devices = _rng_devices(device)
        self.cpu = torch.get_rng_state()
        self.cuda = [torch.cuda.get_rng_state(d) for d in self.devices]

    @contextmanager
    def __call__(self):
        with torch.random.fork_rng(devices=self.devices):
            torch.set_rng_state(self.cpu)
            for d, state in zip(self.devices, self.cuda, strict=True):
                torch.cuda.set_rng_state(state, d)
            yield


class AutoLambda(WeightingStrategy):
    """Learn each task's weight by how much its training step helps the primary tasks.

    The network trains on ``sum_i c_i lambda_i L_i`` (``c_i`` the estimator's
    ``task_weights``). Before each training step (every ``meta_every``
    steps) the weights ``lambda`` take one Adam step (rate
    ``meta_learning_rate``) on the bilevel objective: the primary tasks'
    loss on a batch of held-out rows after a virtual SGD step of the
    network on the training batch,

    ``min_lambda  L_pri(w'; held-out)``,
    ``w' = w - a grad_w sum_i c_i lambda_i L_i(w; train)``

    (``a`` the optimiser's current learning rate, ``L_pri = sum_{i primary}
    c_i L_i``). Its gradient, to first order, is ``-a c_i grad L_i(w) .
    grad L_pri(w')``: ``lambda_i`` grows when task ``i``'s training
    gradient points where the primary loss falls. As in the official code,
    the Hessian-vector product is a central finite difference: with
    ``dw' = grad_w L_pri(w')`` and ``w+- = w +- eps dw'``,
    ``eps = 0.01 / ||dw'||``,

    ``grad_lambda_i = -a c_i (L_i(w+; train) - L_i(w-; train)) / (2 eps)``.

    The virtual step is the official one: on every trainable parameter of
    the network, ``w' = w - a (grad + wd w + m)`` with the optimiser's first
    parameter group's ``weight_decay`` ``wd`` and, for SGD with momentum,
    ``m`` its momentum buffer times the momentum (0 for Adam and AdamW,
    skmtl's optimiser, for which the step is plain SGD with decoupled weight
    decay). The network's weights and buffers (batch-norm statistics) are
    saved, moved in place and restored exactly; the passes over the
    training batch replay the same random state (the same dropout masks);
    no ``.grad`` is written.

    Differences from the official code: the held-out rows are a share
    ``holdout_fraction`` of the training rows, set aside for the whole fit
    (the official trainers draw the meta batch from the training set itself,
    with a second shuffled loader); ``c_i`` enters the training loss, the
    primary loss and the hypergradient (the official code has no static
    task weights; with ``task_weights=None`` they are 1 and the method is
    the official one); an update is done every ``meta_every`` steps (the
    official code: every step). As there, ``lambda`` is not clipped: a
    weight may become negative.

    A task absent from the training batch has no hypergradient: its
    ``lambda_i`` and Adam state are left untouched, and its weight is 0. A
    held-out batch without any primary task skips the update.

    Parameters
    ----------
    weight_init : float, default=0.1
        Initial value of every ``lambda_i`` (>= 0); the official code's 0.1.
    meta_learning_rate : float, default=1e-4
        Adam step size of ``lambda`` (> 0); the official code's 1e-4.
    primary_tasks : list of str or None, default=None
        The tasks whose held-out loss ``lambda`` is tuned for. None: every
        task (the paper's multi-task, "total" setting); a subset gives the
        auxiliary-learning setting, in which the other tasks are only
        weighted by how much they help these.
    holdout_fraction : float, default=0.1
        Share of the training rows held out for the bilevel objective, in
        (0, 1) (at random, once per fit; they never train the network).
    meta_every : int, default=1
        Update ``lambda`` every ``meta_every`` training steps (>= 1). Each
        update costs four forward passes (two without a graph) and two
        backward passes of the network, besides the training step's own.

    Attributes
    ----------
    primary_mask_ : ndarray of shape (n_tasks,) of bool
        Which of the fitted tasks are primary.
    meta_calls_ : int
        Training steps seen by :meth:`meta_step`; ``lambda`` is updated at
        the 1st, ``(meta_every + 1)``-th, ... of them.

    The weights live in the state module that :meth:`init` returns, as the
    buffers ``lambdas`` (with Adam's ``adam_m``, ``adam_v`` and
    ``adam_steps``): they move and save with the network, and the estimator's
    optimiser does not train them.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import AutoLambda
    >>> strategy = AutoLambda(primary_tasks=["a"])
    >>> state = strategy.init(["a", "b"])
    >>> total, weights = strategy.combine(torch.tensor([1.0, 4.0]), torch.tensor([True, False]),
    ...                                   torch.ones(2), state)
    >>> [round(v, 4) for v in weights.tolist()], round(float(total), 4)
    ([0.1, 0.0], 0.1)
    >>> strategy.holdout_share()
    0.1
    """

    def __init__(
        self,
        weight_init: float = 0.1,
        meta_learning_rate: float = 1e-4,
        primary_tasks: list[str] | None = None,
        holdout_fraction: float = 0.1,
        meta_every: int = 1,
    ) -> None:
        self.weight_init = weight_init
        self.meta_learning_rate = meta_learning_rate
        self.primary_tasks = primary_tasks
        self.holdout_fraction = holdout_fraction
        self.meta_every = meta_every

    # ------------------------------------------------------------ parameters

    def _validate(self) -> None:
        check_real("AutoLambda", "weight_init", self.weight_init, low=0.0)
        check_real(
            "AutoLambda", "meta_learning_rate", self.meta_learning_rate, low=0.0, low_open=True
        )
        check_real(
            "AutoLambda",
            "holdout_fraction",
            self.holdout_fraction,
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        )
        every = self.meta_every
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"AutoLambda meta_every must be an integer >= 1, got {every!r}.")

    def _primary_mask(self) -> np.ndarray:
        names = self.task_names_
        primary = self.primary_tasks
        if primary is None:
            return np.ones(len(names), dtype=bool)
        if isinstance(primary, (str, bytes)) or not isinstance(primary, (list, tuple)):
            raise ValueError(
                f"AutoLambda primary_tasks must be None or a list of task names, got {primary!r}."
            )
        if len(primary) == 0:
            raise ValueError(
                "AutoLambda primary_tasks must name at least one task (None: every task)."
            )
        unknown = [t for t in primary if t not in names]
        if unknown:
            raise ValueError(
                f"AutoLambda primary_tasks {unknown} are not among the tasks being trained {names}."
            )
        return np.array([t in primary for t in names], dtype=bool)

    def init(self, task_names):
        super().init(task_names)
        self._validate()
        self.primary_mask_ = self._primary_mask()
        self.meta_calls_ = 0
        return _AutoLambdaState(len(self.task_names_), float(self.weight_init))

    def holdout_share(self) -> float:
        """The share of training rows the engine holds out: ``holdout_fraction``."""
        return float(self.holdout_fraction)

    # ------------------------------------------------------------ training loss

    def combine(self, losses, present, task_weights, state):
        """``sum_i c_i lambda_i L_i`` over the present tasks, and the weights ``c_i lambda_i``."""
        lam = state.lambdas.detach().to(device=losses.device, dtype=losses.dtype)
        weights = torch.where(present, task_weights * lam, torch.zeros_like(losses))
        total = torch.where(present, weights * losses, torch.zeros_like(losses)).sum()
        return total, weights

    # ------------------------------------------------------------ bilevel step

    def meta_step(self, engine, batch, targets, meta_batch, meta_targets) -> None:
        """One Adam step of ``lambda`` on the held-out primary loss after a virtual step."""
        calls = int(getattr(self, "meta_calls_", 0))
        self.meta_calls_ = calls + 1
        if calls % int(self.meta_every):
            return
        network = engine.network
        state = network.weighting
        params = [p for p in network.parameters() if p.requires_grad]
        if not params or state is None:
            return
        flush = getattr(engine.optimizer, "flush", None)
        if flush is not None:  # rows updated lazily (SparseAdamW): the virtual step reads all
            flush()
        state_ids = {id(b) for b in state.buffers()}
        buffers = [b for b in network.buffers() if id(b) not in state_ids]
        with torch.no_grad():
            saved = [p.detach().clone() for p in params]
            saved_buffers = [b.detach().clone() for b in buffers]
        replay = _RandomReplay(saved[0].device)

        def reset_buffers() -> None:
            for b, s in zip(buffers, saved_buffers, strict=True):
                b.copy_(s)

        try:
            grad = self._hypergradient(
                engine,
                (batch, targets),
                (meta_batch, meta_targets),
                params,
                saved,
                reset_buffers,
                replay,
            )
        finally:
            with torch.no_grad():
                for p, s in zip(params, saved, strict=True):
                    p.copy_(s)
                reset_buffers()
            release_representation(network)
        if grad is not None:
            values, mask = grad
            adam_step(state.lambdas, values, state, mask, float(self.meta_learning_rate))

    def _hypergradient(self, engine, train, held_out, params, saved, reset_buffers, replay):
        """``(grad_lambda, mask)`` (on ``lambda``'s device), or None to skip the update."""
        state = engine.network.weighting
        group = engine.optimizer.param_groups[0]
        lr = float(group["lr"])
        wd = float(group.get("weight_decay", 0.0) or 0.0)
        momentum = float(group.get("momentum", 0.0) or 0.0)  # SGD's; Adam has none
        c = engine.task_weights.detach()

        # 1. The training loss at w and its gradient.
        with replay():
            losses, present = engine.task_losses(*train)
        present = present.detach().to(torch.bool)
        lam = state.lambdas.detach().to(device=losses.device, dtype=losses.dtype)
        coef = torch.where(present, c.to(losses) * lam, torch.zeros_like(losses))
        train_loss = (coef * losses).sum()
        if not bool(present.any()) or not train_loss.requires_grad:
            return None
        grads = torch.autograd.grad(train_loss, params, allow_unused=True)
        del train_loss, losses

        # 2. The virtual step w' = w - lr (grad + wd w + momentum term), in place.
        with torch.no_grad():
            for p, s, g in zip(params, saved, grads, strict=True):
                step = s * wd if wd else torch.zeros_like(s)
                if g is not None:
                    step.add_(g)
                if momentum:
                    buf = engine.optimizer.state.get(p, {}).get("momentum_buffer")
                    if buf is not None:
                        step.add_(buf, alpha=momentum)
                p.copy_(s - lr * step)
        del grads

        # 3. The primary loss on the held-out batch at w', and its gradient dw'.
        meta_losses, meta_present = engine.task_losses(*held_out)
        primary = torch.as_tensor(self.primary_mask_, device=meta_losses.device)
        on = primary & meta_present.detach().to(torch.bool)
        if not bool(on.any()):
            return None
        meta_loss = torch.where(
            on, c.to(meta_losses) * meta_losses, torch.zeros_like(meta_losses)
        ).sum()
        if not meta_loss.requires_grad:
            return None
        dw = torch.autograd.grad(meta_loss, params, allow_unused=True)
        del meta_loss, meta_losses
        with torch.no_grad():
            parts = [d.detach().double().norm() for d in dw if d is not None]
            norm = float(torch.linalg.vector_norm(torch.stack(parts))) if parts else 0.0
        if not (np.isfinite(norm) and norm > 0):
            return None
        eps = _FD_RADIUS / norm

        # 4. The training losses at w + eps dw' and w - eps dw' (buffers reset between).
        sides = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, s, d in zip(params, saved, dw, strict=True):
                    p.copy_(s if d is None else s + (sign * eps) * d)
                reset_buffers()
                with replay():
                    side, _ = engine.task_losses(*train)
            sides.append(side.detach())
        h = c.to(sides[0]) * (sides[0] - sides[1]) / (2.0 * eps)
        grad = torch.where(present, -lr * h, torch.zeros_like(h))
        lam_buf = state.lambdas
        if not bool(torch.isfinite(grad).all()):
            return None
        return grad.to(device=lam_buf.device, dtype=lam_buf.dtype), present.to(lam_buf.device)
