"""An exponential moving average of the weights, validated and kept at the end of fit.

As spaCy's parameter averaging (and Polyak averaging, Polyak & Juditsky
1992): the network trains on its raw weights, and between epochs holds the
averaged ones, which early stopping validates and fit keeps.
"""

from __future__ import annotations

import torch

from ._protocols import Callback

__all__ = ["WeightAveraging"]


def _swap(params: list[torch.Tensor], others: list[torch.Tensor]) -> None:
    """Exchange the values of two lists of same-shaped tensors in place."""
    with torch.no_grad():
        for p, q in zip(params, others, strict=True):
            tmp = p.detach().clone()
            p.copy_(q)
            q.copy_(tmp)


class WeightAveraging(Callback):
    """EMA of the trainable weights with warm-up.

    The rate of step ``n`` is ``1 - min(decay, (1 + n) / (10 + n))`` (as
    TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``), so a
    short fit is not held near the initial weights.
    """

    def __init__(self, decay: float) -> None:
        self.decay = float(decay)

    def on_fit_begin(self, engine) -> None:
        self.params = [p for p in engine.network.parameters() if p.requires_grad]
        self.averaged = [p.detach().clone() for p in self.params]
        self.n_steps, self.holding = 0, False

    def on_epoch_begin(self, engine, epoch: int) -> None:
        if self.holding:  # back to the raw weights to train on
            _swap(self.params, self.averaged)
            self.holding = False

    def on_batch_end(self, engine) -> None:
        flush = getattr(engine.optimizer, "flush", None)
        if flush is not None:  # rows updated lazily (SparseAdamW): the average reads all
            flush()
        self.n_steps += 1
        rate = 1.0 - min(self.decay, (1.0 + self.n_steps) / (10.0 + self.n_steps))
        with torch.no_grad():
            for avg, p in zip(self.averaged, self.params, strict=True):
                avg.lerp_(p, rate)

    def on_epoch_end(self, engine, record: dict) -> None:
        _swap(self.params, self.averaged)  # validated, saved as the best state, kept
        self.holding = True

    def on_fit_end(self, engine) -> None:
        if not self.holding and self.n_steps:  # interrupted mid-epoch: keep the average
            _swap(self.params, self.averaged)
        self.params = self.averaged = None
