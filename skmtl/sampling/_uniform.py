"""Uniform task sampling: every task drawn equally often.

Liu, He, Chen and Gao, "Multi-Task Deep Neural Networks for Natural Language
Understanding" (MT-DNN), ACL 2019, and jiant's ``UniformMultiTaskSampler``
(Pruksachatkun et al., "jiant: A Software Toolkit for Research on
General-Purpose Text Understanding Models", ACL 2020 demos).
"""

from __future__ import annotations

import numpy as np

from ._base import ScheduleSampling, with_schedule_params

__all__ = ["UniformSampling"]


@with_schedule_params
class UniformSampling(ScheduleSampling):
    """Draw every task equally often, whatever the size of its corpus.

    ``p_t = 1 / k`` over the ``k`` tasks with labelled rows: a small task's
    rows repeat within an epoch (up-sampling), a large task's are subsampled.
    The limit ``T -> inf`` of :class:`TemperatureSampling`.

    Parameters
    ----------
    {schedule_params}

    Examples
    --------
    >>> from skmtl.sampling import UniformSampling
    >>> UniformSampling().counts([30000, 2000, 500], 1, 10).tolist()
    [10834, 10833, 10833]
    """

    _name = "UniformSampling"

    def probabilities(self, sizes, epoch, max_epochs):
        return np.full(len(sizes), 1.0 / len(sizes))
