"""The protocol of task samplers, and the base class of the schedules.

A task sampler decides, once per epoch, which (task, row) pairs the epoch
trains on. The engine gives it each task's *pool*: the training rows that
carry a label of that task (a row with labels of several tasks is in several
pools). The sampler returns the epoch's draws, ``rows`` and the task each was
drawn for; the engine cuts them into batches with the estimator's batch
sampler (shuffled, or grouped by length for texts), and a row drawn for task
``t`` trains task ``t`` only (``labels="drawn"``) or every task it is
labelled for (``labels="all"``).

Without a sampler (``task_sampling=None``, the default) an epoch is the
natural order: every training row once, with all of its labels.
"""

from __future__ import annotations

import numbers
from typing import Protocol, runtime_checkable

import numpy as np
from sklearn.base import BaseEstimator

__all__ = [
    "SCHEDULE_PARAMS",
    "ScheduleSampling",
    "TaskSampler",
    "check_number",
    "largest_remainder",
    "with_schedule_params",
]

_BATCHES = ("mixed", "per_task")
_LABELS = ("drawn", "all")


@runtime_checkable
class TaskSampler(Protocol):
    """How often each task's rows are drawn in an epoch."""

    #: "mixed": the draws of all tasks are shuffled together into batches;
    #: "per_task": each batch holds the draws of one task.
    batches: str
    #: "drawn": a row drawn for task t trains task t only; "all": all of its labels.
    labels: str

    def draw(
        self, pools: list[np.ndarray], epoch: int, max_epochs: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, tasks)`` of one epoch: the row of each draw and the index of the
        task (into ``pools``) it was drawn for. ``epoch`` counts from 1."""


def largest_remainder(total: int, p: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` closest to ``total * p`` (Hamilton's method)."""
    exact = total * np.asarray(p, dtype=np.float64)
    counts = np.floor(exact).astype(np.int64)
    left = int(total - counts.sum())
    if left > 0:
        # Ties go to the earlier task (stable), so the counts are deterministic.
        counts[np.argsort(-(exact - counts), kind="stable")[:left]] += 1
    return counts


def check_number(owner, name, value, *, low, high=None, strict=False) -> None:
    """A finite real number above ``low`` (``> low`` if ``strict``), at most ``high``."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and np.isfinite(value)
    ok = ok and (value > low if strict else value >= low) and (high is None or value <= high)
    if not ok:
        where = f"{'>' if strict else '>='} {low}" + ("" if high is None else f" and <= {high}")
        raise ValueError(f"{owner} {name} must be a finite number {where}, got {value!r}.")


def _check_int(owner: str, name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner} {name} must be None or an integer >= 1, got {value!r}.")


#: The numpydoc entries of the parameters every schedule shares.
SCHEDULE_PARAMS = """\
    max_examples_per_task : int or None, default=None
        Cap on each task's pool size in ``p_t`` and in the epoch length.
    epoch_size : int or None, default=None
        Draws per epoch (None: ``sum_t min(|pool_t|, cap)``).
    batches : {"mixed", "per_task"}, default="mixed"
        "mixed": every batch mixes the tasks' draws (the weighting strategy
        sees all tasks in most steps); "per_task": each batch holds one task's
        draws (jiant's and MT-DNN's heterogeneous batches), in random order.
    labels : {"drawn", "all"}, default="drawn"
        "drawn": a row drawn for task ``t`` trains task ``t`` only, so the
        tasks' shares of the training signal are exactly ``p_t``; "all": it
        trains every task it has a label for (rows labelled for several tasks
        then count more than their draw).
"""


def with_schedule_params(cls):
    """Class decorator: :data:`SCHEDULE_PARAMS` where the docstring has ``{schedule_params}``."""
    cls.__doc__ = cls.__doc__.replace("    {schedule_params}\n", SCHEDULE_PARAMS)
    return cls


@with_schedule_params
class ScheduleSampling(BaseEstimator):
    """Base class of the sampling schedules: ``p_t`` over tasks, then the draws.

    Subclasses define :meth:`probabilities` ``(sizes, epoch, max_epochs) -> p``.
    Each epoch:

    1. ``n_t`` is the size of task ``t``'s pool, capped at
       ``max_examples_per_task`` (T5's examples-proportional mixing cap);
    2. the epoch has ``N`` draws: ``epoch_size`` if given, else ``sum_t n_t``
       (as many (task, row) pairs as a natural epoch trains, after the cap);
    3. task ``t`` gets ``m_t = round(N p_t)`` draws (largest remainder, so
       ``sum m_t = N`` and the counts are exact, not random);
    4. its rows: a random ``m_t`` of its pool without replacement when
       ``m_t <= |pool|``; else the whole pool as many times as it fits, plus a
       random remainder (up-sampling: a small task's rows repeat within the
       epoch).

    Parameters
    ----------
    {schedule_params}
    """

    _name = "ScheduleSampling"

    def __init__(
        self,
        max_examples_per_task: int | None = None,
        epoch_size: int | None = None,
        batches: str = "mixed",
        labels: str = "drawn",
    ) -> None:
        self.max_examples_per_task = max_examples_per_task
        self.epoch_size = epoch_size
        self.batches = batches
        self.labels = labels

    # ------------------------------------------------------------ subclass API

    def probabilities(self, sizes: np.ndarray, epoch: int, max_epochs: int) -> np.ndarray:
        """The share ``p_t`` of the epoch's draws for each task (sums to 1)."""
        raise NotImplementedError

    def _validate_own(self) -> None:
        """Check the subclass's own parameters."""

    # ------------------------------------------------------------ the draws

    def validate(self) -> None:
        """Check every parameter (the estimator calls it in ``fit``)."""
        _check_int(self._name, "max_examples_per_task", self.max_examples_per_task)
        _check_int(self._name, "epoch_size", self.epoch_size)
        if self.batches not in _BATCHES:
            raise ValueError(
                f"{self._name} batches must be one of {_BATCHES}, got {self.batches!r}."
            )
        if self.labels not in _LABELS:
            raise ValueError(f"{self._name} labels must be one of {_LABELS}, got {self.labels!r}.")
        self._validate_own()

    def counts(self, pool_sizes, epoch: int, max_epochs: int) -> np.ndarray:
        """Draws per task in this epoch (``m_t``); a task with an empty pool gets 0."""
        pool_sizes = np.asarray(pool_sizes, dtype=np.int64)
        sizes = pool_sizes.copy()
        if self.max_examples_per_task is not None:
            sizes = np.minimum(sizes, int(self.max_examples_per_task))
        total = int(sizes.sum()) if self.epoch_size is None else int(self.epoch_size)
        on = sizes > 0
        if total == 0 or not on.any():
            return np.zeros(len(sizes), dtype=np.int64)
        p = np.zeros(len(sizes))
        p[on] = np.asarray(self.probabilities(sizes[on], epoch, max_epochs), dtype=np.float64)
        if not (np.all(np.isfinite(p)) and np.all(p >= 0) and p.sum() > 0):
            raise ValueError(f"{self._name} gave invalid task probabilities {p.tolist()}.")
        return largest_remainder(total, p / p.sum())

    def draw(self, pools, epoch, max_epochs, rng):
        self.validate()
        m = self.counts([len(p) for p in pools], epoch, max_epochs)
        rows, tasks = [], []
        for t, (pool, k) in enumerate(zip(pools, m, strict=True)):
            if k == 0:
                continue
            repeats, rest = divmod(int(k), len(pool))
            picked = [np.tile(pool, repeats), pool[rng.permutation(len(pool))[:rest]]]
            rows.append(np.concatenate(picked))
            tasks.append(np.full(int(k), t, dtype=np.int64))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows).astype(np.int64), np.concatenate(tasks)
