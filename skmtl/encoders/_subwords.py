"""Subword tokenization learned inside ``fit``, its inputs, and the subword encoder stack.

:class:`SubwordTokenizer` trains a `sentencepiece <https://github.com/google/sentencepiece>`_
model (Kudo and Richardson, 2018; unigram LM of Kudo, 2018, or BPE of Sennrich
et al., 2016) on the training texts, sources and targets together (one joint
vocabulary), in memory: nothing is downloaded or written to disk. Byte fallback
(every character outside the vocabulary becomes its UTF-8 bytes) means no
text is ever unknown. The model is kept as its serialized bytes, so a fitted
estimator pickles and saves it as a uint8 array.

:class:`SubwordStack` is the encoder of :class:`~skmtl.estimators.MultiTaskSeq2Seq`
as a stem (subword embeddings, scaled, plus sinusoidal positions) and one
block per layer (a pre-norm Transformer layer, or a bidirectional GRU layer),
all token level, for any sharing architecture (:mod:`skmtl.architectures`).
"""

from __future__ import annotations

import io
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._attention import PreNormEncoderLayer
from ._stacks import _Gate, _Pool, _StackBase
from ._text import _bool_mask, pool_tokens

__all__ = ["SubwordInputs", "SubwordStack", "SubwordTokenizer"]

PAD, UNK, BOS, EOS = 0, 1, 2, 3
_MIN_VOCAB = 300  # 4 specials + 256 byte pieces + some characters


def _sentencepiece():
    try:
        import sentencepiece
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError(
            "MultiTaskSeq2Seq needs sentencepiece for its subword vocabulary: "
            "pip install 'skmtl[seq2seq]'."
        ) from None
    return sentencepiece


class SubwordTokenizer:
    """A sentencepiece model held as bytes: ``encode`` texts to ids, ``decode`` ids to texts.

    Ids 0-3 are PAD, UNK, BOS and EOS.

    Parameters
    ----------
    model : bytes or ndarray of uint8
        A serialized sentencepiece model (:meth:`train` makes one).

    Examples
    --------
    >>> tok = SubwordTokenizer.train(["a small test", "another small test"] * 20,
    ...                              vocab_size=300)
    >>> ids = tok.encode(["a small test ✓"])
    >>> tok.decode(ids)
    ['a small test ✓']
    """

    pad_id, unk_id, bos_id, eos_id = PAD, UNK, BOS, EOS

    def __init__(self, model) -> None:
        if isinstance(model, np.ndarray) and model.dtype == np.uint8 and model.ndim == 1:
            self._array = model  # kept as given: clone's get_params identity check
        else:
            self._array = np.frombuffer(bytes(model), dtype=np.uint8).copy()
        self.model = self._array.tobytes()
        try:
            self._sp = _sentencepiece().SentencePieceProcessor(model_proto=self.model)
        except RuntimeError as exc:
            raise ValueError(f"Not a sentencepiece model ({exc}).") from None

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return ["model"]

    def get_params(self, deep: bool = False) -> dict:
        """``{"model": uint8 array}``: what a model file stores (:func:`skmtl.save`)."""
        return {"model": self._array}

    def __repr__(self) -> str:
        return f"SubwordTokenizer(vocab_size={self.vocab_size})"

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        *,
        vocab_size: int = 8000,
        model_type: str = "unigram",
        max_sentences: int = 300_000,
    ) -> SubwordTokenizer:
        """Learn a vocabulary of up to ``vocab_size`` pieces from ``texts`` (in memory).

        The size is a soft limit: a small corpus gets the pieces it has. Texts
        are read in order (the first ``max_sentences``), so the result is
        deterministic.
        """
        spm = _sentencepiece()
        texts = [t.replace("\n", " ") for t in texts if t and not t.isspace()]
        sink = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts[:max_sentences]),
            model_writer=sink,
            vocab_size=int(vocab_size),
            model_type=model_type,
            character_coverage=1.0,
            byte_fallback=True,
            hard_vocab_limit=False,
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            num_threads=1,
            shuffle_input_sentence=False,
            max_sentence_length=1 << 16,
            minloglevel=2,
        )
        return cls(sink.getvalue())

    @property
    def vocab_size(self) -> int:
        return int(self._sp.get_piece_size())

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """The subword ids of each text (no BOS / EOS)."""
        return self._sp.encode([t.replace("\n", " ") for t in texts])

    def decode(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """One text per id list."""
        return [self._sp.decode([int(i) for i in row]) for row in ids]

    def pieces(self, texts: Sequence[str]) -> list[list[str]]:
        """The subword pieces of each text (for inspection)."""
        return self._sp.encode([t.replace("\n", " ") for t in texts], out_type=str)

    def to_array(self) -> np.ndarray:
        """The model bytes as a uint8 array (how an estimator stores it)."""
        return np.frombuffer(self.model, dtype=np.uint8).copy()

    @classmethod
    def from_array(cls, array: np.ndarray) -> SubwordTokenizer:
        return cls(np.asarray(array, dtype=np.uint8).tobytes())

    def __getstate__(self):
        return {"model": self.model}

    def __setstate__(self, state):
        self.__init__(state["model"])


class SubwordInputs:
    """Source texts as subword ids (EOS-terminated), batched with padding and a mask.

    Parameters
    ----------
    ids : list of ndarray of int64
        One id array per source.
    """

    def __init__(self, ids: list[np.ndarray]) -> None:
        self.ids = ids
        self.lengths = np.fromiter((len(r) for r in ids), dtype=np.int64, count=len(ids))

    @classmethod
    def from_texts(cls, tokenizer: SubwordTokenizer, texts, max_length: int):
        """``(inputs, n_cut)``: each text's ids cut to ``max_length - 1`` plus EOS."""
        rows, cut = [], 0
        for seq in tokenizer.encode(texts):
            cut += len(seq) > max_length - 1
            rows.append(np.array(list(seq[: max_length - 1]) + [EOS], dtype=np.int64))
        return cls(rows), int(cut)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows) -> SubwordInputs:
        return SubwordInputs([self.ids[i] for i in np.asarray(rows, dtype=np.int64)])

    def batch(self, start: int, stop: int) -> dict[str, torch.Tensor]:
        part = self.ids[start:stop]
        width = max((len(r) for r in part), default=1)
        ids = np.full((len(part), width), PAD, dtype=np.int64)
        for i, r in enumerate(part):
            ids[i, : len(r)] = r
        ids = torch.from_numpy(ids)
        return {"ids": ids, "mask": ids != PAD}


# -- the stack ------------------------------------------------------------------------


class _SubwordStem(nn.Module):
    """Embeddings (times sqrt(d)) plus sinusoidal positions, dropout, zero at padding."""

    def __init__(self, embedding: nn.Embedding, dropout: float, positions: bool) -> None:
        super().__init__()
        self.embedding = embedding
        self.positions = positions
        self.drop = nn.Dropout(dropout)

    def forward(self, batch) -> torch.Tensor:
        from ..heads import sinusoidal_positions

        ids, mask = batch["ids"], _bool_mask(batch)
        d = self.embedding.embedding_dim
        x = self.embedding(ids) * math.sqrt(d)
        if self.positions:
            x = x + sinusoidal_positions(ids.shape[1], d, ids.device)
        return self.drop(x) * mask.unsqueeze(-1).to(x.dtype)


class _TransformerBlock(nn.Module):
    """One pre-norm Transformer encoder layer (the last one with the final LayerNorm)."""

    def __init__(self, d_model, n_heads, ff_dim, dropout, last: bool) -> None:
        super().__init__()
        self.layer = PreNormEncoderLayer(d_model, n_heads, ff_dim, dropout)
        self.norm = nn.LayerNorm(d_model) if last else None

    def forward(self, h, batch) -> torch.Tensor:
        mask = _bool_mask(batch)
        h = self.layer(h, mask)
        if self.norm is not None:
            h = self.norm(h)
        return h * mask.unsqueeze(-1).to(h.dtype)


class _GRUBlock(nn.Module):
    """A bidirectional GRU layer (``d/2`` per direction), residual, then LayerNorm."""

    def __init__(self, d_model: int, dropout: float) -> None:
        super().__init__()
        self.gru = nn.GRU(d_model, d_model // 2, batch_first=True, bidirectional=True)
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, h, batch) -> torch.Tensor:
        mask = _bool_mask(batch)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            h, lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=h.shape[1])
        h = self.norm(h + self.drop(out))
        return h * mask.unsqueeze(-1).to(h.dtype)


CELLS = ("transformer", "gru")


def _positive_int(name: str, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


class SubwordStack(_StackBase):
    """The seq2seq encoder as a stem and ``n_layers`` token-level blocks.

    Parameters
    ----------
    vocab_size : int
    d_model : int
        Width of embeddings and every block (even for ``cell="gru"``,
        divisible by ``n_heads`` for ``"transformer"``).
    n_layers : int
    n_heads : int
    ff_dim : int
    dropout : float
    cell : {"transformer", "gru"}
    pooling : {"mean", "max", "mean+max"}, default="mean"
        How row-level tasks read the token vectors.

    Attributes
    ----------
    embedding : nn.Embedding
        The source embedding, made once per stack: every stem the
        architecture makes shares it, and a decoder may tie to it.

    Examples
    --------
    >>> import torch
    >>> stack = SubwordStack(50, 16, 2, 2, 32, 0.0)
    >>> batch = {"ids": torch.tensor([[5, 6, 3], [7, 3, 0]])}
    >>> batch["mask"] = batch["ids"] != 0
    >>> h = stack.make_block(0)(stack.make_stem()(batch), batch)
    >>> h.shape, stack.level(1)
    (torch.Size([2, 3, 16]), 'token')
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        ff_dim: int,
        dropout: float,
        cell: str = "transformer",
        pooling: str = "mean",
    ) -> None:
        self.vocab_size = _positive_int("vocab_size", vocab_size)
        self.d_model = _positive_int("d_model", d_model)
        self.n_blocks = _positive_int("encoder_layers", n_layers)
        self.n_heads = _positive_int("n_heads", n_heads)
        self.ff_dim = _positive_int("ff_dim", ff_dim)
        self.dropout = float(dropout)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}.")
        if cell == "transformer" and d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}.")
        if cell == "gru" and d_model % 2:
            raise ValueError(f"cell='gru' needs an even d_model, got {d_model}.")
        self.cell, self.pooling = cell, pooling
        self.embedding = nn.Embedding(self.vocab_size, self.d_model, padding_idx=PAD)
        nn.init.normal_(self.embedding.weight, std=self.d_model**-0.5)
        with torch.no_grad():
            self.embedding.weight[PAD].zero_()

    def __repr__(self) -> str:
        return (
            f"SubwordStack(vocab_size={self.vocab_size}, d_model={self.d_model}, "
            f"n_layers={self.n_blocks}, cell={self.cell!r})"
        )

    def make_stem(self) -> nn.Module:
        return _SubwordStem(self.embedding, self.dropout, positions=self.cell == "transformer")

    def make_block(self, i: int) -> nn.Module:
        i = self._check_index(i, "i", 0)
        if self.cell == "gru":
            return _GRUBlock(self.d_model, self.dropout)
        last = i == self.n_blocks - 1
        return _TransformerBlock(self.d_model, self.n_heads, self.ff_dim, self.dropout, last)

    def out_features(self, i: int) -> int:
        self._check_index(i, "i", -1)
        return self.d_model

    def level(self, i: int) -> str:
        self._check_index(i, "i", -1)
        return "token"

    def pooled_features(self, i: int) -> int:
        return (2 if self.pooling == "mean+max" else 1) * self.out_features(i)

    def pool(self, x: torch.Tensor, batch) -> torch.Tensor:
        return pool_tokens(x, _bool_mask(batch), self.pooling)

    def make_pool(self) -> nn.Module:
        return _Pool(self.pooling)

    def make_gate(self, n_out: int, source: int = -1, target: int | None = None) -> nn.Module:
        """A fresh per-token linear gate over block ``source``'s output."""
        source, _ = self._gate_ends(n_out, source, target)
        return _Gate(nn.Linear(self.out_features(source), n_out))
