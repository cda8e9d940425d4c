"""DualProj: the (weighted) mean gradient projected onto the dual cone of the task gradients.

The projection of Lopez-Paz and Ranzato, "Gradient Episodic Memory for
Continual Learning", NeurIPS 2017 (their Equation 11), used as a
multi-task aggregator as in TorchJD (Quinton and Rey, "Jacobian Descent
for Multi-Objective Optimization", arXiv:2406.16232, 2024).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._config import _Preference
from ._gradients import GradientAggregation, gram, result
from ._upgrad import dual_cone_weights

__all__ = ["DualProj", "dual_projection_weights"]


def dual_projection_weights(M: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``alpha`` with ``G^T alpha`` the projection of ``G^T u`` onto the dual cone of ``G``.

    ``M = G G^T`` and ``u >= 0``. The dual cone ``{x : G x >= 0}`` does not
    change when the row ``g_u = G^T u`` is appended to ``G`` (``g_u . x =
    u^T G x >= 0`` on it), so the projection of ``g_u`` is the last row of
    :func:`~skmtl.weighting._upgrad.dual_cone_weights` on the Gram matrix of
    ``P G`` with ``P = [I; u^T]``, mapped back by ``P^T``.
    """
    M = np.asarray(M, dtype=np.float64)
    P = np.vstack([np.eye(len(M)), np.asarray(u, dtype=np.float64)[None, :]])
    aug = P @ M @ P.T
    aug = 0.5 * (aug + aug.T)
    scale = max(float(np.abs(aug).max()), 1e-300)
    return P.T @ dual_cone_weights(aug / scale)[-1]


class DualProj(_Preference, GradientAggregation):
    """Project the mean gradient onto the dual cone of the task gradients (GEM's projection).

    With ``g_u = sum_i u_i g_i`` (``u`` the preference vector, ``1/k`` each
    by default: the mean gradient), ``d`` is the closest vector to ``g_u``
    that conflicts with no task:

    ``d = argmin_x ||x - g_u||^2`` subject to ``g_i . x >= 0`` for every ``i``.

    Its dual is ``d = G^T alpha``, ``alpha = argmin_{alpha >= u} alpha^T G G^T alpha``:
    ``d`` equals ``g_u`` when ``g_u`` conflicts with no task, and otherwise adds
    non-negative multiples of the conflicting gradients. Solved exactly on
    the Gram matrix with the dual-cone solver of :class:`~skmtl.weighting.UPGrad`
    (non-negative least squares, see :func:`dual_projection_weights`);
    ``alpha`` are the exact coefficients of ``d``. This is TorchJD's
    ``DualProj``, whose quadprog solver first divides the Gram matrix by its
    trace and adds ``1e-4`` times the identity (so it is close to, not exactly,
    the projection); UPGrad is the mean of the projections of each ``g_i``,
    DualProj the projection of the mean.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    pref_vector : dict or sequence of float, default=None
        The weights ``u`` of the gradients before the projection:
        ``{task name: weight}`` (unnamed tasks weigh 1) or one weight per
        task in task order, each finite and > 0, used as given for the tasks
        of the batch; None is the mean of the batch's task gradients
        (``1/k`` each, TorchJD's default). Checked when the estimator is fitted.

    Attributes
    ----------
    pref_vector_ : ndarray of shape (n_tasks,) or None
        The resolved preference of each task, in task order.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import DualProj
    >>> G = torch.tensor([[1.0, 0.0], [-2.0, 1.0]])  # the mean (-0.5, 0.5) conflicts with g_1
    >>> d, alpha = DualProj().aggregate(G)
    >>> [round(v, 4) for v in d.tolist()], [round(v, 4) for v in alpha.tolist()]
    ([0.0, 0.5], [1.0, 0.5])
    """

    _name = "DualProj"

    def __init__(
        self, on: str = "parameters", pref_vector: Mapping | Sequence | None = None
    ) -> None:
        self.on = on
        self.pref_vector = pref_vector

    def _aggregate_tasks(self, G, tasks):
        u = self._preference(tasks, 1.0 / len(tasks))
        return result(G, dual_projection_weights(gram(G), u))
