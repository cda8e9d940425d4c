"""GradDrop: gradient sign dropout.

Chen, Ngiam, Huang, Luong, Kretzschmar, Chai and Anguelov, "Just Pick a
Sign: Optimizing Deep Multitask Models with Gradient Sign Dropout",
NeurIPS 2020.
"""

from __future__ import annotations

import torch

from ._gradients import GradientAggregation, check_real, make_rng

__all__ = ["GradDrop"]


class GradDrop(GradientAggregation):
    """Keep, per component, only the task gradients of one randomly chosen sign.

    For each component of the shared gradient, the sign purity
    ``P = (1 + sum_i g_i / sum_i |g_i|) / 2`` is the probability of keeping
    the positive contributions; with ``U ~ Uniform(0, 1)`` the mask is
    ``M_i = 1[P > U] 1[g_i > 0] + 1[P < U] 1[g_i < 0]`` and
    ``d = sum_i (leak + (1 - leak) M_i) g_i``. Components on which all tasks
    agree in sign are always kept whole.

    The paper applies the mask to the gradients at the shared activations;
    here it is applied to the shared parameters' gradients
    (``on="parameters"``). GradDrop defines no per-task coefficient: the
    returned ``alpha_i = (M_i g_i) . g_i / ||g_i||^2`` is the share of
    ``g_i``'s squared norm that was kept (1 when nothing was dropped).

    Parameters
    ----------
    on : {"parameters", "representation"}, default="parameters"
        Gradients with respect to the shared parameters ("representation"
        raises NotImplementedError at fit).
    leak : float, default=0.0
        Fraction of every dropped component that is kept anyway, in [0, 1].
    random_state : int, Generator or None, default=None
        Seed of the random sign choice.

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
        self._rng = make_rng(self.random_state)

    def aggregate(self, G):
        if getattr(self, "_rng", None) is None:
            self._validate()
        total = G.sum(0)
        purity = 0.5 * (1.0 + total / G.abs().sum(0).clamp_min(torch.finfo(G.dtype).tiny))
        U = torch.from_numpy(self._rng.random(G.shape[1])).to(device=G.device, dtype=G.dtype)
        positive = (purity > U)[None, :]
        mask = (positive & (G > 0)) | (~positive & (G < 0))
        leak = float(self.leak)
        kept = (leak + (1.0 - leak) * mask.to(G.dtype)) * G
        norms = (G * G).sum(1)
        alpha = torch.where(norms > 0, (kept * G).sum(1) / norms.clamp_min(1e-300), 1.0)
        return kept.sum(0), alpha
