"""Per-task weights on the probability simplex (MoCo, MoDo, SDMGrad)."""

from __future__ import annotations

import numpy as np

__all__ = ["SimplexWeights", "project_simplex"]


def project_simplex(v) -> np.ndarray:
    """The Euclidean projection of ``v`` onto the probability simplex.

    The sort-based algorithm (Duchi, Shalev-Shwartz, Singer and Chandra,
    2008), as in the official MoDo and SDMGrad code.
    """
    v = np.asarray(v, dtype=np.float64)
    u = np.sort(v)[::-1]
    cssv = np.cumsum(u) - 1.0
    rho = np.nonzero(u * np.arange(1, v.size + 1) > cssv)[0][-1]
    return np.clip(v - cssv[rho] / (rho + 1.0), 0.0, None)


class SimplexWeights:
    """Per-task weights on the simplex, of which a step may see only some tasks.

    ``weights_`` (n_tasks,) sums to 1. A step over the present tasks
    ``tasks`` works on their weights renormalised to the unit simplex,
    ``mu = weights_[tasks] / s`` with ``s = sum(weights_[tasks])``, and
    stores the result back scaled by ``s``: the absent tasks' weights are
    untouched and ``weights_`` stays on the simplex. With every task present
    (``s = 1``) this is the plain update of the paper.
    """

    def _start(self, n_tasks: int) -> None:
        self.weights_ = np.full(n_tasks, 1.0 / n_tasks) if n_tasks else np.zeros(0)

    def _present_weights(self, tasks) -> tuple[np.ndarray, float]:
        """``(mu, s)``: the present tasks' weights on their unit simplex and their mass."""
        need = max(tasks) + 1
        if getattr(self, "weights_", None) is None or len(self.weights_) < need:
            self._start(need)  # aggregate() called without init(): as many tasks as rows
        sub = self.weights_[tasks]
        s = float(sub.sum())
        if not s > 0:  # the present tasks hold no mass (each was projected to 0)
            return np.full(len(tasks), 1.0 / len(tasks)), 0.0
        return sub / s, s

    def _store(self, tasks, mu: np.ndarray, s: float) -> None:
        if s > 0 and np.all(np.isfinite(mu)):
            self.weights_[tasks] = s * mu
