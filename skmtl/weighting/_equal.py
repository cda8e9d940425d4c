"""Static (and equal) task weights: the loss is ``sum_t w_t * L_t``."""

from __future__ import annotations

from ._base import WeightingStrategy

__all__ = ["EqualWeighting"]


class EqualWeighting(WeightingStrategy):
    """Sum of task losses, each scaled by the estimator's ``task_weights``.

    With the default ``task_weights=None`` every task weighs 1. This is the
    baseline that well-tuned static weights make hard to beat (Xin et al.,
    "Do Current Multi-Task Optimization Methods in Deep Learning Even Help?",
    NeurIPS 2022).

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import EqualWeighting
    >>> w = EqualWeighting()
    >>> _ = w.init(["a", "b"])
    >>> total, weights = w.combine(torch.tensor([1.0, 2.0]), torch.tensor([True, True]),
    ...                            torch.tensor([1.0, 0.5]), None)
    >>> float(total), weights.tolist()
    (2.0, [1.0, 0.5])
    """

    def combine(self, losses, present, task_weights, state):
        weights = task_weights * present.to(losses.dtype)
        return (weights * losses).sum(), weights
