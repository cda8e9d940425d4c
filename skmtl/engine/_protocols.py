"""The protocols the training engine is written against.

:class:`Inputs` is the model input cut into batches (numeric features, or
texts prepared by an encoder); :class:`Network` is the ``nn.Module`` the
engine trains; :class:`Sampler` orders an epoch's rows into batches;
:class:`Callback` is one concern of the loop (early stopping, weight
averaging, gradient recording, progress), called at fixed points.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

__all__ = ["Callback", "Inputs", "Network", "Sampler"]


@runtime_checkable
class Inputs(Protocol):
    """Model inputs that the engine can shuffle and cut into batches."""

    def __len__(self) -> int: ...

    def take(self, rows: np.ndarray) -> Inputs:
        """The inputs of these rows, in this order."""

    def batch(self, start: int, stop: int) -> Any:
        """The model input of rows ``start:stop`` (CPU tensors; the engine moves them)."""


@runtime_checkable
class Network(Protocol):
    """What the engine and the weighting strategies need of the trained module.

    ``forward(batch)`` returns one head output per task; ``representation``
    is the cut of the last training forward (see :mod:`skmtl.architectures`);
    ``weighting`` holds the weighting strategy's trainable state (or None).
    """

    weighting: nn.Module | None
    representation: Any

    def __call__(self, batch: Any) -> dict[str, torch.Tensor]: ...

    def shared_parameters(self) -> list[nn.Parameter]: ...

    def parameters(self): ...


@runtime_checkable
class Sampler(Protocol):
    """Orders the rows of one epoch into batches."""

    def epoch(self, inputs: Inputs, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        """``(order, bounds)``: a permutation of ``range(len(inputs))`` and the batch
        boundaries into it (``bounds[0] == 0``, ``bounds[-1] == len(inputs)``)."""


class Callback:
    """One concern of the training loop; override the hooks it needs.

    The engine calls, in this order: ``on_fit_begin`` once; per epoch
    ``on_epoch_begin``, ``on_batch_end`` after every optimiser step,
    ``on_epoch_end`` (may add entries to the epoch's ``record``), then
    ``on_record`` once the record is complete and in ``history``; finally
    ``on_fit_end`` (also after an interruption). A callback stops training by
    setting ``engine.stop_training = True``.
    """

    def on_fit_begin(self, engine) -> None:
        pass

    def on_epoch_begin(self, engine, epoch: int) -> None:
        pass

    def on_batch_end(self, engine) -> None:
        pass

    def on_epoch_end(self, engine, record: dict) -> None:
        pass

    def on_record(self, engine, record: dict) -> None:
        pass

    def on_fit_end(self, engine) -> None:
        pass
