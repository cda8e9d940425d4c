"""Early stopping on a held-out validation score, restoring the best epoch."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ._protocols import Callback

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop when the mean validation score has not improved by ``tol`` for ``patience`` epochs.

    Parameters
    ----------
    score : callable
        ``score(network) -> {task: score}`` on the validation rows (higher is
        better; NaN for a task without labelled validation rows).
    tol : float
        Minimum improvement of the mean score that resets the patience.
    patience : int
        Epochs without improvement before stopping.
    verbose : int
    stop : bool, default=True
        False: only record the validation scores in each epoch's record (no
        stopping, no restoring).

    Attributes
    ----------
    best_epoch : int or None
        The epoch whose weights were restored at the end of fit.
    """

    def __init__(
        self, score: Callable, tol: float, patience: int, verbose: int = 0, stop: bool = True
    ) -> None:
        self.score, self.tol, self.patience, self.verbose = (
            score,
            float(tol),
            int(patience),
            verbose,
        )
        self.stop = bool(stop)
        self.best_epoch = None

    def on_fit_begin(self, engine) -> None:
        self.best_score, self.best_state, self.best_epoch, self.stall = -np.inf, None, None, 0

    def on_epoch_end(self, engine, record: dict) -> None:
        scores = self.score(engine.network)
        record["task_valid_score"] = scores
        finite = [s for s in scores.values() if np.isfinite(s)]
        record["valid_score"] = score = float(np.mean(finite)) if finite else float("nan")
        if not self.stop:
            return
        if np.isfinite(score) and score > self.best_score + self.tol:
            self.best_score, self.best_epoch, self.stall = score, record["epoch"], 0
            self.best_state = copy.deepcopy(engine.network.state_dict())
            return
        self.stall += 1
        if self.stall >= self.patience:
            engine.stop_training = True

    def on_record(self, engine, record: dict) -> None:
        if engine.stop_training and self.verbose:
            print(
                f"Early stopping: no improvement in {self.stall} epochs; "
                f"restoring epoch {self.best_epoch}.",
                flush=True,
            )

    def on_fit_end(self, engine) -> None:
        if self.best_state is not None:
            engine.network.load_state_dict(self.best_state)
            self.best_state = None
