"""Transformer building blocks shared by the subword encoder and the decoders.

Multi-head attention over ``F.scaled_dot_product_attention`` (which picks a
fused kernel when no attention dropout is asked for), a feed-forward block and
a pre-norm encoder layer. Dropout is applied to the residual branches only, as
fairseq's Transformer defaults (``attention_dropout=0``, ``activation_dropout=0``):
on the CPU a dropout mask over every attention matrix and feed-forward
activation costs a fifth of a training step. References: Vaswani et al.
(2017); Xiong et al. (2020), "On layer normalization in the Transformer
architecture" (pre-norm).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FeedForward", "MultiHeadAttention", "PreNormEncoderLayer"]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with a query projection and a joint key/value projection.

    ``attend(x, k, v, mask=None, causal=False)`` takes keys and values already
    split into heads (from :meth:`keys_values`), so a decoder can cache them.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.h, self.dk, self.dropout = n_heads, d_model // n_heads, float(dropout)
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.h, self.dk).transpose(1, 2)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.heads(k), self.heads(v)

    def attend(self, x, k, v, mask=None, causal=False) -> torch.Tensor:
        q = self.heads(self.q(x))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
        b, _, n, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(b, n, self.h * self.dk))

    def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
        """Self-attention of ``x`` ``(B, T, D)``; ``mask`` ``(B, 1, 1, T)`` bool, True = attend."""
        return self.attend(x, *self.keys_values(x), mask=mask)


class FeedForward(nn.Sequential):
    """``Linear(d, ff) -> ReLU -> Linear(ff, d)``."""

    def __init__(self, d_model: int, ff_dim: int) -> None:
        super().__init__(nn.Linear(d_model, ff_dim), nn.ReLU(), nn.Linear(ff_dim, d_model))


class PreNormEncoderLayer(nn.Module):
    """``x + drop(attn(norm(x)))``, then ``x + drop(ff(norm(x)))``; zero at padding."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(2))
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, ff_dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, D)``, ``mask`` ``(B, T)`` bool."""
        x = x + self.drop(self.attn(self.norms[0](x), mask=mask[:, None, None, :]))
        return x + self.drop(self.ff(self.norms[1](x)))
