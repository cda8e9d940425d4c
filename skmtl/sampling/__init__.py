"""Task sampling: how often each task's rows are drawn in an epoch.

When the tasks come from different corpora (a row labelled for one task,
the others missing), the natural order lets a 30,000-row task drown a
2,000-row one. Pass a sampler as ``task_sampling=`` to any estimator (or a
name: ``"proportional"``, ``"uniform"``, ``"temperature"``, ``"annealed"``);
its parameters are searchable as ``task_sampling__<param>``.

================================  ==============================================
``None`` (default)                the natural order: every row once per epoch,
                                  with all its labels
:class:`ProportionalSampling`     ``p_t ∝ min(n_t, K)`` (T5's examples-proportional
                                  mixing; Raffel et al., 2020)
:class:`UniformSampling`          ``p_t = 1/k`` (MT-DNN; Liu et al., 2019)
:class:`TemperatureSampling`      ``p_t ∝ n_t^(1/T)`` (Arivazhagan et al., 2019)
:class:`AnnealedSampling`         ``p_t ∝ n_t^alpha``, alpha from 1 to 0.2 over the
                                  epochs (Stickland and Murray, 2019)
================================  ==============================================

Each schedule takes ``max_examples_per_task`` (a cap ``K``), ``epoch_size``
(draws per epoch, default ``sum_t min(n_t, K)``), ``batches`` ("mixed" or
"per_task") and ``labels`` ("drawn" or "all"); see :class:`ScheduleSampling`.
A sampler of your own implements the :class:`TaskSampler` protocol.
"""

from __future__ import annotations

from sklearn.base import clone

from ._annealed import AnnealedSampling
from ._base import ScheduleSampling, TaskSampler
from ._proportional import ProportionalSampling
from ._temperature import TemperatureSampling
from ._uniform import UniformSampling

__all__ = [
    "AnnealedSampling",
    "ProportionalSampling",
    "SAMPLING_NAMES",
    "ScheduleSampling",
    "TaskSampler",
    "TemperatureSampling",
    "UniformSampling",
    "resolve_task_sampling",
]

#: The names ``task_sampling=`` accepts, and the sampler each stands for.
SAMPLING_NAMES = {
    "proportional": ProportionalSampling,
    "uniform": UniformSampling,
    "temperature": TemperatureSampling,
    "annealed": AnnealedSampling,
}


def resolve_task_sampling(value) -> TaskSampler | None:
    """The sampler an estimator's ``task_sampling`` stands for (a fresh, checked copy).

    None or ``"natural"``: None (the natural order). A name of
    :data:`SAMPLING_NAMES`: that schedule with its defaults. An object with
    ``draw``, ``batches`` and ``labels``: a clone of it (validated if it has
    ``validate``). Anything else is a clear error.

    Parameters
    ----------
    value : None, str or TaskSampler
        An estimator's ``task_sampling``.

    Returns
    -------
    sampler : TaskSampler or None
        None for the natural order.
    """
    if value is None or (isinstance(value, str) and value == "natural"):
        return None
    if isinstance(value, str):
        if value not in SAMPLING_NAMES:
            raise ValueError(
                f"task_sampling must be None, 'natural', one of {sorted(SAMPLING_NAMES)} or a "
                f"sampler object (skmtl.sampling), got {value!r}."
            )
        sampler = SAMPLING_NAMES[value]()
    elif all(hasattr(value, a) for a in ("draw", "batches", "labels")):
        sampler = clone(value, safe=False)
    else:
        raise ValueError(
            "task_sampling must be None, 'natural', one of "
            f"{sorted(SAMPLING_NAMES)} or a sampler object with draw, batches and labels "
            f"(skmtl.sampling.TaskSampler), got {value!r}."
        )
    if hasattr(sampler, "validate"):
        sampler.validate()
    if sampler.batches not in ("mixed", "per_task") or sampler.labels not in ("drawn", "all"):
        raise ValueError(
            f"{type(sampler).__name__}: batches must be 'mixed' or 'per_task' and labels "
            f"'drawn' or 'all', got {sampler.batches!r} and {sampler.labels!r}."
        )
    return sampler
