"""Progress of fit and predict (``verbose``): tqdm bars and one printed line per epoch.

``verbose=1``: a bar over the epochs and one line per epoch on stdout;
``verbose=2``: also a bar over the batches of the current epoch. The bars are
``tqdm.auto``'s, so they render as widgets in a notebook and as text on
stderr in a terminal. A prediction (:func:`prediction_bar`) shows a bar when it
is long, see :data:`LONG_PREDICTION_BATCHES`.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from tqdm.auto import tqdm

from ._protocols import Callback

__all__ = ["LONG_PREDICTION_BATCHES", "PrintProgress", "epoch_line", "prediction_bar", "steps_bar"]

#: A prediction over more batches than this shows a bar at ``verbose=1`` already
#: (at ``verbose>=2``: every prediction of two or more batches).
LONG_PREDICTION_BATCHES = 20


class PrintProgress(Callback):
    """Show the progress of fit: tqdm bars, and one printed line per epoch.

    Every value shown is a value of ``history_``: the epoch's training loss
    (``train_loss``), each task's loss as the engine computed and the weighting
    strategy combined it (``task_loss``: the mean of the task's masked batch
    losses, over the batches where it had labels) and, when there is one, the
    validation score (``valid_score``). The bars are closed at the end of fit,
    whichever way it ends (the last epoch, early stopping, KeyboardInterrupt or
    an error); no bar outlives the fit.

    Parameters
    ----------
    verbose : int, default=1
        1: a bar over the epochs of this fit whose postfix shows the last
        epoch's values, and per epoch the line ``epoch N | train_loss L |
        <task> L ... | valid_score S | T s`` printed on stdout (through
        ``tqdm.write``, so that it does not break the bar). 2: also a bar over
        the batches of the current epoch (removed when the epoch ends) whose
        postfix shows each task's running loss in the epoch, the value that
        becomes the epoch's ``task_loss``.
    file : file-like, default=None
        Where the bars are written; None: ``sys.stderr`` (tqdm's default). The
        per-epoch lines always go to ``sys.stdout``.
    mininterval : float, default=0.1
        Minimum seconds between two updates of the batch bar's postfix (each
        update copies the running losses from the device).
    """

    def __init__(self, verbose: int = 1, file: IO[str] | None = None, mininterval: float = 0.1):
        self.verbose = int(verbose)
        self.file = file
        self.mininterval = float(mininterval)
        self.epochs: tqdm | None = None
        self.batches: tqdm | None = None
        self._posted = 0.0

    def _bar(self, **kwargs) -> tqdm:
        return tqdm(file=self.file, mininterval=self.mininterval, dynamic_ncols=True, **kwargs)

    def on_fit_begin(self, engine) -> None:
        self.epochs = self._bar(total=engine.max_epochs, desc="fit", unit="epoch")

    def on_epoch_begin(self, engine, epoch: int) -> None:
        self._close_batches()
        if self.verbose >= 2:
            # Its total is set at the first batch, once the epoch's batches are cut.
            self.batches = self._bar(desc=f"epoch {epoch}", unit="batch", leave=False)
            self._posted = time.monotonic()

    def on_batch_end(self, engine) -> None:
        bar = self.batches
        if bar is None:
            return
        if bar.total is None:
            bar.total = getattr(engine, "n_batches", None)
        stats = getattr(engine, "epoch_stats", None)
        now = time.monotonic()
        last = bar.total is not None and bar.n + 1 >= bar.total
        if stats is not None and (last or now - self._posted >= self.mininterval):
            self._posted = now
            running = dict(zip(engine.names, map(float, stats.task_loss()), strict=True))
            bar.set_postfix(_formatted(running), refresh=False)
        bar.update()

    def on_epoch_end(self, engine, record: dict) -> None:
        self._close_batches()

    def on_record(self, engine, record: dict) -> None:
        values = {"train_loss": record["train_loss"], **record["task_loss"]}
        if "valid_score" in record:
            values["valid_score"] = record["valid_score"]
        if self.epochs is not None:
            self.epochs.set_postfix(_formatted(values), refresh=False)
            self.epochs.update()
        tqdm.write(epoch_line(record), file=sys.stdout)
        if engine.stop_training:  # closed before early stopping's own message
            self.on_fit_end(engine)

    def on_fit_end(self, engine) -> None:
        self._close_batches()
        if self.epochs is not None:
            self.epochs.close()
            self.epochs = None

    def _close_batches(self) -> None:
        if self.batches is not None:
            self.batches.close()
            self.batches = None


def epoch_line(record: dict) -> str:
    """The printed line of an epoch's ``history_`` record (``verbose >= 1``)."""
    parts = [f"epoch {record['epoch']:4d}", f"train_loss {record['train_loss']:.4f}"]
    parts += [f"{t} {v:.4f}" for t, v in record["task_loss"].items()]
    if "valid_score" in record:
        parts.append(f"valid_score {record['valid_score']:.4f}")
    parts.append(f"{record['dur']:.2f}s")
    return " | ".join(parts)


def _formatted(values: dict) -> dict[str, str]:
    """A bar's postfix: each value with 4 decimals, as in the printed line."""
    return {str(k): f"{float(v):.4f}" for k, v in values.items()}


def prediction_bar(
    n_batches: int, verbose: int = 0, *, desc: str = "predict", file: IO[str] | None = None
) -> tqdm:
    """A bar over the ``n_batches`` batches of a prediction; silent unless it is long.

    Parameters
    ----------
    n_batches : int
        The prediction's number of batches.
    verbose : int, default=0
        The estimator's ``verbose``. 0: no bar. 1: a bar only over more than
        :data:`LONG_PREDICTION_BATCHES` batches. 2 or more: a bar over any
        prediction of two or more batches.
    desc : str, default="predict"
        The bar's label.
    file : file-like, default=None
        Where the bar is written; None: ``sys.stderr``.

    Returns
    -------
    bar : tqdm
        Use it as a context manager (it is closed on exit, an error included)
        and call ``bar.update()`` per batch; disabled (it prints nothing) when
        not shown. The bar is removed when closed (``leave=False``).
    """
    level = int(verbose or 0)
    show = (level >= 2 and n_batches > 1) or (level >= 1 and n_batches > LONG_PREDICTION_BATCHES)
    return tqdm(
        total=n_batches,
        desc=desc,
        unit="batch",
        leave=False,
        disable=not show,
        file=file,
        dynamic_ncols=True,
    )


def steps_bar(total: int | None, verbose: int, *, desc: str, unit: str) -> tqdm:
    """A bar (kept when done) over a diagnostic's steps; disabled when ``verbose`` is 0."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not verbose, dynamic_ncols=True)
