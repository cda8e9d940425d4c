"""Weight-conditioned training: one network for every task weighting.

Dosovitskiy and Djolonga, "You Only Train Once: Loss-Conditional Training of
Deep Networks", ICLR 2020 (YOTO: a weight vector sampled per step, FiLM layers
conditioned on it); Ruchte and Grabocka, "Scalable Pareto Front Approximation
for Deep Multi-Objective Learning", ICDM 2021 (COSMOS: the weights given as an
extra input); Navon, Shamsian, Chechik and Fetaya, "Learning the Pareto Front
with Hypernetworks", ICLR 2021 (the same idea with a hypernetwork).
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from ._base import WeightingStrategy

__all__ = ["WeightConditioned"]

_DISTRIBUTIONS = ("dirichlet", "log_uniform")
_CONDITIONING = ("film", "input")
# Predictions under different weights on one network (threads) take turns.
_LOCK = threading.RLock()


class WeightConditioned(WeightingStrategy):
    """Train one model that serves every task weighting (YOTO / COSMOS).

    At every training step weight vectors ``lambda`` are drawn on the simplex
    (one per row by default), the shared layers are conditioned on them, and
    the step minimises ``n_tasks * sum_t lambda_t L_t`` (each row's task
    losses scaled by its own draw; tasks without a labelled row drop out; at
    equal weights this is the plain sum of :class:`EqualWeighting`, so
    learning rates carry over). After one fit
    the model answers for any weighting: the estimator's ``task_weights``
    choose the condition at predict time, so
    ``model.set_params(task_weights={...})`` on the *fitted* model changes its
    predictions without refitting. The condition is ``task_weights``
    normalised to sum 1 (only their ratios matter); ``task_weights`` do not
    act in training, so setting them before ``fit`` changes nothing but the
    weighting the fitted model serves. Search over them with
    :class:`skmtl.model_selection.TaskWeightSearchCV` (one fit per fold) and
    draw the trade-off with :func:`skmtl.model_selection.pareto_front`.

    Parameters
    ----------
    distribution : {"dirichlet", "log_uniform"}, default="dirichlet"
        How ``lambda`` is drawn. ``"dirichlet"``: ``Dirichlet(concentration)``
        over the simplex (``concentration=1`` is uniform on it; below 1 puts
        more draws near the corners, i.e. near single tasks; above 1 near
        equal weights). ``"log_uniform"``: each task's weight drawn
        log-uniformly in ``[min_weight, 1]`` independently (as YOTO samples its
        loss weights), then normalised; ratios up to ``1 / min_weight``.
    concentration : float or sequence of float, default=1.0
        The Dirichlet concentration, one value or one per task (> 0).
    min_weight : float, default=0.01
        The lower end of the log-uniform range, in (0, 1).
    conditioning : {"film", "input"}, default="film"
        Where the weights enter the network. ``"film"`` (YOTO): every block
        of the shared trunk (each hidden layer, each contextual layer of a
        text encoder, each expert of an MMoE) is modulated as
        ``gamma(lambda) * h + beta(lambda)``, with ``gamma, beta`` linear maps
        of a learned embedding of ``lambda``, started at the identity. ``h``
        is a dense block's pre-activation (its linear map's output, so the
        weights change which units fire), the output of each layer norm of a
        contextual layer (conditional normalisation: a residual block's branch
        is modulated, not its stream), or the output of a contextual layer
        without a norm (a BiLSTM, a GRU, torch's transformer layer).
        Every block is conditioned, and dense ones before their activation,
        because a linear modulation of the trunk's last output alone can
        hardly trade tasks off: the heads read it linearly, and each head's
        best fit does not depend on the weights. ``"input"`` (COSMOS): the
        weights are concatenated to the input, implemented as a learned
        projection of ``lambda`` added to the first linear map's output (exactly
        concatenation for numeric features) or to the token embeddings of a
        text encoder.
    hidden_size : int, default=32
        Width of the embedding of ``lambda`` that the FiLM layers read.
    sampling : {"row", "batch"}, default="row"
        ``"row"`` (YOTO): every row of a batch draws its own weights and is
        conditioned on them; its loss for task ``t`` is scaled by
        ``n_tasks * lambda_t``. Each step then contrasts many weightings,
        which is what teaches the network how the weights should change its
        output, while the shared layers see all tasks every step.
        ``"batch"``: one draw per step for the whole batch (the step's loss
        is ``n_tasks * sum_t lambda_t L_t``).
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. None draws the seed from torch's global generator,
        which the estimator seeds from its own ``random_state`` in ``fit``.

    Attributes
    ----------
    rng_ : numpy.random.RandomState
        The generator of the draws, seeded by :meth:`init`.
    last_weights_ : ndarray of shape (n_rows, n_tasks)
        The weights drawn for the rows of the last training step.

    Notes
    -----
    How far the served weights move the predictions depends on how much the
    tasks compete for the shared layers within the training budget. On
    GoEmotions, EmoBank and UD EWT (``benchmarks/bench_weight_conditioned.py``)
    one conditioned fit found a compromise as good as the best of 9-10 static
    fits on the TF-IDF MLPs (3.3 Δm points worse on the tagger), but its
    per-task scores moved by less than 0.01 across weightings: a narrow front.
    The validation score of ``early_stopping`` is measured at equal weights.
    ``add_tasks`` is not available (the condition has one entry per task the
    network was built for), and the gradient strategies cannot be combined
    (this *is* the strategy).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.weighting import WeightConditioned
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 4)
    >>> Y = np.c_[X[:, 0], -X[:, 0] + X[:, 1]]
    >>> model = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0,
    ...                            weighting=WeightConditioned(random_state=0)).fit(X, Y)
    >>> a = model.set_params(task_weights=[0.9, 0.1]).predict(X[:2])
    >>> b = model.set_params(task_weights=[0.1, 0.9]).predict(X[:2])
    >>> bool(np.any(a != b))
    True
    """

    #: The fitted network depends on the weights it is asked for (see ``conditioned``).
    conditions_network = True

    def __init__(
        self,
        distribution: str = "dirichlet",
        concentration: float | Sequence[float] = 1.0,
        min_weight: float = 0.01,
        conditioning: str = "film",
        hidden_size: int = 32,
        sampling: str = "row",
        random_state=None,
    ) -> None:
        self.distribution = distribution
        self.concentration = concentration
        self.min_weight = min_weight
        self.conditioning = conditioning
        self.hidden_size = hidden_size
        self.sampling = sampling
        self.random_state = random_state

    # ------------------------------------------------------------ fit

    def init(self, task_names):
        super().init(task_names)
        self._check()
        if self.random_state is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
            self.rng_ = np.random.RandomState(seed)
        else:
            self.rng_ = check_random_state(self.random_state)
            if isinstance(self.random_state, np.random.RandomState):
                self.rng_ = np.random.RandomState(self.rng_.randint(np.iinfo(np.int32).max))
        self.last_weights_ = np.full((1, len(task_names)), 1.0 / len(task_names))
        return Condition(len(task_names), int(self.hidden_size))

    def _check(self) -> None:
        if self.distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"WeightConditioned distribution must be one of {list(_DISTRIBUTIONS)}, "
                f"got {self.distribution!r}."
            )
        if self.sampling not in ("row", "batch"):
            raise ValueError(
                f"WeightConditioned sampling must be 'row' or 'batch', got {self.sampling!r}."
            )
        if self.conditioning not in _CONDITIONING:
            raise ValueError(
                f"WeightConditioned conditioning must be one of {list(_CONDITIONING)}, "
                f"got {self.conditioning!r}."
            )
        k = len(self.task_names_)
        try:
            alpha = np.broadcast_to(np.asarray(self.concentration, dtype=np.float64), (k,))
        except (TypeError, ValueError):
            raise ValueError(
                f"WeightConditioned concentration must be a number or one number per task "
                f"({k} tasks {self.task_names_}), got {self.concentration!r}."
            ) from None
        if isinstance(self.concentration, bool) or not np.all(np.isfinite(alpha) & (alpha > 0)):
            raise ValueError(
                f"WeightConditioned concentration must be > 0, got {self.concentration!r}."
            )
        self.alpha_ = alpha.copy()
        m = self.min_weight
        if isinstance(m, bool) or not isinstance(m, numbers.Real) or not 0 < m < 1:
            raise ValueError(f"WeightConditioned min_weight must be in (0, 1), got {m!r}.")
        h = self.hidden_size
        if isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1:
            raise ValueError(f"WeightConditioned hidden_size must be an int >= 1, got {h!r}.")

    def condition_stack(self, stack, state):
        """``stack`` whose blocks (``"film"``) or input (``"input"``) read the condition."""
        return ConditionedStack(stack, state, self.conditioning)

    def draw(self, n: int | None = None) -> np.ndarray:
        """One weight vector on the simplex ``(n_tasks,)``, or ``n`` of them ``(n, n_tasks)``
        (float64, each sums to 1)."""
        k = len(self.task_names_)
        shape = (k,) if n is None else (n, k)
        if self.distribution == "dirichlet":
            w = self.rng_.dirichlet(self.alpha_, size=None if n is None else n)
        else:
            w = np.exp(self.rng_.uniform(np.log(self.min_weight), 0.0, size=shape))
        return w / w.sum(axis=-1, keepdims=True)

    def begin_step(self, network, n_rows: int):
        """Draw the step's weights, condition ``network`` on them; return ``n_tasks *`` them
        per row (the engine scales each row's task losses by them)."""
        n = max(int(n_rows or 1), 1)
        if self.sampling == "row":
            lam = self.draw(n)
        else:
            lam = np.repeat(self.draw()[None, :], n, axis=0)
        self.last_weights_ = lam
        state = network.weighting
        state.set_condition(lam)
        ref = state.embed[0].weight
        return torch.as_tensor(len(self.task_names_) * lam, dtype=ref.dtype, device=ref.device)

    def end_step(self, network) -> None:
        network.weighting.set_condition(None)

    def combine(self, losses, present, task_weights, state):
        # The drawn weights already scale each row's losses (``begin_step``).
        weights = present.to(losses.dtype)
        return (weights * losses).sum(), weights

    # ------------------------------------------------------------ predict

    def condition_for(self, task_weights) -> np.ndarray:
        """The condition served for the estimator's task weights: them, normalised."""
        w = np.asarray(task_weights, dtype=np.float64)
        return w / w.sum()


class Condition(nn.Module):
    """The weight vector the network is conditioned on, and its learned embedding.

    It is the strategy's trainable state (``network.weighting``), so it is
    optimised, moved and saved with the network. The conditioned blocks of
    :class:`ConditionedStack` read :meth:`embedding` at each forward.
    """

    def __init__(self, n_tasks: int, hidden_size: int) -> None:
        super().__init__()
        self.n_tasks = n_tasks
        self.hidden_size = hidden_size
        self.embed = nn.Sequential(nn.Linear(n_tasks, hidden_size), nn.ReLU())
        self.value: np.ndarray | None = None

    def set_condition(self, weights) -> None:
        """Condition the next forwards on ``weights``: one vector ``(n_tasks,)`` for every
        row, one per row ``(n_rows, n_tasks)``, or None (equal weights)."""
        self.value = None if weights is None else np.asarray(weights, dtype=np.float64)

    def weights(self) -> torch.Tensor:
        ref = self.embed[0].weight
        if self.value is None:
            return ref.new_full((self.n_tasks,), 1.0 / self.n_tasks)
        return torch.as_tensor(self.value, dtype=ref.dtype, device=ref.device)

    def embedding(self) -> torch.Tensor:
        """``(hidden_size,)`` or ``(n_rows, hidden_size)``: the current weights embedded."""
        return self.embed(self.weights())

    def __getstate__(self):
        state = super().__getstate__()
        state["value"] = None  # the last step's draw is not part of the model
        return state


def conditioned(network, weights):
    """Context manager: ``network`` conditioned on ``weights`` (restored after).

    Parameters
    ----------
    network : nn.Module
        A network whose ``weighting`` state is a weight condition (else nothing
        is done).
    weights : array-like of shape (n_tasks,) or (n_rows, n_tasks), or None
        The task weights to predict under (None: leave the network as it is).
    """
    return _Conditioned(network, weights)


class _Conditioned:
    def __init__(self, network, weights) -> None:
        self.state = getattr(network, "weighting", None)
        self.weights = weights

    def __enter__(self):
        if isinstance(self.state, Condition) and self.weights is not None:
            _LOCK.acquire()
            self.saved = self.state.value
            self.state.set_condition(self.weights)
        return self

    def __exit__(self, *exc) -> None:
        if isinstance(self.state, Condition) and self.weights is not None:
            self.state.value = self.saved
            _LOCK.release()


# ---------------------------------------------------------------- the stack


class ConditionedStack:
    """A shared stack whose blocks read the condition (see ``WeightConditioned``).

    Every architecture builds its blocks through the stack, so wrapping the
    stack conditions every architecture (experts, columns, levels) alike.
    Everything but ``make_stem`` / ``make_block`` is the wrapped stack's.
    """

    def __init__(self, stack, state: Condition, mode: str) -> None:
        self.stack = stack
        self.state = state
        self.mode = mode

    def __getattr__(self, name):
        if name.startswith("__") or name in ("stack", "state", "mode"):
            raise AttributeError(name)
        return getattr(self.stack, name)

    def __repr__(self) -> str:
        return f"ConditionedStack({self.stack!r}, mode={self.mode!r})"

    def make_stem(self) -> nn.Module:
        stem = self.stack.make_stem()
        if self.mode != "input" or self.stack.level(-1) != "token":
            return stem
        return _ShiftedStem(stem, self.stack.out_features(-1), self.state)

    def make_block(self, i: int) -> nn.Module:
        block = self.stack.make_block(i)
        if self.mode == "film":
            first = _first_linear(block)
            if first is not None and self.stack.level(i) != "token":
                block.layers[0] = _FiLMLinear(first, self.state)  # before the activation
                return block
            if first is None and _condition_norms(block, self.state):
                return block  # a contextual layer: its layer norms are conditioned
            # Dense layers over the flattened tokens, or a layer without a norm: its output.
            return _FiLMBlock(block, self.stack.out_features(i), self.state)
        if i == 0 and self.stack.level(-1) != "token":
            first = _first_linear(block)
            if first is None:
                raise ValueError(
                    "WeightConditioned(conditioning='input') needs the first shared layer to "
                    f"start with a linear map; {type(block).__name__} does not. "
                    "Use conditioning='film'."
                )
            block.layers[0] = _ShiftedLinear(first, self.state)
        return block


def _condition_norms(block: nn.Module, state: Condition) -> bool:
    """Replace every LayerNorm of a contextual ``block`` by a conditioned one (FiLM on its
    output, as conditional normalisation); False (nothing changed) when there is none, or
    when the block holds torch's transformer layers (whose fused inference path reads the
    norms' weights directly and would skip the condition)."""
    if any(
        isinstance(m, nn.TransformerEncoderLayer | nn.TransformerDecoderLayer)
        for m in block.modules()
    ):
        return False
    parents = [
        (parent, name, child)
        for parent in block.modules()
        for name, child in parent.named_children()
        if isinstance(child, nn.LayerNorm) and len(child.normalized_shape) == 1
    ]
    for parent, name, child in parents:
        setattr(parent, name, _FiLMNorm(child, state))
    return bool(parents)


class _FiLMNorm(nn.Module):
    """``gamma(lambda) * norm(x) + beta(lambda)`` on ``(B, D)`` or ``(B, T, D)``."""

    def __init__(self, norm: nn.LayerNorm, state: Condition) -> None:
        super().__init__()
        self.norm = norm
        self.width = int(norm.normalized_shape[0])
        self.film = _zero_linear(state.hidden_size, 2 * self.width)
        _read(self, state)

    def forward(self, x):
        out = self.norm(x)
        gamma, beta = self.film(self._condition.embedding()).split(self.width, dim=-1)
        if out.dim() == 3:
            gamma, beta = _per_token(gamma), _per_token(beta)
        return out * (1.0 + gamma) + beta


def _first_linear(block):
    layers = getattr(block, "layers", None)
    if isinstance(layers, nn.Sequential) and len(layers) and hasattr(layers[0], "out_features"):
        return layers[0]
    return None


def _read(module, state: Condition) -> None:
    # A plain attribute, not a submodule: the state is registered once, on the network.
    object.__setattr__(module, "_condition", state)


def _zero_linear(n_in: int, n_out: int) -> nn.Linear:
    linear = nn.Linear(n_in, n_out)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


def _token_mask(batch):
    mask = batch.get("mask") if isinstance(batch, Mapping) else None
    return None if mask is None else mask.to(torch.bool).unsqueeze(-1)


class _FiLMBlock(nn.Module):
    """``gamma(lambda) * block(h) + beta(lambda)``, zero at padded tokens; starts as ``block``."""

    def __init__(self, block: nn.Module, width: int, state: Condition) -> None:
        super().__init__()
        self.block = block
        self.width = width
        self.film = _zero_linear(state.hidden_size, 2 * width)
        _read(self, state)

    def forward(self, h, batch=None):
        out = self.block(h, batch)
        gamma, beta = self.film(self._condition.embedding()).split(self.width, dim=-1)
        if out.dim() == 3:
            gamma, beta = _per_token(gamma), _per_token(beta)
        out = out * (1.0 + gamma) + beta
        if out.dim() == 3:
            mask = _token_mask(batch)
            if mask is not None:
                out = out * mask
        return out


def _per_token(value: torch.Tensor) -> torch.Tensor:
    """A per-row ``(B, D)`` modulation broadcast over the tokens of ``(B, T, D)``."""
    return value.unsqueeze(1) if value.dim() == 2 else value


class _FiLMLinear(nn.Module):
    """``gamma(lambda) * linear(x) + beta(lambda)``: a dense block's pre-activation."""

    def __init__(self, linear: nn.Module, state: Condition) -> None:
        super().__init__()
        self.linear = linear
        self.film = _zero_linear(state.hidden_size, 2 * linear.out_features)
        _read(self, state)

    @property
    def out_features(self) -> int:
        return self.linear.out_features

    def forward(self, x):
        width = self.linear.out_features
        gamma, beta = self.film(self._condition.embedding()).split(width, dim=-1)
        return self.linear(x) * (1.0 + gamma) + beta


class _ShiftedLinear(nn.Module):
    """``linear(x) + P lambda``: the linear map of ``[x, lambda]``."""

    def __init__(self, linear: nn.Module, state: Condition) -> None:
        super().__init__()
        self.linear = linear
        self.shift = nn.Linear(state.n_tasks, linear.out_features, bias=False)
        _read(self, state)

    @property
    def out_features(self) -> int:
        return self.linear.out_features

    def forward(self, x):
        return self.linear(x) + self.shift(self._condition.weights())


class _ShiftedStem(nn.Module):
    """Token embeddings plus a learned projection of ``lambda`` (at real tokens)."""

    def __init__(self, stem: nn.Module, width: int, state: Condition) -> None:
        super().__init__()
        self.stem = stem
        self.shift = nn.Linear(state.n_tasks, width, bias=False)
        _read(self, state)

    def forward(self, batch):
        out = self.stem(batch)
        shift = _per_token(self.shift(self._condition.weights()))
        mask = _token_mask(batch)
        return out + (shift if mask is None else shift * mask)
