"""Uniform task sampling: every task drawn equally often.

Liu, He, Chen and Gao, "Multi-Task Deep Neural Networks for Natural Language
Understanding" (MT-DNN), ACL 2019, and jiant's ``UniformMultiTaskSampler``
(Pruksachatkun et al., "jiant: A Software Toolkit for Research on
General-Purpose Text Understanding Models", ACL 2020 demos).
"""

from __future__ import annotations

import numpy as np

from ._base import ScheduleSampling

__all__ = ["UniformSampling"]


class UniformSampling(ScheduleSampling):
    """Draw every task equally often, whatever the size of its corpus.

    ``p_t = 1 / k`` over the ``k`` tasks with labelled rows: a small task's
    rows repeat within an epoch (up-sampling), a large task's are subsampled.
    The limit ``T -> inf`` of :class:`TemperatureSampling`.

    Parameters
    ----------
    max_examples_per_task : int or None, default=None
        Cap on each task's pool size in the epoch length.
    epoch_size : int or None, default=None
        Draws per epoch (None: ``sum_t min(|pool_t|, cap)``).
    batches : {"mixed", "per_task"}, default="mixed"
        Batches mix the tasks, or each holds one task's draws.
    labels : {"drawn", "all"}, default="drawn"
        A drawn row trains the task it was drawn for only, or all its labels.

    Examples
    --------
    >>> from skmtl.sampling import UniformSampling
    >>> UniformSampling().counts([30000, 2000, 500], 1, 10).tolist()
    [10834, 10833, 10833]
    """

    _name = "UniformSampling"

    def probabilities(self, sizes, epoch, max_epochs):
        return np.full(len(sizes), 1.0 / len(sizes))
