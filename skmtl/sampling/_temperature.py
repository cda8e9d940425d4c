"""Temperature task sampling, ``p_t ∝ n_t^(1/T)``.

Arivazhagan, Bapna, Firat, Lepikhin, Johnson, Krikun, Chen, Cao, Foster,
Cherry, Macherey, Chen and Wu, "Massively Multilingual Neural Machine
Translation in the Wild: Findings and Challenges", arXiv:1907.05019, 2019;
Raffel et al., "Exploring the Limits of Transfer Learning with a Unified
Text-to-Text Transformer", JMLR 2020 (temperature-scaled mixing).
"""

from __future__ import annotations

import numpy as np

from ._base import ScheduleSampling, check_number, with_schedule_params

__all__ = ["TemperatureSampling"]


@with_schedule_params
class TemperatureSampling(ScheduleSampling):
    """Draw task ``t`` with probability ``p_t ∝ n_t^(1/T)``.

    ``T = 1`` is proportional sampling, ``T -> inf`` uniform; in between a
    small task is up-weighted without drowning the large one (``T = 2``, the
    square root, and ``T = 5`` are common choices). ``n_t`` is the pool size
    capped at ``max_examples_per_task``.

    Parameters
    ----------
    temperature : float, default=2.0
        ``T`` (> 0; below 1 favours large tasks even more than proportional).
    {schedule_params}

    Examples
    --------
    >>> from skmtl.sampling import TemperatureSampling
    >>> TemperatureSampling(temperature=2.0).counts([30000, 2000, 500], 1, 10).tolist()
    [23427, 6049, 3024]
    """

    _name = "TemperatureSampling"

    def __init__(
        self,
        temperature: float = 2.0,
        max_examples_per_task: int | None = None,
        epoch_size: int | None = None,
        batches: str = "mixed",
        labels: str = "drawn",
    ) -> None:
        self.temperature = temperature
        super().__init__(max_examples_per_task, epoch_size, batches, labels)

    def _validate_own(self) -> None:
        check_number(self._name, "temperature", self.temperature, low=0.0, strict=True)

    def probabilities(self, sizes, epoch, max_epochs):
        logs = np.log(np.asarray(sizes, dtype=np.float64)) / float(self.temperature)
        z = np.exp(logs - logs.max())
        return z / z.sum()
