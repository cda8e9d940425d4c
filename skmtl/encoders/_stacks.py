"""The shared stacks of the estimators, as recipes for a sharing architecture.

A stack (see :class:`skmtl.architectures.SharedStack`) describes an estimator's
shared layers as a *stem* followed by ``n_blocks`` *blocks* and builds fresh
copies of them, and gates over their outputs, on demand:

* :class:`FeatureStack`: numeric features (dense or sparse rows); the stem is
  the identity and each hidden layer of the MLP is a block.
* :class:`TextStack`: a :class:`~skmtl.encoders.TextEncoder`'s hashed embeddings
  as the stem, its contextual layers as token-level blocks, then (pooled)
  dense blocks.

Blocks are called ``block(h, batch)``, gates ``gate(h_source, batch)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from ._layers import SparseAwareLinear
from ._mlp import ACTIVATIONS, NORMALIZATIONS, _block
from ._text import TextEncoder, _bool_mask, _TextConfig, pool_tokens

__all__ = ["FeatureStack", "TextStack"]

ROW, TOKEN = "row", "token"


# -- validation ---------------------------------------------------------------------


def _check_sizes(hidden_layer_sizes, *, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(hidden_layer_sizes, numbers.Integral) and not isinstance(
        hidden_layer_sizes, bool
    ):
        hidden_layer_sizes = (hidden_layer_sizes,)
    try:
        sizes = tuple(hidden_layer_sizes)
    except TypeError:
        raise ValueError(
            f"hidden_layer_sizes must be a sequence of int, got {hidden_layer_sizes!r}."
        ) from None
    for size in sizes:
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(
                f"hidden_layer_sizes must hold integers >= 1, got {hidden_layer_sizes!r}."
            )
    if not sizes and not allow_empty:
        raise ValueError("hidden_layer_sizes must name at least one shared layer.")
    return tuple(int(size) for size in sizes)


def _check_dense(activation, dropout, normalization) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
    if (
        isinstance(dropout, bool)
        or not isinstance(dropout, numbers.Real)
        or not 0 <= float(dropout) < 1
    ):
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of {list(NORMALIZATIONS)}, got {normalization!r}."
        )


# -- modules ------------------------------------------------------------------------


class _Pool(nn.Module):
    """``pool(x, batch)``: token vectors ``(B, T, W)`` to document vectors."""

    def __init__(self, pooling: str) -> None:
        super().__init__()
        self.pooling = pooling

    def forward(self, x: torch.Tensor, batch) -> torch.Tensor:
        return pool_tokens(x, _bool_mask(batch), self.pooling)

    def extra_repr(self) -> str:
        return f"pooling={self.pooling!r}"


class _RowBlock(nn.Module):
    """Linear -> [LayerNorm | BatchNorm] -> activation -> [Dropout] on rows ``(B, D)``.

    With ``pooling``, token vectors are pooled first (the first dense block of a
    pooled :class:`TextStack`).
    """

    def __init__(self, layer, width, activation, dropout, normalization, pooling=None):
        super().__init__()
        self.pool = _Pool(pooling) if pooling is not None else None
        self.layers = nn.Sequential(*_block(layer, width, activation, dropout, normalization))

    def forward(self, h, batch=None) -> torch.Tensor:
        if self.pool is not None:
            h = self.pool(h, batch)
        return self.layers(h)


class _TokenDenseBlock(nn.Module):
    """The layers of a :class:`_RowBlock` applied to every unpadded token (zeros elsewhere)."""

    def __init__(self, layer, width, activation, dropout, normalization):
        super().__init__()
        self.width = width
        self.layers = nn.Sequential(*_block(layer, width, activation, dropout, normalization))

    def forward(self, h, batch) -> torch.Tensor:
        mask = _bool_mask(batch)
        values = self.layers(h[mask])  # batch norm sees the real tokens only
        out = values.new_zeros(*mask.shape, self.width)
        out[mask] = values
        return out


class _Gate(nn.Module):
    """``gate(h, batch)``: a linear map of a block's output to mixing logits.

    ``pooling``: token-level input pooled first (row-level logits); ``broadcast``:
    row-level logits repeated at every token position (token-level target).
    """

    def __init__(self, linear: nn.Module, pooling: str | None = None, broadcast: bool = False):
        super().__init__()
        self.pool = _Pool(pooling) if pooling is not None else None
        self.linear = linear
        self.broadcast = broadcast

    def forward(self, h, batch) -> torch.Tensor:
        if self.pool is not None:
            h = self.pool(h, batch)
        out = self.linear(h)
        if self.broadcast:
            out = out.unsqueeze(1).expand(-1, _bool_mask(batch).shape[1], -1)
        return out


# -- stacks -------------------------------------------------------------------------


class _StackBase:
    """Index checks shared by the stacks."""

    n_blocks: int

    def _check_index(self, i, name: str, lowest: int) -> int:
        if (
            not isinstance(i, numbers.Integral)
            or isinstance(i, bool)
            or not lowest <= i < self.n_blocks
        ):
            raise ValueError(
                f"{name} must be an integer in [{lowest}, {self.n_blocks}) for a stack of "
                f"{self.n_blocks} blocks ({lowest} = the stem), got {i!r}."
            )
        return int(i)

    def _gate_ends(self, n_out, source, target) -> tuple[int, int]:
        if not isinstance(n_out, numbers.Integral) or isinstance(n_out, bool) or n_out < 1:
            raise ValueError(f"n_out must be an integer >= 1, got {n_out!r}.")
        source = self._check_index(source, "source", -1)
        target = self._check_index(self.n_blocks - 1 if target is None else target, "target", -1)
        return source, target


class FeatureStack(_StackBase):
    """The MLP over numeric features as a stem (the identity) and one block per hidden layer.

    Block 0 is ``SparseAwareLinear(n_features, h0)`` (dense float32 tensors or
    :class:`~skmtl.encoders.SparseRows` batches), block ``i`` is
    ``nn.Linear(h[i-1], h[i])``, each followed by [LayerNorm | BatchNorm],
    the activation and dropout: the layers of :class:`~skmtl.encoders.MLPTrunk`.
    Every output is row level ``(B, h[i])``.

    Parameters
    ----------
    n_features : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Widths of the blocks (at least one).
    activation : {"relu", "gelu", "tanh", "identity"}, default="relu"
    dropout : float, default=0.0
    normalization : {None, "layer", "batch"}, default=None

    Examples
    --------
    >>> import torch
    >>> stack = FeatureStack(5, (8, 4))
    >>> x = stack.make_stem()(torch.ones(3, 5))
    >>> stack.make_block(1)(stack.make_block(0)(x, None), None).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
    ) -> None:
        if not isinstance(n_features, numbers.Integral) or isinstance(n_features, bool):
            raise ValueError(f"n_features must be an integer >= 1, got {n_features!r}.")
        if n_features < 1:
            raise ValueError(f"n_features must be an integer >= 1, got {n_features!r}.")
        self.n_features = int(n_features)
        self.hidden_layer_sizes = _check_sizes(hidden_layer_sizes, allow_empty=False)
        _check_dense(activation, dropout, normalization)
        self.activation = activation
        self.dropout = float(dropout)
        self.normalization = normalization
        self.n_blocks = len(self.hidden_layer_sizes)

    def __repr__(self) -> str:
        return (
            f"FeatureStack(n_features={self.n_features}, "
            f"hidden_layer_sizes={self.hidden_layer_sizes}, activation={self.activation!r}, "
            f"dropout={self.dropout}, normalization={self.normalization!r})"
        )

    def make_stem(self) -> nn.Module:
        """The identity: blocks and gates read the input batch itself."""
        return nn.Identity()

    def make_block(self, i: int) -> nn.Module:
        """A freshly initialised block ``i``, called ``block(h, batch)`` (``batch`` ignored)."""
        i = self._check_index(i, "i", 0)
        n_in, width = self.out_features(i - 1), self.hidden_layer_sizes[i]
        layer = SparseAwareLinear(n_in, width) if i == 0 else nn.Linear(n_in, width)
        return _RowBlock(layer, width, self.activation, self.dropout, self.normalization)

    def out_features(self, i: int) -> int:
        """Width of block ``i``'s output; ``-1``: the input's ``n_features``."""
        i = self._check_index(i, "i", -1)
        return self.n_features if i == -1 else self.hidden_layer_sizes[i]

    def level(self, i: int) -> str:
        """Always ``"row"``."""
        self._check_index(i, "i", -1)
        return ROW

    def make_gate(self, n_out: int, source: int = -1, target: int | None = None) -> nn.Module:
        """A fresh linear gate ``gate(h_source, batch) -> (B, n_out)`` logits.

        ``source=-1`` reads the raw input (a ``SparseAwareLinear``, for dense or
        sparse rows); ``target`` (default: the last block) is only checked, every
        level being ``"row"``.
        """
        source, _ = self._gate_ends(n_out, source, target)
        n_in = self.out_features(source)
        linear = SparseAwareLinear(n_in, n_out) if source == -1 else nn.Linear(n_in, n_out)
        return _Gate(linear)


class TextStack(_StackBase):
    """A text encoder's layers as a stem and blocks.

    The stem is the hashed embeddings (with the learned positions of the
    transformer, and the frozen static vectors when the spec has
    ``static_vectors=True``); blocks ``0 .. depth - 1`` are the contextual layers,
    one each (a residual CNN block, a one-layer BiLSTM, a transformer layer,
    the last one with the final LayerNorm), token level ``(B, T, W)`` and zero
    at padded positions. ``len(hidden_layer_sizes)`` dense blocks follow: with
    ``pooled=True`` they are row level, the first one pooling the tokens
    (the spec's ``pooling``) first; with ``pooled=False`` they apply to every
    token and stay token level.

    Parameters
    ----------
    encoder_spec : TextEncoder
        The spec (architecture, widths, pooling, ...); it is validated here.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense blocks after the contextual layers.
    activation : {"relu", "gelu", "tanh", "identity"}, default="relu"
    dropout : float, default=0.0
        Dropout of the dense blocks (the contextual layers use the spec's).
    normalization : {None, "layer", "batch"}, default=None
        Normalization of the dense blocks.
    pooled : bool, default=True
        Whether the dense blocks read the pooled document vector.

    Notes
    -----
    :meth:`pool` reads a document vector out of a token-level output (row-level
    tasks over a token-level last block). For ``architecture="bilstm"`` with an
    odd ``width``, the contextual blocks but the last are ``width + 1`` wide.
    """

    def __init__(
        self,
        encoder_spec: TextEncoder,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        pooled: bool = True,
    ) -> None:
        if not isinstance(encoder_spec, TextEncoder):
            raise ValueError(
                f"encoder_spec must be a skmtl.encoders.TextEncoder, got {encoder_spec!r}."
            )
        self.encoder = encoder_spec
        self.config: _TextConfig = encoder_spec._config()
        self.hidden_layer_sizes = _check_sizes(hidden_layer_sizes, allow_empty=True)
        _check_dense(activation, dropout, normalization)
        self.activation = activation
        self.dropout = float(dropout)
        self.normalization = normalization
        self.pooled = bool(pooled)
        self.depth = self.config.depth
        self.pooling = self.config.pooling
        self.n_blocks = self.depth + len(self.hidden_layer_sizes)

    def __repr__(self) -> str:
        return (
            f"TextStack({self.encoder!r}, hidden_layer_sizes={self.hidden_layer_sizes}, "
            f"activation={self.activation!r}, dropout={self.dropout}, "
            f"normalization={self.normalization!r}, pooled={self.pooled})"
        )

    def make_stem(self) -> nn.Module:
        """Fresh hashed embeddings: ``stem(batch) -> (B, T, width)``, zero at padding."""
        return self.config.make_stem(self.encoder._vectors_table())

    def make_block(self, i: int) -> nn.Module:
        """A freshly initialised block ``i``, called ``block(h, batch)``."""
        i = self._check_index(i, "i", 0)
        if i < self.depth:
            return self.config.make_block(i)
        width = self.hidden_layer_sizes[i - self.depth]
        dense = (self.activation, self.dropout, self.normalization)
        if not self.pooled:
            return _TokenDenseBlock(nn.Linear(self.out_features(i - 1), width), width, *dense)
        first = i == self.depth
        n_in = self.pooled_features(i - 1) if first else self.out_features(i - 1)
        pooling = self.pooling if first else None
        return _RowBlock(nn.Linear(n_in, width), width, *dense, pooling=pooling)

    def out_features(self, i: int) -> int:
        """Width of block ``i``'s output (``-1``: the stem's)."""
        i = self._check_index(i, "i", -1)
        if i < self.depth:
            return self.config.block_width(i)
        return self.hidden_layer_sizes[i - self.depth]

    def level(self, i: int) -> str:
        """``"token"`` for the stem and the contextual blocks, else ``"row"`` if pooled."""
        i = self._check_index(i, "i", -1)
        return ROW if self.pooled and i >= self.depth else TOKEN

    def pooled_features(self, i: int) -> int:
        """Width of :meth:`pool` of block ``i``'s output (its own width when row level)."""
        factor = self.config.pool_factor if self.level(i) == TOKEN else 1
        return factor * self.out_features(i)

    def pool(self, x: torch.Tensor, batch) -> torch.Tensor:
        """Pool token vectors ``(B, T, W)`` over ``batch["mask"]`` (the spec's pooling).

        Exactly :meth:`TextEncoderModule.pool`; an empty document pools to zeros.
        """
        return pool_tokens(x, _bool_mask(batch), self.pooling)

    def make_pool(self) -> nn.Module:
        """:meth:`pool` as a (parameter-free) module ``pool(x, batch)``."""
        return _Pool(self.pooling)

    def make_gate(self, n_out: int, source: int = -1, target: int | None = None) -> nn.Module:
        """A fresh linear gate ``gate(h_source, batch)`` over block ``source``'s output.

        Its logits match ``target``'s level (default: the last block): per token
        ``(B, T, n_out)`` when both are token level; per row ``(B, n_out)`` for a
        row-level target, pooling a token-level source first; a row-level source
        and a token-level target give the row's logits at every position.
        """
        source, target = self._gate_ends(n_out, source, target)
        src, dst = self.level(source), self.level(target)
        if src == TOKEN and dst == ROW:
            return _Gate(nn.Linear(self.pooled_features(source), n_out), pooling=self.pooling)
        linear = nn.Linear(self.out_features(source), n_out)
        return _Gate(linear, broadcast=src == ROW and dst == TOKEN)
