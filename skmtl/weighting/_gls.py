"""Geometric loss strategy.

Chennupati, Sistu, Yogamani and Rawashdeh, "MultiNet++: Multi-Stream Feature
Aggregation and Geometric Loss Strategy for Multi-Task Learning", CVPR
Workshops 2019.
"""

from __future__ import annotations

import torch

from ._base import WeightingStrategy

__all__ = ["GLS"]

_EPS = 1e-8


class GLS(WeightingStrategy):
    """Minimise the geometric mean of the task losses.

    Over the tasks present in the batch, with ``c_i`` the estimator's static
    ``task_weights`` and ``C = sum_i c_i``, the loss is the weighted
    geometric mean

    ``GLS = prod_i (L_i + eps)^(c_i / C)``,

    which for equal ``task_weights`` is the paper's (and LibMTL's)
    ``(prod_i L_i)^(1/k)`` over the ``k`` present tasks. ``task_weights``
    enter as the exponents, so only their ratios matter (multiplying all of
    them by a constant changes nothing), and a task of weight 0 drops out of
    the product. ``eps = 1e-8`` keeps the loss differentiable when a task's
    loss reaches 0 (the product, and with it every other task's weight, then
    nearly vanishes: the geometric mean's nature); the task losses are
    assumed to be ``>= 0`` (as every built-in task's loss is; a negative one
    is clipped at 0).

    Its gradient is ``sum_i w_i grad L_i`` with

    ``w_i = c_i GLS / (C (L_i + eps))``,

    the weights returned (and recorded in ``history_``), 0 for an absent
    task. Since ``grad GLS = GLS sum_i (c_i / C) grad log L_i``, the update
    direction does not change when a task's loss is multiplied by a
    constant: the loss scales of the tasks need no tuning. A batch whose
    present tasks all have ``task_weights`` 0 gives a zero loss. (LibMTL
    back-propagates the same loss but reports ``L_i / (k prod_j L_j)`` as the
    weights, which are not the gradient's.)

    The strategy has no parameters and no state.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import GLS
    >>> w = GLS()
    >>> w.init(["a", "b"]) is None
    True
    >>> total, weights = w.combine(torch.tensor([1.0, 4.0]), torch.tensor([True, True]),
    ...                            torch.ones(2), None)
    >>> round(float(total), 4), [round(v, 4) for v in weights.tolist()]
    (2.0, [1.0, 0.25])
    """

    def combine(self, losses, present, task_weights, state):
        """``(GLS, w)``: the weighted geometric mean and ``w_i = c_i GLS / (C (L_i + eps))``."""
        c = torch.where(present, task_weights.to(losses.dtype), torch.zeros_like(losses))
        mass = c.sum()
        exponents = c / mass.clamp_min(torch.finfo(losses.dtype).tiny)
        safe = torch.where(present, losses, torch.ones_like(losses)).clamp_min(0) + _EPS
        log_total = torch.where(exponents > 0, exponents * torch.log(safe), 0.0).sum()
        total = torch.where(mass > 0, torch.exp(log_total), torch.zeros_like(log_total))
        weights = (exponents * total / safe).detach()
        return total, weights
