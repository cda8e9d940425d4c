"""ConFIG: the conflict-free update of equal (or preferred) cosines with every task.

Liu, Chu and Thuerey, "ConFIG: Towards Conflict-free Training of Physics
Informed Neural Networks", ICLR 2025 (arXiv:2408.11104, 2024).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ._gradients import GradientAggregation, gram, result

__all__ = ["ConFIG", "config_weights", "resolve_preference"]


def resolve_preference(owner: str, value, names: list[str]) -> np.ndarray | None:
    """``pref_vector`` as one positive float per task in task order (None stays None).

    ``value`` is None, a dict ``{task name: weight}`` (unnamed tasks weigh 1)
    or a sequence of one weight per task; every weight must be finite and > 0.
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        entries = {str(k): v for k, v in value.items()}
        unknown = [k for k in entries if k not in names]
        if unknown:
            raise ValueError(
                f"{owner} pref_vector names unknown tasks {unknown}; the tasks are {names}."
            )
        resolved = [entries.get(n, 1.0) for n in names]
    elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        if np.ndim(value) != 1 or len(value) != len(names):
            raise ValueError(
                f"{owner} pref_vector has {np.size(value)} entries but there are "
                f"{len(names)} tasks {names}."
            )
        resolved = list(value)
    else:
        raise ValueError(
            f"{owner} pref_vector must be None, a dict by task name or a sequence, got {value!r}."
        )
    for name, w in zip(names, resolved, strict=True):
        if (
            isinstance(w, bool | np.bool_)
            or not isinstance(w, numbers.Real)
            or not np.isfinite(w)
            or w <= 0
        ):
            raise ValueError(
                f"{owner} pref_vector entry of task {name!r} must be a finite number > 0, "
                f"got {w!r}."
            )
    return np.array([float(w) for w in resolved])


class _Preference:
    """The ``pref_vector`` handling shared by ConFIG and DualProj (a mixin)."""

    def init(self, task_names):
        super().init(task_names)
        self.pref_vector_ = resolve_preference(self._name, self.pref_vector, self.task_names_)
        return None

    def _preference(self, tasks: list[int], default: float) -> np.ndarray:
        """The preference of these task indices (``default`` each when there is none)."""
        pref = getattr(self, "pref_vector_", None)
        if pref is None or len(pref) <= max(tasks):
            # Not initialised (a direct call of aggregate): the rows are the tasks.
            names = [str(i) for i in range(max(tasks) + 1)]
            pref = resolve_preference(self._name, self.pref_vector, names)
        if pref is None:
            return np.full(len(tasks), default)
        return pref[tasks]

    def aggregate(self, G):
        return self._aggregate_tasks(G, list(range(G.shape[0])))


def config_weights(M: np.ndarray, pref: np.ndarray) -> np.ndarray:
    """``alpha`` with ``G^T alpha`` the ConFIG update, from ``M = G G^T``.

    With ``D = diag(||g_i||)`` and the unit gradients ``A = D^-1 G``,
    ``A^+ = A^T (A A^T)^+`` gives ``g_u = A^+ p = G^T beta`` with
    ``beta = D^-1 C^+ p`` (``C = D^-1 M D^-1`` the cosine matrix), and the
    update ``(sum_i g_i . g_v) g_v`` with ``g_v = g_u / ||g_u||`` is
    ``G^T beta (1^T M beta) / (beta^T M beta)``.
    """
    M = np.asarray(M, dtype=np.float64)
    norms = np.sqrt(np.clip(np.diag(M), 0, None))
    inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
    C = M * inv[:, None] * inv[None, :]
    beta = inv * (np.linalg.pinv(C, rcond=1e-12, hermitian=True) @ pref)
    sq = float(beta @ M @ beta)
    if not sq > 0:
        return np.zeros(len(M))
    return beta * float((M @ beta).sum()) / sq


class ConFIG(_Preference, GradientAggregation):
    """Step along the direction with the same positive cosine with every task gradient.

    With the unit gradients ``u_i = g_i / ||g_i||`` as the rows of ``A``, the
    direction is ``g_u = A^+ p`` (``A^+`` the Moore-Penrose pseudo-inverse,
    ``p`` the preference vector, all ones by default): the least-norm
    ``g_u`` with ``u_i . g_u = p_i``, so that ``cos(g_i, g_u)`` is
    proportional to ``p_i``, and equal and positive for every task by
    default (no task's loss increases to first order: conflict-free). Its
    length is the sum of the gradients' projections on it (the paper's
    Equation 2):

    ``d = (sum_i g_i . g_v) g_v``, ``g_v = g_u / ||g_u||``.

    When the unit gradients are linearly dependent the equalities cannot
    all hold and ``g_u`` is the least-squares solution. Computed on the
    Gram matrix (the pseudo-inverse of the cosine matrix, relative cutoff
    1e-12); ``alpha`` are the exact coefficients of ``d``. This is the
    paper's and TorchJD's ``ConFIG`` (the official code's default equal
    weights and projection length); the paper's momentum variant
    (M-ConFIG) is not implemented.

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the trainable shared parameters, or with
        respect to the shared representation (the trunk's output; cheaper:
        one backward pass through the trunk instead of one per task), see
        :class:`~skmtl.weighting.GradientAggregation`.
    pref_vector : dict or sequence of float, default=None
        The preference ``p``: ``{task name: weight}`` (unnamed tasks weigh 1)
        or one weight per task in task order, each finite and > 0; None is
        all ones (TorchJD's default). Only the ratios matter. Checked when
        the estimator is fitted.

    Attributes
    ----------
    pref_vector_ : ndarray of shape (n_tasks,) or None
        The resolved preference of each task, in task order.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import ConFIG
    >>> G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    >>> d, alpha = ConFIG().aggregate(G)
    >>> cos = torch.nn.functional.cosine_similarity(G, d[None, :])
    >>> [round(v, 4) for v in cos.tolist()]  # equal and positive
    [0.3827, 0.3827]
    >>> torch.allclose(alpha @ G, d)
    True
    """

    _name = "ConFIG"

    def __init__(
        self, on: str = "parameters", pref_vector: Mapping | Sequence | None = None
    ) -> None:
        self.on = on
        self.pref_vector = pref_vector

    def _aggregate_tasks(self, G, tasks):
        return result(G, config_weights(gram(G), self._preference(tasks, 1.0)))
