"""What every torch-backed skmtl estimator shares, whatever its inputs.

Per-task parameters settable as ``<param>__<task>``, device resolution, the
optimiser, and safe, device-independent pickling: the torch state is stored as
tensors only and read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import numbers

import torch

from ._params import set_per_task
from ._persistence import (
    attach_tensors,
    check_skmtl_version,
    detach_tensors,
    loading_device,
    restore_network,
    skmtl_version,
    torch_state,
)
from .weighting import WeightingStrategy

__all__ = ["TorchEstimatorMixin", "rng_devices"]


class _TorchBytes(bytes):
    """Older pickles' torch objects (``torch.save`` of whole modules); refused on load."""


class _TorchState(bytes):
    """The torch state of a pickled estimator: ``torch.save`` of tensors and plain data."""


_PICKLE_FORMAT = 1


class TorchEstimatorMixin:
    """Mixed in before :class:`sklearn.base.BaseEstimator`.

    Subclasses list their per-task dict parameters in ``_PER_TASK_PARAMS``.
    ``_TORCH_STATE`` names the fitted torch objects: a pickle keeps the
    network's and optimiser's state (and the weighting strategy's tensors) as
    one ``torch.save`` of tensors, and unpickling rebuilds the network with the
    estimator's recipe (see :mod:`skmtl._persistence`), on the CPU when the GPU
    it was fitted on is not there. A pickle also records the skmtl version and
    warns (:class:`skmtl.InconsistentVersionWarning`) when another one loads it.
    """

    _PER_TASK_PARAMS: tuple[str, ...] = ("task_weights",)
    _TORCH_STATE: tuple[str, ...] = ("module_", "optimizer_", "weighting_")

    def set_params(self, **params):
        """Set parameters; ``<per-task param>__<task>`` sets one task's entry.

        Per-task parameters (``task_weights`` and, where the estimator has
        them, ``threshold`` and ``class_weight``) accept
        ``task_weights__<task>=value``, so GridSearchCV can tune one task at a
        time. The dict is copied, never mutated; a scalar value stays the
        default of the other tasks (a :class:`~skmtl.PerTask` dict).
        """
        per_task = {}
        for key in list(params):
            name, delim, task = key.partition("__")
            if delim and name in self._PER_TASK_PARAMS and name in self._get_param_names():
                per_task.setdefault(name, {})[task] = params.pop(key)
        super().set_params(**params)
        for name, entries in per_task.items():
            try:
                setattr(self, name, set_per_task(getattr(self, name), entries))
            except ValueError as exc:
                raise ValueError(f"Cannot set {name}__<task>: {exc}") from None
        return self

    def _check_training_params(self) -> None:
        """Validate the optimisation parameters every torch estimator has."""
        for name in ("learning_rate", "batch_size", "max_epochs", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}.")
        for name in ("batch_size", "max_epochs", "n_iter_no_change"):
            if not isinstance(getattr(self, name), numbers.Integral):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}.")
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}."
            )
        if self.weighting is not None and not isinstance(self.weighting, WeightingStrategy):
            raise ValueError(
                "weighting must be None or a skmtl.weighting strategy such as "
                f"UncertaintyWeighting(), got {self.weighting!r}."
            )
        if self.device not in ("cpu", "cuda", "auto") and not str(self.device).startswith("cuda:"):
            raise ValueError(
                f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {self.device!r}."
            )

    def _resolve_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but torch sees no CUDA GPU; use 'cpu' or 'auto'."
            )
        return device

    def _make_optimizer(self, params, device) -> torch.optim.AdamW:
        """:class:`~skmtl.engine.SparseAdamW` (an AdamW), fused where torch supports it.

        Dense gradients get AdamW's update; the default (per-tensor) AdamW
        allocates temporaries the size of the first layer on every step, so
        the fused kernel is used where torch has one (about 10x faster on a
        20k x 256 weight on CPU). The row-sparse gradient that the first
        layer gets from wide sparse X updates only the batch's rows; what
        dense AdamW does to the other rows (decay, moments, momentum) is
        replayed lazily (see SparseAdamW).
        """
        from .encoders import param_groups
        from .engine import SparseAdamW

        # parameters with a learning rate of their own (fine-tuned pretrained layers)
        # get a param group of their own
        params = param_groups(params)
        kwargs = {"lr": self.learning_rate, "weight_decay": self.weight_decay}
        try:
            return SparseAdamW(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # older torch or unsupported device
            return SparseAdamW(params, **kwargs)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_skmtl_version"] = skmtl_version()
        if not isinstance(state.get("module_"), torch.nn.Module):
            return state
        # Tensors and plain data only, on the CPU: torch.load(weights_only=True) reads
        # them back on any machine, and the network is rebuilt by the estimator's
        # recipe (see skmtl._persistence), never unpickled.
        doc, tensors = torch_state(self)
        strategy, strategy_tensors = detach_tensors(state["weighting_"])
        payload = {"format": _PICKLE_FORMAT, "network": doc, "tensors": tensors}
        payload["weighting"] = strategy_tensors
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        del state["module_"], state["optimizer_"]
        state["weighting_"] = strategy
        state["_torch_state"] = _TorchState(buffer.getvalue())
        return state

    def __setstate__(self, state):
        state = dict(state)
        check_skmtl_version(type(self).__name__, state.pop("_skmtl_version", None))
        if any(isinstance(state.get(key), _TorchBytes) for key in self._TORCH_STATE):
            raise ValueError(
                f"This {type(self).__name__} was pickled by an older skmtl that stored its "
                "torch objects in a form that can run code when loaded; it is not loaded. "
                "Refit the model."
            )
        blob = state.pop("_torch_state", None)
        if blob is not None:
            state["device_"] = device = loading_device(state.get("device_"))
        super().__setstate__(state)
        if blob is None:
            return
        payload = torch.load(io.BytesIO(blob), map_location=device, weights_only=True)
        if payload.get("format") != _PICKLE_FORMAT:
            raise ValueError(
                f"This {type(self).__name__} was pickled with torch state format "
                f"{payload.get('format')!r}; this skmtl reads format {_PICKLE_FORMAT}."
            )
        self.module_, _, self.optimizer_ = restore_network(
            self, payload["network"], payload["tensors"], device
        )
        attach_tensors(self.weighting_, payload["weighting"], device)


def rng_devices(device: torch.device) -> list:
    """The devices whose RNG ``torch.random.fork_rng`` must fork for ``device``."""
    if device.type == "cuda":
        return [device.index if device.index is not None else torch.cuda.current_device()]
    return []
