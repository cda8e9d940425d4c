"""The text-encoder protocol: what an estimator's ``encoder=`` must provide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

__all__ = ["Encoder"]


@runtime_checkable
class Encoder(Protocol):
    """A parameter-only spec of a trainable text encoder (e.g. :class:`TextEncoder`).

    The estimator clones it in ``fit`` and then uses it in three steps: texts
    become prepared inputs (validated, tokenized, hashed: no learned state),
    prepared inputs become padded batches, and the spec builds the shared
    layers (:class:`~skmtl.architectures.SharedStack`) that an architecture
    shares among the tasks.
    """

    max_length: int

    def prepare(self, X: Sequence[str]) -> Any:
        """Prepared inputs of the texts ``X`` (with ``len``, ``take``, ``lengths``)."""

    def batch(self, tokens: Any, start: int, stop: int) -> dict[str, torch.Tensor]:
        """Padded tensors of documents ``start:stop`` (``"mask"``: the real tokens)."""

    def build_stack(
        self,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        pooled: bool = True,
    ) -> Any:
        """The shared stem and blocks; ``pooled``: row-level output (dense blocks on
        the pooled text), else token-level blocks (the tagger)."""
