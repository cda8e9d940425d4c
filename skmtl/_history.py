"""Training history that slices like skorch's: ``history_[:, "train_loss"]``."""

from __future__ import annotations

__all__ = ["History"]


class History(list):
    """A list of per-epoch dicts, indexable by epoch and then by key.

    Examples
    --------
    >>> from skmtl._history import History
    >>> h = History([{"epoch": 1, "train_loss": 0.9, "task_loss": {"a": 0.5}},
    ...              {"epoch": 2, "train_loss": 0.7, "task_loss": {"a": 0.4}}])
    >>> h[:, "train_loss"]
    [0.9, 0.7]
    >>> h[-1, "task_loss", "a"]
    0.4
    """

    def __getitem__(self, index):
        if not isinstance(index, tuple):
            item = super().__getitem__(index)
            return History(item) if isinstance(index, slice) else item
        epochs, *keys = index
        rows = super().__getitem__(epochs)

        def pick(row):
            for key in keys:
                row = row[key]
            return row

        if isinstance(epochs, slice):
            return [pick(row) for row in rows]
        return pick(rows)
