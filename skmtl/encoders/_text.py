"""Text encoders: raw strings -> hashed token embeddings -> contextual encoder -> pooling.

:class:`TextEncoder` is a parameter-only spec (a scikit-learn ``BaseEstimator``)
that an estimator uses in three steps::

    tokens = encoder.prepare(texts)          # validate, tokenize, hash (no learned state)
    module = encoder.build_module()          # a fresh torch module
    batch = encoder.batch(tokens, 0, 32)     # padded tensors of documents 0..31
    vectors = module(batch)                  # (32, module.out_features)

The design follows spaCy's ``tok2vec``: ``MultiHashEmbed`` (hashed ``norm``,
``prefix``, ``suffix`` and ``shape`` embeddings, mixed by a dense layer)
optionally with character features (``CharacterEmbed``-like: the first and
last 4 characters of each token) and frozen static word vectors of a spaCy
pipeline (``StaticVectors``-like), followed by a contextual encoder
(``MaxoutWindowEncoder``-like CNN, a BiLSTM or a transformer) and pooling.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn
from torch.nn import functional as F

from ._tokenize import (
    ATTRIBUTES,
    N_CHAR_ROWS,
    N_CHARS,
    N_HASHES,
    TokenizedTexts,
    check_texts,
    iter_text_chunks,
    load_tokenizer,
    tokenize,
)

if TYPE_CHECKING:
    from ._stacks import TextStack

__all__ = [
    "ARCHITECTURES",
    "POOLINGS",
    "TextEncoder",
    "TextEncoderModule",
    "TokenizedTexts",
    "pool_tokens",
]

ARCHITECTURES = ("cnn", "bilstm", "transformer")
POOLINGS = ("mean", "max", "mean+max")


class TextEncoder(BaseEstimator):
    """Spec of a trainable text encoder over raw strings (a shared trunk for NLP tasks).

    Parameters
    ----------
    architecture : {"cnn", "bilstm", "transformer"}, default="cnn"
        Contextual encoder over the token embeddings: ``depth`` residual blocks
        of a window CNN (kernel ``2 * window + 1``), a bidirectional LSTM with
        ``depth`` layers, or a pre-norm transformer encoder with ``depth``
        layers, ``n_heads`` heads and learned positions.
    embed_dim : int, default=96
        Width of each attribute's hashed embedding.
    width : int, default=128
        Width of the token vectors (the mixing layer and the contextual encoder).
    depth : int, default=2
        Number of contextual layers (blocks).
    window : int, default=1
        Tokens on each side seen by one CNN block.
    n_heads : int, default=4
        Attention heads of the transformer; must divide ``width``.
    attrs : tuple of str, default=("norm", "prefix", "suffix", "shape")
        Lexical attributes of a token, among "orth", "lower", "norm", "prefix",
        "suffix" and "shape" (spaCy's token attributes).
    n_rows : int, default=5000
        Rows of each attribute's hashed table. Every attribute value is hashed
        with 4 seeds and the 4 rows are summed, so collisions rarely coincide.
    char_dim : int, default=0
        When > 0, the first and last 4 characters of every token are embedded
        (hashed table of 2048 rows, ``char_dim`` wide each) and mixed with the
        attribute embeddings.
    dropout : float, default=0.1
        Dropout after the mixing layer and in each contextual layer.
    max_length : int, default=256
        Documents are truncated to their first ``max_length`` tokens. Very long
        texts are cut before tokenization, so a 2M-character text is cheap;
        whitespace-free runs of more than 500 characters are split every 500
        characters and whitespace runs are shortened to 500 characters (spaCy's
        tokenizer is quadratic on runs such as "!!!!...").
    pooling : {"mean", "max", "mean+max"}, default="mean"
        Pooling of the token vectors of a document (padding excluded). Documents
        with no tokens (empty strings) pool to zeros.
    tokenizer : str, default="blank:en"
        ``"blank:<lang>"`` for spaCy's rule-based tokenizer of a language, or the
        name of an installed spaCy pipeline (only its tokenizer is used).
    batch_size : int, default=256
        Texts per batch of ``nlp.pipe`` when tokenizing.
    static_vectors : bool, default=False
        If True, every token's static word vector from the `tokenizer`
        pipeline's vectors table (looked up by the token's exact text, like
        ``token.vector``; zeros for a token without a vector) is concatenated
        to its attribute embeddings before the mixing layer, which projects
        them together to ``width``. The vectors are frozen (never trained).
        `tokenizer` must then be an installed spaCy pipeline with word vectors
        (e.g. ``"en_core_web_md"``; ``"blank:<lang>"`` has none), else a
        ``ValueError`` is raised. :meth:`build_module` copies the whole table
        into the module (a non-trainable buffer, outside ``state_dict()``), so
        a fitted model pickles without spaCy but is as large as the table
        (about 24 MB for ``en_core_web_md``, 600 MB for ``en_core_web_lg``).

    Examples
    --------
    >>> from skmtl.encoders._text import TextEncoder
    >>> enc = TextEncoder(width=16, embed_dim=8, depth=1)
    >>> tokens = enc.prepare(["A good film.", "Bad!", ""])
    >>> len(tokens), tokens.lengths.tolist()
    (3, [4, 2, 0])
    >>> module = enc.build_module()
    >>> module(enc.batch(tokens, 0, 3)).shape
    torch.Size([3, 16])
    """

    def __init__(
        self,
        architecture="cnn",
        embed_dim=96,
        width=128,
        depth=2,
        window=1,
        n_heads=4,
        attrs=("norm", "prefix", "suffix", "shape"),
        n_rows=5000,
        char_dim=0,
        dropout=0.1,
        max_length=256,
        pooling="mean",
        tokenizer="blank:en",
        batch_size=256,
        static_vectors=False,
    ):
        self.architecture = architecture
        self.embed_dim = embed_dim
        self.width = width
        self.depth = depth
        self.window = window
        self.n_heads = n_heads
        self.attrs = attrs
        self.n_rows = n_rows
        self.char_dim = char_dim
        self.dropout = dropout
        self.max_length = max_length
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.static_vectors = static_vectors

    # -- validation ---------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {list(ARCHITECTURES)}, got {self.architecture!r}."
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}.")
        for name in (
            "embed_dim",
            "width",
            "depth",
            "n_heads",
            "n_rows",
            "max_length",
            "batch_size",
        ):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        for name in ("window", "char_dim"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}.")
        if not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        attrs = self._attrs()
        bad = [a for a in attrs if a not in ATTRIBUTES]
        if bad or not attrs or len(set(attrs)) != len(attrs):
            raise ValueError(
                f"attrs must be distinct names among {list(ATTRIBUTES)}, got {self.attrs!r}."
            )
        if self.architecture == "transformer" and self.width % self.n_heads:
            raise ValueError(
                f"width ({self.width}) must be a multiple of n_heads ({self.n_heads}) "
                "for the transformer architecture."
            )
        if not isinstance(self.tokenizer, str) or not self.tokenizer:
            raise ValueError(
                "tokenizer must be 'blank:<lang>' or a spaCy pipeline name, "
                f"got {self.tokenizer!r}."
            )
        if not isinstance(self.static_vectors, (bool, np.bool_)):
            raise ValueError(f"static_vectors must be a bool, got {self.static_vectors!r}.")

    def _attrs(self) -> tuple:
        if isinstance(self.attrs, str):
            return (self.attrs.lower(),)
        return tuple(str(a).lower() for a in self.attrs)

    # -- tokenizer cache (never pickled) ----------------------------------------------
    def _get_nlp(self):
        cached = self.__dict__.get("_nlp")
        if cached is None or cached[0] != self.tokenizer:
            cached = (self.tokenizer, load_tokenizer(self.tokenizer))
            self._nlp = cached
        return cached[1]

    def _get_vectors(self):
        """The tokenizer pipeline's static vectors table; ValueError if it has none."""
        vectors = self._get_nlp().vocab.vectors
        n_rows, width = vectors.shape
        if n_rows and width and getattr(vectors, "mode", "default") != "default":
            raise ValueError(
                "static_vectors=True supports spaCy vectors tables in 'default' mode; the "
                f"pipeline tokenizer={self.tokenizer!r} has {vectors.mode!r} vectors."
            )
        if not (len(vectors) > 0 and n_rows and width and vectors.n_keys):
            raise ValueError(
                f"static_vectors=True but the spaCy pipeline tokenizer={self.tokenizer!r} has "
                "no word vectors (nlp.vocab.vectors is empty; 'blank:<lang>' pipelines have "
                "none). Use an installed pipeline with vectors, such as 'en_core_web_md' or "
                "'en_core_web_lg', or set static_vectors=False."
            )
        return vectors

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_nlp", None)
        return state

    # -- the interface used by the estimators ---------------------------------------
    def prepare(self, X) -> TokenizedTexts:
        """Validate and tokenize raw texts into hashed ids (no learned state).

        Parameters
        ----------
        X : iterable of str
            One string per document (list, 1-D ndarray, pandas Series, ...).
            Empty strings are documents without tokens.

        Returns
        -------
        TokenizedTexts
        """
        self._validate_params()
        return self._tokenize(check_texts(X))

    def prepare_chunks(self, X, size: int | None = None):
        """Validate and tokenize raw texts chunk by chunk (streamed prediction).

        Parameters
        ----------
        X : iterable of str
            As for :meth:`prepare`; a generator too (it is read one chunk at a
            time). An error names the row of X.
        size : int, default=None
            Documents per chunk (None:
            :data:`skmtl.encoders._tokenize.PREDICT_CHUNK_ROWS`, 4096).

        Yields
        ------
        TokenizedTexts
            The tokens of each consecutive chunk of at most ``size`` documents.
        """
        self._validate_params()
        for texts in iter_text_chunks(X, size):
            yield self._tokenize(texts)

    def _tokenize(self, texts: list[str]) -> TokenizedTexts:
        """The tokens of validated texts."""
        nlp = self._get_nlp()
        return tokenize(
            texts,
            nlp,
            attrs=self._attrs(),
            n_rows=self.n_rows,
            max_length=self.max_length,
            chars=self.char_dim > 0,
            batch_size=self.batch_size,
            vectors=self._get_vectors() if self.static_vectors else None,
        )

    def batch(self, tokens: TokenizedTexts, start: int, stop: int) -> dict[str, torch.Tensor]:
        """Documents ``start:stop`` of ``tokens`` as padded tensors.

        Returns ``{"ids": LongTensor (B, T, n_attrs, 4), "mask": BoolTensor (B, T)}``
        (plus ``"chars": LongTensor (B, T, 8)`` when ``char_dim > 0`` and
        ``"vector_rows": LongTensor (B, T)``, -1 for none, when ``static_vectors``),
        where ``T`` is the longest document of the slice (at least 1).
        """
        if not isinstance(tokens, TokenizedTexts):
            raise TypeError(
                f"tokens must be the TokenizedTexts of prepare(), got {type(tokens).__name__}."
            )
        if (
            tokens.attrs != self._attrs()
            or tokens.n_rows != self.n_rows
            or ((tokens.chars is not None) != (self.char_dim > 0))
            or ((tokens.vector_rows is not None) != bool(self.static_vectors))
        ):
            raise ValueError(
                "tokens were prepared with other settings (attrs, n_rows, char_dim or "
                "static_vectors) than this encoder's; call prepare() again."
            )
        return {key: torch.from_numpy(value) for key, value in tokens.padded(start, stop).items()}

    def _config(self) -> _TextConfig:
        """The module settings of this spec (validated)."""
        self._validate_params()
        return _TextConfig(
            architecture=self.architecture,
            n_attrs=len(self._attrs()),
            n_rows=int(self.n_rows),
            embed_dim=int(self.embed_dim),
            width=int(self.width),
            depth=int(self.depth),
            window=int(self.window),
            n_heads=int(self.n_heads),
            char_dim=int(self.char_dim),
            dropout=float(self.dropout),
            max_length=int(self.max_length),
            pooling=self.pooling,
        )

    def _vectors_table(self) -> np.ndarray | None:
        """The static vectors table to copy into a module (None without static vectors)."""
        if not self.static_vectors:
            return None
        vectors = self._get_vectors().data
        if not isinstance(vectors, np.ndarray):  # cupy (spaCy on GPU)
            vectors = vectors.get()
        return vectors

    def build_module(self) -> TextEncoderModule:
        """A freshly initialised :class:`TextEncoderModule` (uses torch's global RNG).

        With ``static_vectors=True`` the tokenizer pipeline's vectors table is
        copied into the module here.
        """
        config = self._config()
        return TextEncoderModule(**dataclasses.asdict(config), static_vectors=self._vectors_table())

    def build_stack(
        self,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        pooled: bool = True,
    ) -> TextStack:
        """A :class:`~skmtl.encoders.TextStack` over this encoder (see there).

        Parameters
        ----------
        hidden_layer_sizes : sequence of int, default=()
            Dense blocks after the contextual layers.
        activation, dropout, normalization
            Settings of those dense blocks.
        pooled : bool, default=True
            True: the dense blocks read the pooled document vector (row level).
            False: every block stays token level (a tagger).

        Returns
        -------
        TextStack
        """
        from ._stacks import TextStack

        return TextStack(
            self,
            hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            normalization=normalization,
            pooled=pooled,
        )


# -- torch modules ---------------------------------------------------------------------


class _HashEmbed(nn.Module):
    """Hashed attribute (and character) embeddings mixed into ``width``-wide token vectors.

    ``vectors`` (an array ``(n_vectors, vector_dim)``) adds frozen static vectors: a
    copy of the table plus a zero last row (tokens without a vector, row -1), kept
    as a non-persistent buffer (moved by ``.to()``, pickled, never optimised, and
    left out of ``state_dict()`` so that checkpoints stay small).
    """

    def __init__(self, n_attrs, n_rows, embed_dim, width, char_dim, dropout, vectors=None):
        super().__init__()
        self.n_rows = n_rows
        self.table = nn.Embedding(n_attrs * n_rows, embed_dim)
        nn.init.normal_(self.table.weight, std=1.0 / math.sqrt(N_HASHES))
        self.register_buffer(
            "attr_offsets", torch.arange(n_attrs, dtype=torch.long) * n_rows, persistent=False
        )
        n_in = n_attrs * embed_dim
        self.chars = None
        if char_dim > 0:
            self.chars = nn.Embedding(N_CHAR_ROWS, char_dim, padding_idx=0)
            n_in += N_CHARS * char_dim
        self.has_vectors = vectors is not None
        if self.has_vectors:
            table = torch.as_tensor(np.asarray(vectors, dtype=np.float32))
            if table.ndim != 2 or table.shape[1] < 1:
                raise ValueError(f"static vectors must be a 2-D table, got {tuple(table.shape)}.")
            table = torch.cat([table, table.new_zeros(1, table.shape[1])])
            self.register_buffer("vectors", table, persistent=False)
            n_in += table.shape[1]
        self.mix = nn.Linear(n_in, width)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, batch):
        ids = batch["ids"]  # (B, T, A, H)
        B, T, A, H = ids.shape
        rows = ids + self.attr_offsets.view(1, 1, A, 1)
        # gather + sum over the seeds, one seed at a time (keeps the peak memory at B*T*A*E)
        x = self.table(rows[..., 0])
        for h in range(1, H):
            x = x + self.table(rows[..., h])
        parts = [x.reshape(B, T, -1)]
        if self.chars is not None:
            parts.append(self.chars(batch["chars"]).reshape(B, T, -1))
        if self.has_vectors:
            rows = batch["vector_rows"]
            rows = torch.where(rows < 0, torch.full_like(rows, self.vectors.shape[0] - 1), rows)
            parts.append(F.embedding(rows, self.vectors))
        x = torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]
        return self.dropout(F.gelu(self.norm(self.mix(x))))


def _bool_mask(batch) -> torch.Tensor:
    """``batch["mask"]`` (a dict batch) or ``batch`` itself, as a bool tensor ``(B, T)``."""
    mask = batch["mask"] if isinstance(batch, dict) else batch
    return mask.to(torch.bool)


def _zero_padding(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return x * mask.unsqueeze(-1).to(x.dtype)


def pool_tokens(x: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Pool token vectors ``(B, T, W)`` over the positions where ``mask`` is True.

    ``pooling`` is ``"mean"``, ``"max"`` or ``"mean+max"`` (``(B, 2 * W)``);
    a document without tokens pools to zeros.
    """
    m = mask.unsqueeze(-1)
    parts = []
    if pooling in ("mean", "mean+max"):
        count = m.sum(dim=1).clamp(min=1).to(x.dtype)
        parts.append((x * m.to(x.dtype)).sum(dim=1) / count)
    if pooling in ("max", "mean+max"):
        maxed = x.masked_fill(~m, float("-inf")).amax(dim=1)
        parts.append(torch.where(mask.any(dim=1, keepdim=True), maxed, torch.zeros_like(maxed)))
    return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]


class _TextStem(nn.Module):
    """The hashed embeddings (plus learned positions for the transformer), zero at padding."""

    def __init__(self, embed: _HashEmbed, width: int, max_length: int, positions: bool):
        super().__init__()
        self.embed = embed
        self.positions = None
        if positions:
            self.positions = nn.Embedding(max_length, width)
            nn.init.normal_(self.positions.weight, std=0.02)

    def forward(self, batch) -> torch.Tensor:
        x = self.embed(batch)
        if self.positions is not None:
            T = x.shape[1]
            if T > self.positions.num_embeddings:
                raise ValueError(
                    f"documents of {T} tokens exceed max_length={self.positions.num_embeddings}."
                )
            x = x + self.positions.weight[:T].unsqueeze(0)
        return _zero_padding(x, _bool_mask(batch))


class _CNNBlock(nn.Module):
    """A residual window convolution: ``x + dropout(norm(gelu(conv(x))))``."""

    def __init__(self, width, window, dropout):
        super().__init__()
        self.conv = nn.Conv1d(width, width, 2 * window + 1, padding=window)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, batch):
        # x: (B, T, W), padded positions are zero (so they act like the conv's zero padding)
        h = self.conv(x.transpose(1, 2)).transpose(1, 2)
        h = self.dropout(self.norm(F.gelu(h)))
        return _zero_padding(x + h, _bool_mask(batch))


class _BiLSTMBlock(nn.Module):
    """One bidirectional LSTM layer over the unpadded tokens.

    ``dropout`` follows the layer (the dropout between the layers of a multi-layer
    ``nn.LSTM``); the last block of a stack projects to ``out_width`` when the two
    directions' width ``2 * hidden`` differs from it (odd widths).
    """

    def __init__(self, n_in, hidden, dropout, out_width=None):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, num_layers=1, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        proj = out_width is not None and out_width != 2 * hidden
        self.proj = nn.Linear(2 * hidden, out_width) if proj else None

    def forward(self, x, batch):
        mask = _bool_mask(batch)
        T = x.shape[1]
        lengths = mask.sum(dim=1).clamp(min=1).cpu()  # empty docs: one (masked) position
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
        if self.dropout is not None:
            out = self.dropout(out)
        if self.proj is not None:
            out = self.proj(out)
        return _zero_padding(out, mask)


class _TransformerBlock(nn.Module):
    """One pre-norm transformer encoder layer (the last block adds the final LayerNorm)."""

    def __init__(self, width, n_heads, dropout, final_norm=False):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(
            width,
            n_heads,
            dim_feedforward=2 * width,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.norm = nn.LayerNorm(width) if final_norm else None

    def forward(self, x, batch):
        mask = _bool_mask(batch)
        # an empty document attends to its single padded position (no all-masked softmax)
        padding = ~mask
        padding[:, 0] &= mask.any(dim=1)
        out = self.layer(x, src_key_padding_mask=padding)
        if self.norm is not None:
            out = self.norm(out)
        return _zero_padding(out, mask)


@dataclasses.dataclass(frozen=True)
class _TextConfig:
    """Settings of a text encoder's torch pieces: the stem and the contextual blocks."""

    architecture: str
    n_attrs: int
    n_rows: int
    embed_dim: int
    width: int
    depth: int
    window: int
    n_heads: int
    char_dim: int
    dropout: float
    max_length: int
    pooling: str

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {list(ARCHITECTURES)}, got {self.architecture!r}."
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}.")

    @property
    def pool_factor(self) -> int:
        """Width of a pooled vector over the width of the token vectors."""
        return 2 if self.pooling == "mean+max" else 1

    def block_width(self, i: int) -> int:
        """Width of block ``i``'s token vectors (``-1``: the stem's)."""
        if self.architecture == "bilstm" and 0 <= i < self.depth - 1:
            return 2 * ((self.width + 1) // 2)  # both directions, projected by the last block
        return self.width

    def make_stem(self, vectors=None) -> _TextStem:
        embed = _HashEmbed(
            self.n_attrs,
            self.n_rows,
            self.embed_dim,
            self.width,
            self.char_dim,
            self.dropout,
            vectors=vectors,
        )
        positions = self.architecture == "transformer"
        return _TextStem(embed, self.width, self.max_length, positions)

    def make_block(self, i: int) -> nn.Module:
        last = i == self.depth - 1
        if self.architecture == "cnn":
            return _CNNBlock(self.width, self.window, self.dropout)
        if self.architecture == "bilstm":
            hidden = (self.width + 1) // 2
            return _BiLSTMBlock(
                self.block_width(i - 1),
                hidden,
                0.0 if last else self.dropout,
                out_width=self.width if last else None,
            )
        return _TransformerBlock(self.width, self.n_heads, self.dropout, final_norm=last)


class TextEncoderModule(nn.Module):
    """Torch module built by :meth:`TextEncoder.build_module`.

    ``forward(batch, pool=True)`` maps the dict of :meth:`TextEncoder.batch` to
    document vectors of shape ``(B, out_features)``; ``pool=False`` gives the
    token vectors ``(B, T, token_features)``, zero at padded positions
    (``batch["mask"] == False``). ``out_features == token_features == width``
    except for ``pooling="mean+max"``, where ``out_features == 2 * width``.

    It is the ``stem`` (hashed embeddings, plus learned positions for the
    transformer) followed by the ``depth`` contextual ``blocks``, the pieces of
    a :class:`~skmtl.encoders.TextStack`, called ``block(x, batch)``.

    ``static_vectors`` (an array ``(n_vectors, vector_dim)``, copied) adds frozen
    static word vectors, looked up by ``batch["vector_rows"]`` (-1: none).
    """

    def __init__(
        self,
        *,
        architecture,
        n_attrs,
        n_rows,
        embed_dim,
        width,
        depth,
        window,
        n_heads,
        char_dim,
        dropout,
        max_length,
        pooling,
        static_vectors=None,
    ):
        super().__init__()
        config = _TextConfig(
            architecture=architecture,
            n_attrs=n_attrs,
            n_rows=n_rows,
            embed_dim=embed_dim,
            width=width,
            depth=depth,
            window=window,
            n_heads=n_heads,
            char_dim=char_dim,
            dropout=dropout,
            max_length=max_length,
            pooling=pooling,
        )
        self.stem = config.make_stem(static_vectors)
        self.blocks = nn.ModuleList(config.make_block(i) for i in range(depth))
        self.architecture = architecture
        self.pooling = pooling
        self.token_features = width
        self.out_features = config.pool_factor * width

    @property
    def embed(self) -> _HashEmbed:
        """The hashed embeddings (``stem.embed``)."""
        return self.stem.embed

    def forward(self, batch, pool=True):
        x = self.stem(batch)
        for block in self.blocks:
            x = block(x, batch)
        if not pool:
            return x
        return self.pool(x, batch)

    def pool(self, x, mask):
        """Pool token vectors ``(B, T, W)`` over the unmasked positions.

        ``mask`` is the ``(B, T)`` mask or the batch dict holding it.
        """
        return pool_tokens(x, _bool_mask(mask), self.pooling)
