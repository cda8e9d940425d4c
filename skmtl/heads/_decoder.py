"""Decoders for generation tasks: a Transformer decoder and a GRU with attention.

Both read a :class:`Memory` (the encoder's token vectors and their mask) and
implement one small protocol, so that training (teacher forcing over the whole
target at once) and search (:mod:`skmtl.heads._search`, one step for the whole
batch at a time) share them:

``forward(memory, inputs, task_vector=None) -> logits (B, L, V)``
    Teacher forcing: ``inputs`` ``(B, L)`` are the target shifted right.
``start(memory, task_vector=None) -> state`` and ``step(state, tokens, t) -> (logits, state)``
    Incremental decoding: ``tokens`` ``(N,)`` are the previous step's outputs;
    the Transformer caches each layer's keys and values, so a step costs one
    position, not the whole prefix.
``reorder(state, index, *, same_source=False) -> state``
    The states of rows ``index`` (beam search's back-pointers); with
    ``same_source`` each ``index[i]`` decodes the same source as row ``i``, so
    what depends on the source only (the cross-attention cache) is kept.

References: Vaswani et al. (2017), "Attention is all you need" (pre-norm
layers as in Xiong et al., 2020); Luong, Pham and Manning (2015), "Effective
approaches to attention-based neural machine translation" (the GRU decoder's
global "general" attention); Press and Wolf (2017), "Using the output embedding
to improve language models" (tied input and output embeddings).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..encoders import FeedForward, MultiHeadAttention

__all__ = ["GRUDecoder", "Memory", "TransformerDecoder", "sinusoidal_positions"]


class Memory:
    """What a decoder attends to: token vectors ``(B, S, D)`` and a bool ``mask`` ``(B, S)``."""

    __slots__ = ("mask", "memory")

    def __init__(self, memory: torch.Tensor, mask: torch.Tensor) -> None:
        self.memory, self.mask = memory, mask.to(torch.bool)

    def __len__(self) -> int:
        return int(self.memory.shape[0])

    def select(self, rows: torch.Tensor) -> Memory:
        """The memory of rows ``rows``, trimmed to their longest source."""
        mask = self.mask.index_select(0, rows)
        width = max(int(mask.sum(1).max()), 1) if mask.numel() else 1
        return Memory(self.memory.index_select(0, rows)[:, :width], mask[:, :width])

    def repeat(self, k: int) -> Memory:
        """Each row ``k`` times in a row (the beams of a batch)."""
        return Memory(self.memory.repeat_interleave(k, 0), self.mask.repeat_interleave(k, 0))


def sinusoidal_positions(n: int, dim: int, device=None, offset: int = 0) -> torch.Tensor:
    """The fixed sine/cosine position encodings ``(n, dim)`` of Vaswani et al. (2017)."""
    pos = torch.arange(offset, offset + n, device=device, dtype=torch.float32)[:, None]
    half = torch.arange(0, dim, 2, device=device, dtype=torch.float32)
    angle = pos * torch.exp(-math.log(10000.0) * half / dim)
    out = torch.zeros(n, dim, device=device)
    out[:, 0::2] = torch.sin(angle)
    out[:, 1::2] = torch.cos(angle[:, : dim // 2])
    return out


class _DecoderLayer(nn.Module):
    """Pre-norm: causal self-attention, cross-attention, feed-forward, each residual
    (dropout on the residual branches, see :mod:`skmtl.encoders._attention`)."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(3))
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, ff_dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, cross_kv, cross_mask, self_kv=None):
        """``x`` ``(B, L, D)``; with ``self_kv`` (a step), it is extended and returned."""
        h = self.norms[0](x)
        k, v = self.self_attn.keys_values(h)
        if self_kv is not None:
            k, v = torch.cat([self_kv[0], k], 2), torch.cat([self_kv[1], v], 2)
        x = x + self.drop(self.self_attn.attend(h, k, v, causal=self_kv is None))
        x = x + self.drop(self.cross.attend(self.norms[1](x), *cross_kv, mask=cross_mask))
        x = x + self.drop(self.ff(self.norms[2](x)))
        return x, (k, v)


def _tied_embedding(vocab_size: int, d_model: int) -> nn.Embedding:
    emb = nn.Embedding(vocab_size, d_model)
    nn.init.normal_(emb.weight, std=d_model**-0.5)
    return emb


class _Output(nn.Module):
    """Logits over the vocabulary: the embedding matrix (tied) or a linear layer."""

    def __init__(self, embedding: nn.Embedding, tie: bool) -> None:
        super().__init__()
        self.embedding = embedding
        self.linear = None if tie else nn.Linear(embedding.embedding_dim, embedding.num_embeddings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.linear is not None:
            return self.linear(x)
        return x @ self.embedding.weight.t()


class TransformerDecoder(nn.Module):
    """A pre-norm Transformer decoder with cached incremental decoding.

    Parameters
    ----------
    vocab_size, d_model, n_layers, n_heads, ff_dim : int
    dropout : float
    embedding : nn.Embedding, default=None
        The input embedding (None: a fresh one); give the encoder's to tie
        source and target embeddings.
    tie_output : bool, default=True
        Logits through the transposed input embedding (else a linear layer).
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        ff_dim: int,
        dropout: float,
        embedding: nn.Embedding | None = None,
        tie_output: bool = True,
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.embedding = embedding or _tied_embedding(vocab_size, d_model)
        self.layers = nn.ModuleList(
            _DecoderLayer(d_model, n_heads, ff_dim, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.output = _Output(self.embedding, tie_output)
        self.drop = nn.Dropout(dropout)

    def _embed(self, tokens: torch.Tensor, offset: int, task_vector) -> torch.Tensor:
        x = self.embedding(tokens) * math.sqrt(self.d_model)
        x = x + sinusoidal_positions(tokens.shape[1], self.d_model, tokens.device, offset)
        if task_vector is not None:
            x = x + task_vector
        return self.drop(x)

    @staticmethod
    def _cross_mask(memory: Memory) -> torch.Tensor:
        return memory.mask[:, None, None, :]

    def forward(self, memory: Memory, inputs: torch.Tensor, task_vector=None) -> torch.Tensor:
        x = self._embed(inputs, 0, task_vector)
        mask = self._cross_mask(memory)
        for layer in self.layers:
            x, _ = layer(x, layer.cross.keys_values(memory.memory), mask)
        return self.output(self.norm(x))

    def start(self, memory: Memory, task_vector=None) -> dict:
        return {
            "cross": [layer.cross.keys_values(memory.memory) for layer in self.layers],
            "mask": self._cross_mask(memory),
            "self": [None] * len(self.layers),
            "task": task_vector,
        }

    def step(self, state: dict, tokens: torch.Tensor, t: int):
        x = self._embed(tokens[:, None], t, state["task"])
        cached = []
        for layer, cross, own in zip(self.layers, state["cross"], state["self"], strict=True):
            x, kv = layer(x, cross, state["mask"], own if own is not None else _empty(x, layer))
            cached.append(kv)
        state = {**state, "self": cached}
        return self.output(self.norm(x))[:, 0], state

    @staticmethod
    def reorder(state: dict, index: torch.Tensor, *, same_source: bool = False) -> dict:
        """The states of rows ``index``. ``same_source``: every ``index[i]`` decodes the
        same source as row ``i`` (beam back-pointers never leave their row), so the
        cross-attention keys and values, the same for all of them, are kept as they are."""
        pick = lambda pair: tuple(t.index_select(0, index) for t in pair)  # noqa: E731
        return {
            "cross": state["cross"] if same_source else [pick(kv) for kv in state["cross"]],
            "mask": state["mask"] if same_source else state["mask"].index_select(0, index),
            "self": [None if kv is None else pick(kv) for kv in state["self"]],
            "task": state["task"],
        }


def _empty(x: torch.Tensor, layer: _DecoderLayer) -> tuple[torch.Tensor, torch.Tensor]:
    att = layer.self_attn
    shape = (x.shape[0], att.h, 0, att.dk)
    return x.new_zeros(shape), x.new_zeros(shape)


class GRUDecoder(nn.Module):
    """A GRU decoder with Luong's global attention: the cheap option.

    The GRU runs over the target embeddings (one call in training); each
    output attends to the memory (``score = h W m``) and
    ``tanh(W_c [h; context])`` gives the logits through the tied embedding.
    The initial state is a linear map (tanh) of the memory's mean.

    Parameters
    ----------
    vocab_size, d_model, n_layers : int
    dropout : float
    embedding : nn.Embedding, default=None
    tie_output : bool, default=True
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        n_layers: int,
        dropout: float,
        embedding: nn.Embedding | None = None,
        tie_output: bool = True,
    ) -> None:
        super().__init__()
        self.d_model, self.n_layers = d_model, n_layers
        self.embedding = embedding or _tied_embedding(vocab_size, d_model)
        self.init = nn.Linear(d_model, n_layers * d_model)
        self.gru = nn.GRU(
            d_model, d_model, n_layers, batch_first=True, dropout=dropout if n_layers > 1 else 0
        )
        self.score = nn.Linear(d_model, d_model, bias=False)
        self.combine = nn.Linear(2 * d_model, d_model)
        self.output = _Output(self.embedding, tie_output)
        self.drop = nn.Dropout(dropout)

    def _hidden(self, memory: Memory) -> torch.Tensor:
        m = memory.mask.unsqueeze(-1).to(memory.memory.dtype)
        mean = (memory.memory * m).sum(1) / m.sum(1).clamp(min=1)
        h = torch.tanh(self.init(mean)).view(-1, self.n_layers, self.d_model)
        return h.transpose(0, 1).contiguous()

    def _read(self, h: torch.Tensor, memory: Memory) -> torch.Tensor:
        scores = torch.bmm(self.score(h), memory.memory.transpose(1, 2))
        scores = scores.masked_fill(~memory.mask[:, None, :], float("-inf"))
        context = torch.bmm(torch.softmax(scores, -1), memory.memory)
        out = torch.tanh(self.combine(torch.cat([h, context], -1)))
        return self.output(self.drop(out))

    def _embed(self, tokens, task_vector):
        x = self.embedding(tokens)
        return self.drop(x if task_vector is None else x + task_vector)

    def forward(self, memory: Memory, inputs: torch.Tensor, task_vector=None) -> torch.Tensor:
        h, _ = self.gru(self._embed(inputs, task_vector), self._hidden(memory))
        return self._read(h, memory)

    def start(self, memory: Memory, task_vector=None) -> dict:
        return {"memory": memory, "hidden": self._hidden(memory), "task": task_vector}

    def step(self, state: dict, tokens: torch.Tensor, t: int):
        h, hidden = self.gru(self._embed(tokens[:, None], state["task"]), state["hidden"])
        return self._read(h, state["memory"])[:, 0], {**state, "hidden": hidden}

    @staticmethod
    def reorder(state: dict, index: torch.Tensor, *, same_source: bool = False) -> dict:
        """The states of rows ``index`` (the memory stays as it is with ``same_source``)."""
        hidden = state["hidden"].index_select(1, index)
        if same_source:
            return {**state, "hidden": hidden}
        m = state["memory"]
        memory = Memory(m.memory.index_select(0, index), m.mask.index_select(0, index))
        return {**state, "memory": memory, "hidden": hidden}
