"""Model inputs cut into row batches: numeric features, or texts prepared by an encoder.

The training loop only needs ``len``, ``take(rows)`` (shuffling, validation
splits) and ``batch(start, stop)``; both kinds of input provide them.
"""

from __future__ import annotations

import torch

from ._layers import SparseRows, prepare_features, to_batch

__all__ = ["EncodedInputs", "FeatureInputs", "move_batch"]


class FeatureInputs:
    """Dense or sparse numeric X (float32; CSR kept sparse)."""

    def __init__(self, X, *, prepared: bool = False) -> None:
        self.data = X if prepared else prepare_features(X)

    def __len__(self) -> int:
        return self.data.shape[0]

    @property
    def n_features(self) -> int:
        return self.data.shape[1]

    def take(self, rows) -> FeatureInputs:
        return FeatureInputs(self.data[rows], prepared=True)

    def batch(self, start: int, stop: int):
        return to_batch(self.data, start, stop)


class EncodedInputs:
    """Texts tokenized by an encoder spec (see :class:`skmtl.encoders.TextEncoder`)."""

    def __init__(self, encoder, tokens) -> None:
        self.encoder, self.tokens = encoder, tokens

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def lengths(self):
        """Tokens of each document (the engine batches similar lengths together)."""
        return self.tokens.lengths

    def take(self, rows) -> EncodedInputs:
        return EncodedInputs(self.encoder, self.tokens.take(rows))

    def batch(self, start: int, stop: int):
        return self.encoder.batch(self.tokens, start, stop)


def move_batch(batch, device):
    """Move a tensor, a :class:`SparseRows` or a dict of tensors to ``device``."""
    if isinstance(batch, (torch.Tensor, SparseRows)):
        return batch.to(device, non_blocking=True)
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}
