"""Annealed task sampling: from proportional towards uniform over the epochs.

Stickland and Murray, "BERT and PALs: Projected Attention Layers for
Efficient Adaptation in Multi-Task Learning", ICML 2019 (section 4,
"annealed sampling").
"""

from __future__ import annotations

import numpy as np

from ._base import ScheduleSampling, check_number, with_schedule_params

__all__ = ["AnnealedSampling"]


@with_schedule_params
class AnnealedSampling(ScheduleSampling):
    """``p_t ∝ n_t^alpha_e`` with ``alpha_e = 1 - decay (e - 1) / (E - 1)`` in epoch ``e`` of ``E``.

    The first epoch samples in proportion to the corpus sizes; later epochs
    move towards uniform (``decay=0.8``, the paper's value, ends at
    ``alpha = 0.2``), so the small tasks get more of the end of training,
    when the large ones have been learnt. With one epoch ``alpha = 1``.

    Parameters
    ----------
    decay : float, default=0.8
        How far ``alpha`` falls by the last epoch, in [0, 1].
    {schedule_params}

    Examples
    --------
    >>> from skmtl.sampling import AnnealedSampling
    >>> s = AnnealedSampling()
    >>> s.counts([9000, 1000], 1, 5).tolist(), s.counts([9000, 1000], 5, 5).tolist()
    ([9000, 1000], [6081, 3919])
    """

    _name = "AnnealedSampling"

    def __init__(
        self,
        decay: float = 0.8,
        max_examples_per_task: int | None = None,
        epoch_size: int | None = None,
        batches: str = "mixed",
        labels: str = "drawn",
    ) -> None:
        self.decay = decay
        super().__init__(max_examples_per_task, epoch_size, batches, labels)

    def _validate_own(self) -> None:
        check_number(self._name, "decay", self.decay, low=0.0, high=1.0)

    def probabilities(self, sizes, epoch, max_epochs):
        progress = 0.0 if max_epochs <= 1 else (epoch - 1) / (max_epochs - 1)
        alpha = 1.0 - float(self.decay) * min(max(progress, 0.0), 1.0)
        logs = alpha * np.log(np.asarray(sizes, dtype=np.float64))
        z = np.exp(logs - logs.max())
        return z / z.sum()
