"""GradDrop: gradient sign dropout.

Chen, Ngiam, Huang, Luong, Kretzschmar, Chai and Anguelov, "Just Pick a
Sign: Optimizing Deep Multitask Models with Gradient Sign Dropout",
NeurIPS 2020.
"""

from __future__ import annotations

import numpy as np
import torch

from ._gradients import GradientAggregation, check_real, seeded_rng

__all__ = ["GradDrop"]


class GradDrop(GradientAggregation):
    """Keep, per component, only the task gradients of one randomly chosen sign.

    For each component of the shared gradient, the sign purity
    ``P = (1 + sum_i g_i / sum_i |g_i|) / 2`` is the probability of keeping
    the positive contributions; with ``U ~ Uniform(0, 1)`` the mask is
    ``M_i = 1[P > U] 1[g_i > 0] + 1[P < U] 1[g_i < 0]`` and
    ``d = sum_i (leak + (1 - leak) M_i) g_i``. Components on which all tasks
    agree in sign are always kept whole.

    The paper applies the mask to the gradients at the shared activations
    (``on="representation"``: one sign choice per element of the batch's
    representation, or of every tensor of a sharing architecture's cut, see
    :mod:`skmtl.architectures`, then one backward pass through the trunk, as
    LibMTL);
    ``on="parameters"`` applies it to the shared parameters' gradients
    instead. GradDrop defines no per-task coefficient: the
    returned ``alpha_i = (M_i g_i) . g_i / ||g_i||^2`` is the share of
    ``g_i``'s squared norm that was kept (1 when nothing was dropped).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Mask the gradients of the trainable shared parameters, or those of
        the shared representation (the paper's choice, and cheaper), see
        :class:`~skmtl.weighting.GradientAggregation`.
    leak : float, default=0.0
        Fraction of every dropped component that is kept anyway, in [0, 1].
    random_state : int, Generator or None, default=None
        Seed of the random sign choice. None draws the seed from torch's global
        generator when the strategy is initialised, which the estimator seeds
        from its own ``random_state`` during ``fit``: the strategy is then
        reproducible exactly when the estimator is.

    Examples
    --------
    >>> import torch
    >>> from skmtl.weighting import GradDrop
    >>> G = torch.tensor([[1.0, 2.0], [3.0, -2.0]])
    >>> d, alpha = GradDrop(random_state=0).aggregate(G)
    >>> d[0].item()  # both tasks agree on the first component's sign: kept whole
    4.0
    >>> d[1].item() in (2.0, -2.0)  # one sign of the second component survives
    True
    """

    _name = "GradDrop"

    def __init__(self, on: str = "parameters", leak: float = 0.0, random_state=None) -> None:
        self.on = on
        self.leak = leak
        self.random_state = random_state

    def _validate(self) -> None:
        check_real("GradDrop", "leak", self.leak, low=0.0, high=1.0)
        self._rng = seeded_rng(self.random_state)

    def aggregate(self, G):
        if getattr(self, "_rng", None) is None:
            self._validate()
        G = G.detach()
        # Per component: total = P + N and absolute = P - N, with P (N) the sum of
        # the positive (negative) parts, with no temporary of G's size (with the
        # shared parameters' gradients it has millions of columns).
        total = G.sum(0)
        absolute = G[0].abs()
        scratch = torch.empty_like(absolute)
        for row in G[1:]:  # row by row: a reduction over dim 0 of |G| is slow on the CPU
            absolute.add_(torch.abs(row, out=scratch))
        del scratch
        purity = 0.5 * (1.0 + total / absolute.clamp_min(torch.finfo(G.dtype).tiny))
        dtype = np.float64 if G.dtype == torch.float64 else np.float32
        U = torch.from_numpy(self._rng.random(G.shape[1], dtype=dtype)).to(G.device, G.dtype)
        # +1 where the positive sign is kept, -1 where the negative one is (arithmetic
        # rather than torch.where, which is slow on long CPU vectors).
        sign = (purity > U).to(G.dtype).mul_(2.0).sub_(1.0)
        del purity, U
        # Every component keeps the sum of its gradients of the chosen sign:
        # P = (total + absolute) / 2 or N = (total - absolute) / 2.
        kept_sum = absolute.mul_(sign).add_(total).mul_(0.5)
        leak = float(self.leak)
        d = kept_sum if leak == 0 else leak * total + (1.0 - leak) * kept_sum
        # alpha_i = (kept_i . g_i) / ||g_i||^2, kept_i = (leak + (1 - leak) M_i) g_i.
        norms = torch.linalg.vector_norm(G, dim=1) ** 2
        kept_sq = torch.stack([torch.linalg.vector_norm((row * sign).relu_()) ** 2 for row in G])
        share = leak * norms + (1.0 - leak) * kept_sq
        alpha = torch.where(norms > 0, share / norms.clamp_min(1e-300), 1.0)
        return d, alpha
