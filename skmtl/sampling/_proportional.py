"""Examples-proportional task sampling (with an optional cap).

Raffel, Shazeer, Roberts, Lee, Narang, Matena, Zhou, Li and Liu, "Exploring
the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
JMLR 2020 (section 3.5.2, "examples-proportional mixing" with the cap ``K``);
Sanh, Wolf and Ruder, "A Hierarchical Multi-task Approach for Learning
Embeddings from Semantic Tasks", AAAI 2019 (proportional sampling).
"""

from __future__ import annotations

import numpy as np

from ._base import ScheduleSampling, with_schedule_params

__all__ = ["ProportionalSampling"]


@with_schedule_params
class ProportionalSampling(ScheduleSampling):
    """Draw each task in proportion to its (capped) number of labelled rows.

    ``p_t = n_t / sum_s n_s`` with ``n_t = min(|pool_t|, max_examples_per_task)``.
    Without a cap an epoch draws every labelled (task, row) pair once, as the
    natural order does (but a row drawn for one task trains that task only,
    with ``labels="drawn"``); with the cap ``K`` a large task contributes at
    most ``K`` random rows per epoch, a different subset each epoch.

    Parameters
    ----------
    {schedule_params}

    Examples
    --------
    >>> from skmtl.sampling import ProportionalSampling
    >>> capped = ProportionalSampling(max_examples_per_task=1000)
    >>> capped.counts([30000, 2000, 500], 1, 10).tolist()
    [1000, 1000, 500]
    """

    _name = "ProportionalSampling"

    def probabilities(self, sizes, epoch, max_epochs):
        sizes = np.asarray(sizes, dtype=np.float64)
        return sizes / sizes.sum()
