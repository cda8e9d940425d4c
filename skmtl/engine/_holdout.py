"""Rows a weighting strategy holds out from training for its own objective.

Auto-Lambda (Liu, Johns and Davison, 2022) learns the task weights by a
bilevel step on data the network does not train on. A strategy asks for such
rows through ``holdout_share()``; the engine sets them aside once per fit and
hands the strategy one batch of them per training step (:class:`HeldOutBatches`).
"""

from __future__ import annotations

import numpy as np

from ._data import TaskTensors, to_device

__all__ = ["HeldOutBatches", "split_holdout"]


def split_holdout(data, share: float, rng):
    """``(train, held_out)``: a random ``share`` of ``data``'s rows set aside (sorted).

    ``held_out`` is None when ``share`` is 0. At least one row is held out
    and at least one trains; fewer rows than that is a clear error.
    """
    share = float(share)
    if share <= 0:
        return data, None
    if not share < 1:
        raise ValueError(f"A strategy's holdout_share must be in [0, 1), got {share!r}.")
    n = len(data)
    k = max(1, int(round(share * n)))
    if n - k < 1:
        raise ValueError(
            f"The weighting strategy holds out {share:.0%} of the training rows for its "
            f"own objective, which leaves no row to train on ({n} rows): use more rows."
        )
    perm = rng.permutation(n)
    return data.take(np.sort(perm[k:])), data.take(np.sort(perm[:k]))


class HeldOutBatches:
    """An endless stream of shuffled batches of the held-out rows, on the device."""

    def __init__(self, data, names, batch_size: int, device, rng) -> None:
        self.data, self.names, self.device, self.rng = data, list(names), device, rng
        self.batch_size = max(1, int(batch_size))
        self.tensors = {
            t: TaskTensors.build(data.targets[t], data.row_weights[t], device) for t in self.names
        }
        self._order, self._at = np.zeros(0, dtype=np.int64), 0

    def next(self):
        """``(batch, targets)`` of the next held-out batch (a fresh shuffle per pass)."""
        n = len(self.data)
        if self._at >= self._order.size:
            self._order, self._at = self.rng.permutation(n), 0
        rows = self._order[self._at : self._at + self.batch_size]
        self._at += rows.size
        batch = to_device(self.data.inputs.take(rows).batch(0, rows.size), self.device)
        targets = {t: v.permute(rows).rows(0, rows.size) for t, v in self.tensors.items()}
        return batch, targets
