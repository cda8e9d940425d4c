"""AdamW whose row-sparse gradients write only the rows they touch, yet match dense AdamW.

Over a sparse input of ``n_features`` columns the first layer's weight is a
``(n_features, width)`` matrix of which a batch touches a few thousand rows.
Dense AdamW (Loshchilov & Hutter, 2019) still reads and writes the whole
matrix and both of its moments at every step, so a step over a million
features costs the same whatever the batch. :class:`SparseAdamW` is
``torch.optim.AdamW`` (the fused kernel where torch has one) for every
parameter whose gradient is dense; a parameter whose gradient is a row-sparse
COO tensor (see :class:`~skmtl.encoders.SparseAwareLinear`) has only the
gradient's rows, and their moments, read and written at a step. What dense
AdamW does to the other rows in that step -- an untouched row ``r`` has a
zero gradient, so its moments decay (``m *= beta1``, ``v *= beta2``), it
moves along its momentum (``-lr_t m_hat / (sqrt(v_hat) + eps)``) and it is
decayed (``w *= 1 - lr_t * weight_decay``) -- is deferred and replayed in
closed form when the row is next read or updated, or at :meth:`SparseAdamW.flush`:

* **Decoupled weight decay, exactly.** Each parameter keeps the running sum
  ``D_t = sum_{j <= t} log(1 - lr_j wd)`` of the log decay factors (float64;
  the learning rate may change from step to step, e.g. under a schedule),
  and each row the step ``s`` up to which it is up to date. The decay it
  missed is ``exp(D_t - D_s)``, the product of the factors of the steps it
  missed. This is the "just in time" regularisation of sparse linear models
  (Carpenter, 2008; the lazy updates of Langford, Li & Zhang, 2009, which
  Vowpal Wabbit applies; Bottou's SGD applies its L2 decay lazily through a
  scale) applied to AdamW's decoupled decay.
* **The moments, exactly.** A row's moments missed ``t - s`` zero gradients:
  they are ``beta1**(t-s) m`` and ``beta2**(t-s) v``.
* **The momentum drift, in closed form.** Between two touches dense Adam
  moves the row by ``sum_j F_j c_j rho**(j-s) m / (sqrt(v) + eps_j)``, with
  ``rho = beta1 / sqrt(beta2)``, ``c_j = lr_j sqrt(1 - beta2**j) / (1 -
  beta1**j)`` (bias corrections of the global step ``j``) and ``F_j`` the
  decay of the later steps. All of it is a per-step scalar except ``m / sqrt
  (v)``, so each parameter keeps the history of ``D_j`` and the running sums
  ``N_s = sum_j exp(-D_j) c_j rho**(j-s)`` (cut after ``rho**j < 1e-18``:
  a few hundred steps), and a row's drift is ``exp(D_t) N_s m / (sqrt(v) +
  eps sqrt(1 - beta2**(s+1)))``. The one approximation is ``eps``, taken at
  its value of the first missed step (exact when ``sqrt(v_hat) >> eps``, the
  usual case; its relative effect changes by ``beta2**(-k/2)`` over ``k``
  steps). It needs ``beta1**2 < beta2`` (Adam's own condition).

So every read of the weights -- the layer reads a sparse batch's rows at
their up-to-date value (:meth:`SparseAdamW.read_rows`; their gradient is the
gradient at that value), dense reads after :meth:`~SparseAdamW.flush` --
sees what dense AdamW gives, up to rounding and ``eps``, while a step costs
the batch's rows only. Bias corrections use the parameter's (global) step
count, as dense AdamW and also ``torch.optim.SparseAdam`` and TensorFlow's
``LazyAdamOptimizer`` do.

``lazy_moments=True`` gives instead the lazy Adam of ``torch.optim.SparseAdam``
and ``LazyAdamOptimizer`` (an untouched row keeps its moments and does not
move; cheaper, but a rare feature then moves about ten times less than under
dense Adam, which makes short fits worse), with the decoupled weight decay
still exact.

:meth:`~SparseAdamW.flush` brings every row (and its moments) up to date;
``state_dict()``, ``load_state_dict()`` and the layer's ``state_dict`` /
``load_state_dict`` / ``train()`` / ``eval()`` call it, so saved models,
early-stopping snapshots, predictions and the weights after ``fit`` are up
to date, and the saved state is plain AdamW state (``step``, ``exp_avg``,
``exp_avg_sq``): models saved before load into it and vice versa. Only code
that reads the weights directly between two steps of a fit (a callback's
``on_batch_end``) must call ``engine.optimizer.flush()`` first, as
``WeightAveraging`` does. A parameter whose gradient is dense at some step
(a gradient-aggregation strategy with ``on="parameters"`` writes a dense
aggregated gradient) is flushed and takes a dense AdamW step; with dense
gradients only the optimiser is ``torch.optim.AdamW``.

References
----------
Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
Loshchilov, I. & Hutter, F. (2019). Decoupled weight decay regularization. ICLR.
Carpenter, B. (2008). Lazy sparse stochastic gradient descent for regularized
multinomial logistic regression. Technical report, Alias-i.
Langford, J., Li, L. & Zhang, T. (2009). Sparse online learning via truncated
gradient. JMLR 10, 777-801.
TensorFlow ``tf.contrib.opt.LazyAdamOptimizer`` / TensorFlow Addons
``tfa.optimizers.LazyAdam``; PyTorch ``torch.optim.SparseAdam``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ..encoders._layers import advise_huge_pages, lazy_row_owner, register_lazy_rows

__all__ = ["SparseAdamW"]

_CLOCK = "lazy_clock"  # state key of a parameter's _Clock; never saved (flushed first)
_MAX_PENDING = 1 << 20  # steps after which the clock is flushed and restarted
_MAX_LOG_DECAY = 30.0  # ... or once the decay since its base is below exp(-30)
_FLUSH_ROWS = 1 << 16  # rows per chunk of a flush (bounded temporaries)
_TAIL_CUTOFF = 1e-18  # momentum drift terms rho**k below this are dropped
_SQRT_GUARD = 1e-30  # added to v under the square root of the drift


def _unhooked(step):
    """``step`` without torch's profiling/hook wrapper (our own step has one already)."""
    while getattr(step, "hooked", False) and hasattr(step, "__wrapped__"):
        step = step.__wrapped__
    return step


def _scalar_dtype(fused: bool) -> torch.dtype:
    try:
        from torch.optim.optimizer import _get_scalar_dtype

        return _get_scalar_dtype(is_fused=fused)
    except (ImportError, TypeError):  # pragma: no cover - other torch versions
        return torch.float32


def _per_row(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-row vector in ``like``'s dtype, shaped to broadcast over its rows."""
    return x.to(like.dtype).view((-1,) + (1,) * (like.dim() - 1))


class _Clock:
    """What the rows of one parameter missed since the clock's base (its last flush).

    ``row_step[r]``: the step (counted from the base) up to which row ``r``
    is up to date; ``n``: the steps since the base; ``log[j]`` = ``D_j``, the
    sum of the log decay factors of steps ``1..j``; ``tail[0, s]`` = ``N_s``
    and ``tail[1, s]`` = ``N'_s``, the momentum-drift sums of a row up to
    date at ``s`` (see the module's docstring); ``step0``: the parameter's
    AdamW step count at the base.
    """

    def __init__(self, p: torch.Tensor, step0: float, betas, exact: bool) -> None:
        row_step = torch.empty(p.shape[0], dtype=torch.int32, device=p.device)  # < _MAX_PENDING
        self.row_step = advise_huge_pages(row_step).zero_()
        self.log = torch.zeros(64, dtype=torch.float64, device=p.device)
        self.tail = torch.zeros((2, 64), dtype=torch.float64, device=p.device)
        self.n, self.D, self.step0 = 0, 0.0, float(step0)
        self.cache = None  # the last read_rows, for the step that follows
        self.work: dict[str, torch.Tensor] = {}  # reused row buffers (see gather)
        self.betas, self.exact = (float(betas[0]), float(betas[1])), bool(exact)
        beta1, beta2 = self.betas
        if exact and not 0.0 <= beta1 < beta2:
            raise ValueError(
                "SparseAdamW replays the momentum of untouched rows only with "
                f"beta1 < beta2, got betas={betas}; use lazy_moments=True."
            )
        # The drift's two series: ratio beta1 / sqrt(beta2), and beta1 / beta2 (eps's term).
        ratios = (beta1 / math.sqrt(beta2), beta1 / beta2) if exact and beta1 > 0 else (0.0, 0.0)
        self.horizon = max(
            [math.ceil(math.log(_TAIL_CUTOFF) / math.log(r)) for r in ratios if r > 0] or [0]
        )
        k = torch.arange(self.horizon, 0, -1, dtype=torch.float64)
        powers = torch.stack([torch.pow(torch.tensor(r, dtype=torch.float64), k) for r in ratios])
        self.powers = powers.to(p.device)  # (2, horizon): ratio**horizon ... ratio**1

    def gather(self, name: str, source: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """``source[rows]``, written into this clock's buffer ``name``, reused from step
        to step: a fresh allocation of that size would be page-faulted in every time."""
        buf = self.buffer(name, rows.numel(), source)
        return torch.index_select(source, 0, rows, out=buf)

    def buffer(self, name: str, n: int, like: torch.Tensor) -> torch.Tensor:
        """A reused buffer of ``n`` rows shaped (beyond its rows) like ``like``."""
        buf = self.work.get(name)
        shape = tuple(like.shape[1:])
        if buf is None or buf.shape[0] < n or buf.shape[1:] != shape or buf.dtype != like.dtype:
            size = (max(n + n // 4, 64),) + shape
            buf = self.work[name] = torch.empty(size, dtype=like.dtype, device=like.device)
        return buf[:n]

    def restart(self, step0: float) -> None:
        """Every row is up to date: the base moves to now."""
        self.row_step.zero_()
        self.log[0] = 0.0
        self.tail[:, 0] = 0.0
        self.n, self.D, self.step0 = 0, 0.0, float(step0)
        self.cache = None

    def advance(self, log_factor: float, c: float, bias2: float) -> None:
        """Record one more step: its log decay factor, drift coefficient ``c_j`` and
        ``sqrt(1 - beta2**j)``."""
        n = self.n = self.n + 1
        if n >= self.log.numel():
            self.log = torch.cat([self.log, torch.zeros_like(self.log)])
            self.tail = torch.cat([self.tail, torch.zeros_like(self.tail)], dim=1)
        self.D += log_factor
        self.log[n] = self.D
        self.tail[:, n] = 0.0
        lo = max(0, n - self.horizon)
        if c and n > lo:  # a row up to date at s in [lo, n) drifts by c_n ratio**(n - s)
            coef = torch.tensor([c, c * bias2], dtype=torch.float64, device=self.log.device)
            coef *= math.exp(-self.D)
            self.tail[:, lo:n] += coef[:, None] * self.powers[:, self.horizon - (n - lo) :]

    def sync(self, w, m, v, s: torch.Tensor, eps: float, scratch: bool = False) -> None:
        """Bring rows up to date from their steps ``s``, in place (``w``, ``m``, ``v``:
        gathered copies or views of the rows of the weight and its moments;
        ``scratch``: work in the clock's buffer rather than a fresh tensor)."""
        decay = torch.exp(self.D - self.log[s])
        if not self.exact:
            w.mul_(_per_row(decay, w))
            return
        beta1, beta2 = self.betas
        tail, tail_eps = self.tail[0, s], self.tail[1, s]
        # eps enters the drift as eps * N'_s / N_s (the N-weighted mean of its factor).
        eps_row = eps * tail_eps / torch.where(tail > 0, tail, torch.ones_like(tail))
        # + _SQRT_GUARD: sqrt of 0 (a row never touched, m = 0) is slow on CPU, and
        # 0 / 0 with eps = 0; the guard's root (1e-15) is far below eps's term.
        out = self.buffer("drift", v.shape[0], v) if scratch else None
        denom = torch.add(v, _SQRT_GUARD, out=out).sqrt_().add_(_per_row(eps_row, v))
        drift = torch.div(m, denom, out=denom)
        drift.mul_(_per_row(math.exp(self.D) * tail, w))
        w.mul_(_per_row(decay, w)).sub_(drift)
        gap = self.n - s.to(torch.float64)
        m.mul_(_per_row(torch.pow(beta1, gap), m))
        v.mul_(_per_row(torch.pow(beta2, gap), v))


class SparseAdamW(torch.optim.AdamW):
    """AdamW that steps the row-sparse gradients' rows only, as dense AdamW would move them.

    Dense gradients get ``torch.optim.AdamW``'s update (fused when created
    with ``fused=True``). A row-sparse COO gradient (sparse in the first
    dimension, as :class:`~skmtl.encoders.SparseAwareLinear` and
    ``F.embedding_bag(..., sparse=True)`` give) reads and writes only its
    rows and their moments; what dense AdamW does to the other rows in that
    step (their decoupled weight decay, the decay of their moments and their
    drift along their momentum) is replayed in closed form when a row is next
    read (:meth:`read_rows`) or updated, or at :meth:`flush`. See
    :mod:`skmtl.engine._sparse_adamw` for the semantics and references.

    Parameters
    ----------
    params : iterable of Tensor or dict
        The parameters (or parameter groups), as for ``torch.optim.AdamW``.
    lr : float, default=1e-3
    betas : tuple of float, default=(0.9, 0.999)
        With row-sparse gradients (and ``lazy_moments=False``) ``beta1**2 <
        beta2`` is required.
    eps : float, default=1e-8
    weight_decay : float, default=1e-2
        Decoupled weight decay, as AdamW's (exact for untouched rows too).
    amsgrad : bool, default=False
        With row-sparse gradients only together with ``lazy_moments=True``.
    maximize : bool, default=False
    foreach : bool or None, default=None
    fused : bool or None, default=None
        Use torch's fused AdamW kernel (for the dense gradients, and for the
        gathered rows of the sparse ones).
    lazy_moments : bool, default=False
        True: the lazy Adam of ``torch.optim.SparseAdam`` (an untouched row
        keeps its moments and does not move; its weight decay stays exact).

    Notes
    -----
    ``state_dict()`` flushes first; the state is then exactly AdamW's
    (``step``, ``exp_avg``, ``exp_avg_sq``), so a ``torch.optim.AdamW``
    checkpoint loads into ``SparseAdamW`` and back. The optimiser registers
    its parameters with ``skmtl.encoders._layers.register_lazy_rows``: a
    :class:`~skmtl.encoders.SparseAwareLinear` gives row-sparse gradients only
    to a weight so registered (with another optimiser it keeps dense ones).

    Examples
    --------
    >>> import torch
    >>> from torch.nn import functional as F
    >>> from skmtl.engine import SparseAdamW
    >>> weight = torch.nn.Parameter(torch.ones(1000, 4))
    >>> opt = SparseAdamW([weight], lr=0.1, weight_decay=0.5)
    >>> for _ in range(3):  # every batch reads rows 0 and 1 only
    ...     opt.zero_grad()
    ...     out = F.embedding_bag(torch.tensor([0, 1]), weight, torch.tensor([0]), sparse=True)
    ...     out.sum().backward()
    ...     opt.step()
    >>> bool(weight.grad.is_sparse), float(weight[999, 0])  # row 999 not written yet
    (True, 1.0)
    >>> opt.flush()  # the decay of the 3 steps: 0.95 ** 3
    >>> round(float(weight[999, 0]), 6)
    0.857375
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
        lazy_moments: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            fused=fused,
        )
        self.defaults["lazy_moments"] = bool(lazy_moments)  # later groups' default
        for group in self.param_groups:
            group.setdefault("lazy_moments", bool(lazy_moments))

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group (as ``torch.optim.Optimizer``), and own its parameters'
        rows (``skmtl.encoders._layers.register_lazy_rows``) unless another optimiser
        holds deferred updates of them."""
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            if p.dim() >= 1 and not _has_pending_owner(p):
                register_lazy_rows(p, self)

    # ------------------------------------------------------------ the step

    @torch.no_grad()
    def step(self, closure=None):
        """One optimisation step: AdamW for dense gradients, the rows of sparse ones.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss.

        Returns
        -------
        loss : Tensor or None
            The closure's loss.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        sparse, dense = [], False
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if grad.is_sparse and grad.sparse_dim() == 1 and p.dim() >= 1:
                    sparse.append((group, p, grad))
                    p.grad = None  # hidden from the dense step
                    continue
                if grad.is_sparse:  # sparse in more than the rows: densified
                    p.grad = grad.to_dense()
                dense = True
                self._flush_param(p)  # the dense step updates every row
        try:
            if dense:  # AdamW's own step (looked up now: tests may patch it)
                _unhooked(torch.optim.AdamW.step)(self)
        finally:
            for _, p, grad in sparse:
                p.grad = grad
        for group, p, grad in sparse:
            self._sparse_step(group, p, grad)
        return loss

    @staticmethod
    def _exact(group: dict) -> bool:
        return not group.get("lazy_moments", False)

    def _state(self, group: dict, p: torch.Tensor) -> dict:
        """The parameter's AdamW state (created as AdamW creates it) and its clock."""
        state = self.state[p]
        if "step" not in state:
            if group.get("fused") or group.get("capturable"):
                state["step"] = torch.zeros((), dtype=_scalar_dtype(True), device=p.device)
            else:
                state["step"] = torch.tensor(0.0, dtype=_scalar_dtype(False))
            for name in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) * group["amsgrad"]):
                moment = torch.empty_like(p, memory_format=torch.preserve_format)
                state[name] = advise_huge_pages(moment).zero_()
        clock = state.get(_CLOCK)
        betas, exact = tuple(float(b) for b in group["betas"]), self._exact(group)
        if clock is None or clock.betas != betas or clock.exact != exact:
            self._flush_param(p)
            state[_CLOCK] = _Clock(p, float(state["step"]), betas, exact)
        return state

    def _check_sparse(self, group: dict, p: torch.Tensor) -> None:
        if group.get("differentiable") or group.get("capturable"):
            raise RuntimeError(
                "SparseAdamW does not support sparse gradients with differentiable=True "
                "or capturable=True."
            )
        if torch.is_complex(p):
            raise RuntimeError("SparseAdamW does not support sparse gradients of complex tensors.")
        if group["amsgrad"] and self._exact(group):
            raise RuntimeError(
                "SparseAdamW supports amsgrad=True with sparse gradients only with "
                "lazy_moments=True."
            )

    def _sparse_step(self, group: dict, p: torch.Tensor, grad: torch.Tensor) -> None:
        """AdamW on the rows of a row-sparse gradient; the other rows' step is deferred.

        The touched rows of the weight and of its moments are gathered once,
        brought up to date, updated as dense AdamW updates them (by the fused
        kernel where the group is fused) and written back once.
        """
        self._check_sparse(group, p)
        register_lazy_rows(p, self)
        rows, values = grad._indices()[0], grad._values()
        if not (grad.is_coalesced() or _strictly_increasing(rows)):
            grad = grad.coalesce()  # repeated rows summed
            rows, values = grad._indices()[0], grad._values()
        values = values.to(p.dtype)
        state = self._state(group, p)
        if state[_CLOCK].n >= _MAX_PENDING or state[_CLOCK].D < -_MAX_LOG_DECAY:
            self._flush_param(p)  # keeps the clock's sums in range
        clock = state[_CLOCK]
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        if lr * wd >= 1.0:  # a factor <= 0 has no logarithm: applied to every row now
            self._flush_param(p)
            p.mul_(1.0 - lr * wd)
            wd = 0.0
        names = ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"]
        w_rows, moments = self._up_to_date_rows(p, state, rows, names, float(group["eps"]))
        state["step"] += 1
        _adamw_rows(group, w_rows, values, moments, state["step"], lr, wd)
        for name, part in zip(names, moments, strict=True):
            state[name].index_copy_(0, rows, part)
        p.index_copy_(0, rows, w_rows)
        t = float(state["step"])
        beta1, beta2 = clock.betas
        bias2 = math.sqrt(1.0 - beta2**t)
        drift = lr * bias2 / (1.0 - beta1**t) if self._exact(group) else 0.0
        clock.advance(math.log1p(-lr * wd), drift, bias2)
        clock.row_step.index_fill_(0, rows, clock.n)

    def _up_to_date_rows(self, p, state, rows, names, eps):
        """``(weight rows, [moment rows])`` up to date: the forward pass's
        (:meth:`read_rows`) if nothing changed since, else gathered and synced."""
        clock = state[_CLOCK]
        reused = _reuse_read(clock, p, state, rows)
        if reused is not None:
            w_rows, m_rows, v_rows = reused
            moments = [m_rows, v_rows] if m_rows is not None else [None, None]
            moments += [None] * (len(names) - 2)
            for i, name in enumerate(names):
                if moments[i] is None:  # not synced by the read (lazy moments) or max
                    moments[i] = clock.gather(name, state[name], rows)
            return w_rows, moments
        w_rows = clock.gather("weight", p, rows)
        moments = [clock.gather(name, state[name], rows) for name in names]
        if clock.n:
            s = clock.row_step.index_select(0, rows)
            clock.sync(w_rows, moments[0], moments[1], s, eps, scratch=True)
        return w_rows, moments

    def _flush_param(self, p: torch.Tensor) -> None:
        state = self.state.get(p)
        clock = state.get(_CLOCK) if state else None
        if clock is None or not clock.n:
            return
        eps = float(self._group_of(p)["eps"])
        with torch.no_grad():
            for a in range(0, p.shape[0], _FLUSH_ROWS):
                rows = slice(a, a + _FLUSH_ROWS)  # views: synced in place
                m, v = state["exp_avg"][rows], state["exp_avg_sq"][rows]
                clock.sync(p[rows], m, v, clock.row_step[rows], eps, scratch=True)
        clock.restart(float(state["step"]))

    # ------------------------------------------------------------ reads

    def read_rows(self, param: torch.Tensor, rows: torch.Tensor) -> torch.Tensor | None:
        """The up-to-date values of the rows ``rows`` of ``param``, or None if stored ones are.

        :class:`~skmtl.encoders.SparseAwareLinear` reads a sparse batch's
        rows so: the values dense AdamW would hold (see the module
        docstring), without writing them. The result is a buffer the
        optimiser reuses: valid until its next read or step of ``param``
        (the step that follows a forward pass reuses the rows it read).

        Parameters
        ----------
        param : Tensor
            One of the optimiser's parameters (others: None).
        rows : Tensor of int
            Row indices of ``param``.

        Returns
        -------
        Tensor of shape ``(len(rows),) + param.shape[1:]``, or None
        """
        state = self.state.get(param)
        clock = state.get(_CLOCK) if state else None
        if clock is None or not clock.n:
            return None
        with torch.no_grad():
            rows = rows.to(device=param.device, dtype=torch.long)
            w = clock.gather("weight", param, rows)
            m = clock.gather("exp_avg", state["exp_avg"], rows) if clock.exact else None
            v = clock.gather("exp_avg_sq", state["exp_avg_sq"], rows) if clock.exact else None
            eps = float(self._group_of(param)["eps"])
            clock.sync(w, m, v, clock.row_step.index_select(0, rows), eps, scratch=True)
        # Kept for the step that follows the forward pass (same rows, nothing changed).
        versions = _versions(param, state)
        clock.cache = (clock.n, versions, rows, w, m, v)
        return w

    def _group_of(self, p: torch.Tensor) -> dict:
        return next(g for g in self.param_groups if any(q is p for q in g["params"]))

    def flush(self, params: Iterable[torch.Tensor] | None = None) -> None:
        """Apply every deferred update, so the weights and moments are dense AdamW's.

        Cheap when nothing is deferred. ``state_dict()``, ``load_state_dict()``
        and :class:`~skmtl.encoders.SparseAwareLinear`'s ``state_dict``,
        ``load_state_dict`` and ``train()``/``eval()`` call it.

        Parameters
        ----------
        params : iterable of Tensor, optional
            Only these of the optimiser's parameters (default: all).
        """
        if params is None:
            params = [p for group in self.param_groups for p in group["params"]]
        for p in params:
            self._flush_param(p)

    def state_dict(self) -> dict:
        """AdamW's state dict, taken after :meth:`flush` (no lazy state in it)."""
        self.flush()
        out = super().state_dict()
        out["state"] = {
            key: {name: v for name, v in s.items() if name != _CLOCK}
            for key, s in out["state"].items()
        }
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Flush, then load an AdamW (or SparseAdamW) state dict."""
        self.flush()
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group.setdefault("lazy_moments", self.defaults.get("lazy_moments", False))


def _strictly_increasing(rows: torch.Tensor) -> bool:
    """Whether ``rows`` are sorted and unique (as the layer's gradient is, though
    autograd's accumulation drops the coalesced flag): no need to sort them."""
    return rows.numel() < 2 or bool((rows[1:] > rows[:-1]).all())


def _versions(p: torch.Tensor, state: dict) -> tuple[int, ...]:
    return (p._version, state["exp_avg"]._version, state["exp_avg_sq"]._version)


def _reuse_read(clock: _Clock, p: torch.Tensor, state: dict, rows: torch.Tensor):
    """``(w, m, v)`` the last :meth:`SparseAdamW.read_rows` of ``p`` gave (``m``, ``v``
    None unless synced), if it read these rows and nothing changed since; else None."""
    cached, clock.cache = clock.cache, None
    if cached is None:
        return None
    n, versions, read, w, m, v = cached
    if n != clock.n or versions != _versions(p, state) or read.shape != rows.shape:
        return None
    if read.data_ptr() != rows.data_ptr() and not torch.equal(read, rows):
        return None
    return w, m, v


def _has_pending_owner(p: torch.Tensor) -> bool:
    """Whether another live optimiser holds deferred updates of ``p`` (it keeps ``p``)."""
    owner = lazy_row_owner(p)
    state = getattr(owner, "state", {}).get(p) if owner is not None else None
    clock = state.get(_CLOCK) if state else None
    return bool(clock is not None and clock.n)


def _adamw_rows(group, p_rows, grad, moments, step, lr: float, wd: float) -> None:
    """AdamW's update of gathered rows, in place (``step`` already incremented)."""
    beta1, beta2 = (float(b) for b in group["betas"])
    eps, amsgrad, maximize = float(group["eps"]), bool(group["amsgrad"]), group["maximize"]
    if group.get("fused"):
        maxes = moments[2:] if amsgrad else []
        torch._fused_adamw_(
            [p_rows],
            [grad],
            moments[:1],
            moments[1:2],
            maxes,
            [step],
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=wd,
            eps=eps,
            amsgrad=amsgrad,
            maximize=bool(maximize),
        )
        return
    if maximize:
        grad = -grad
    exp_avg, exp_avg_sq = moments[0], moments[1]
    p_rows.mul_(1.0 - lr * wd)
    exp_avg.lerp_(grad, 1.0 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
    if amsgrad:
        torch.maximum(moments[2], exp_avg_sq, out=moments[2])
        exp_avg_sq = moments[2]
    t = float(step)
    denom = (exp_avg_sq.sqrt() / math.sqrt(1.0 - beta2**t)).add_(eps)
    p_rows.addcdiv_(exp_avg, denom, value=-lr / (1.0 - beta1**t))
