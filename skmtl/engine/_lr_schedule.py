"""Learning-rate warm-up then inverse square-root decay (Vaswani et al., 2017).

The schedule Transformers are trained with: the rate rises linearly over
``warmup_steps`` optimiser steps to the optimiser's own ``lr``, then falls as
``lr * sqrt(warmup_steps / step)``. Attention layers trained from scratch
at a constant rate of this size often diverge in their first steps.
"""

from __future__ import annotations

import math

from ._protocols import Callback

__all__ = ["WarmupInverseSqrt"]


class WarmupInverseSqrt(Callback):
    """Set every parameter group's ``lr`` before each step from the step count.

    Parameters
    ----------
    warmup_steps : int
        Steps of linear warm-up (0: no warm-up, the rate decays from the first step).

    Examples
    --------
    >>> schedule = WarmupInverseSqrt(4)
    >>> schedule.factor(2), schedule.factor(4), schedule.factor(16)
    (0.5, 1.0, 0.5)
    """

    def __init__(self, warmup_steps: int) -> None:
        self.warmup_steps = int(warmup_steps)

    def factor(self, step: int) -> float:
        """The rate of optimiser step ``step`` (1-based) relative to the base rate."""
        w = max(self.warmup_steps, 1)
        if self.warmup_steps and step < w:
            return step / w
        return math.sqrt(w / max(step, 1)) if self.warmup_steps else 1.0 / math.sqrt(step)

    def on_fit_begin(self, engine) -> None:
        groups = engine.optimizer.param_groups
        self.base = [g.get("initial_lr", g["lr"]) for g in groups]
        for g, base in zip(groups, self.base, strict=True):
            g["initial_lr"] = base
        # A warm start continues the schedule: AdamW counts its steps per parameter.
        steps = [s.get("step") for s in engine.optimizer.state.values() if "step" in s]
        self.n_steps = int(max(float(s) for s in steps)) if steps else 0
        self._apply(engine)

    def _apply(self, engine) -> None:
        f = self.factor(self.n_steps + 1)
        for g, base in zip(engine.optimizer.param_groups, self.base, strict=True):
            g["lr"] = base * f

    def on_batch_end(self, engine) -> None:
        self.n_steps += 1
        self._apply(engine)

    def on_fit_end(self, engine) -> None:
        for g, base in zip(engine.optimizer.param_groups, self.base, strict=True):
            g["lr"] = base
