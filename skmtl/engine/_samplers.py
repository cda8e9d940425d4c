"""Batch samplers: how the rows of an epoch are ordered into batches."""

from __future__ import annotations

import numpy as np

__all__ = ["LengthGroupedBatches", "ShuffledBatches"]


def _bounds(sizes) -> np.ndarray:
    bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    return bounds


class ShuffledBatches:
    """A fresh random permutation each epoch, cut into batches of ``batch_size``."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = int(batch_size)

    def epoch(self, inputs, rng) -> tuple[np.ndarray, np.ndarray]:
        n = len(inputs)
        order = rng.permutation(n)
        return order, np.append(np.arange(0, n, self.batch_size), n)


class LengthGroupedBatches:
    """Batches of sentences of similar length, in a random order each epoch.

    The rows are cut into chunks of ``chunk_batches`` batches (in row order),
    sorted by length within each chunk and cut into batches; the batches are
    then shuffled. Little padding, as spaCy's and fairseq's length-bucketed
    batching. ``inputs.lengths`` gives each row's length (tokens).
    """

    def __init__(self, batch_size: int, chunk_batches: int = 50) -> None:
        self.batch_size = int(batch_size)
        self.chunk_batches = int(chunk_batches)

    def epoch(self, inputs, rng) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.asarray(inputs.lengths)
        rows, batch = np.arange(lengths.size), self.batch_size
        chunk = batch * self.chunk_batches
        batches = []
        for a in range(0, rows.size, chunk):
            part = rows[a : a + chunk]
            part = part[np.argsort(lengths[a : a + chunk], kind="stable")]
            batches.extend(part[b : b + batch] for b in range(0, part.size, batch))
        batches = [batches[i] for i in rng.permutation(len(batches))]
        order = np.concatenate(batches) if batches else rows
        return order, _bounds([b.size for b in batches])
