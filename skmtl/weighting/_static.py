"""Fixed per-task weights given on the strategy: the loss is ``sum_t s_t w_t L_t``."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ._base import WeightingStrategy

__all__ = ["StaticWeighting"]


class StaticWeighting(WeightingStrategy):
    """Scale each task loss by a fixed weight ``s_t`` chosen on the strategy.

    The loss is ``sum_t s_t w_t L_t`` where ``w_t`` are the estimator's
    ``task_weights`` (the two multiply). Hand-tuned static weights are a strong
    baseline for adaptive methods (Xin et al., "Do Current Multi-Task
    Optimization Methods in Deep Learning Even Help?", NeurIPS 2022); having
    them on the strategy lets a search compare them with other strategies in
    one ``weighting`` grid.

    Parameters
    ----------
    weights : dict or sequence of float, default=None
        ``{task name: weight}`` (unnamed tasks weigh 1) or one weight per task
        in task order; None weighs every task 1. Weights must be finite and
        >= 0; they are checked when the estimator is fitted.

    Attributes
    ----------
    weights_ : ndarray of shape (n_tasks,)
        The resolved weight of each task, in task order.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import StaticWeighting
    >>> w = StaticWeighting(weights={"b": 3.0})
    >>> _ = w.init(["a", "b"])
    >>> total, weights = w.combine(torch.tensor([1.0, 2.0]), torch.tensor([True, True]),
    ...                            torch.tensor([1.0, 0.5]), None)
    >>> float(total), weights.tolist()
    (4.0, [1.0, 1.5])
    """

    def __init__(self, weights: Mapping | Sequence | None = None) -> None:
        self.weights = weights

    def init(self, task_names):
        super().init(task_names)
        names = self.task_names_
        value = self.weights
        if value is None:
            resolved = dict.fromkeys(names, 1.0)
        elif isinstance(value, Mapping):
            entries = {str(k): v for k, v in value.items()}
            unknown = [k for k in entries if k not in names]
            if unknown:
                raise ValueError(
                    f"StaticWeighting weights name unknown tasks {unknown}; the tasks are {names}."
                )
            resolved = {n: entries.get(n, 1.0) for n in names}
        elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
            if np.ndim(value) != 1 or len(value) != len(names):
                raise ValueError(
                    f"StaticWeighting weights has {np.size(value)} entries but there are "
                    f"{len(names)} tasks {names}."
                )
            resolved = dict(zip(names, value, strict=True))
        else:
            raise ValueError(
                f"StaticWeighting weights must be a dict by task name or a sequence, got {value!r}."
            )
        for name, w in resolved.items():
            if (
                isinstance(w, bool)
                or not isinstance(w, numbers.Real)
                or not np.isfinite(w)
                or w < 0
            ):
                raise ValueError(
                    f"StaticWeighting weight of task {name!r} must be a finite number >= 0, "
                    f"got {w!r}."
                )
        self.weights_ = np.array([float(resolved[n]) for n in names])
        return None

    def combine(self, losses, present, task_weights, state):
        static = torch.as_tensor(self.weights_, dtype=losses.dtype, device=losses.device)
        weights = static * task_weights * present.to(losses.dtype)
        return (weights * losses).sum(), weights
