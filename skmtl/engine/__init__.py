"""The training engine under every skmtl estimator.

:class:`Engine` runs the loop (batches, forward, per-task masked losses, the
weighting strategy, the optimiser step) with overridable hooks
(:meth:`Engine.train_step`, :meth:`Engine.get_loss`) and :class:`Callback`
objects, one concern per file: :class:`EarlyStopping`,
:class:`WeightAveraging`, :class:`GradientRecorder`, :class:`PrintProgress`,
:class:`WarmupInverseSqrt`; :class:`SparseAdamW` is the optimiser (AdamW, with
lazy row updates for the row-sparse gradients of a sparse input);
:func:`prediction_bar` and :func:`steps_bar` are the
progress bars of long predictions and of the diagnostics.
:class:`MultiTaskNetwork` assembles an architecture's per-task representations
and the task heads into the module the engine trains.
"""

from ._data import TaskTensors, TrainingData, to_device
from ._early_stopping import EarlyStopping
from ._engine import Engine, predict
from ._gradient_recorder import GradientRecorder, probe_gradients
from ._lr_schedule import WarmupInverseSqrt
from ._network import MultiTaskNetwork
from ._progress import PrintProgress, prediction_bar, steps_bar
from ._protocols import Callback, Inputs, Network, Sampler
from ._samplers import LengthGroupedBatches, ShuffledBatches
from ._sparse_adamw import SparseAdamW
from ._stats import EpochStats
from ._weight_averaging import WeightAveraging

__all__ = [
    "Callback",
    "EarlyStopping",
    "Engine",
    "EpochStats",
    "GradientRecorder",
    "Inputs",
    "LengthGroupedBatches",
    "MultiTaskNetwork",
    "Network",
    "PrintProgress",
    "Sampler",
    "ShuffledBatches",
    "SparseAdamW",
    "TaskTensors",
    "TrainingData",
    "WarmupInverseSqrt",
    "WeightAveraging",
    "predict",
    "prediction_bar",
    "probe_gradients",
    "steps_bar",
    "to_device",
]
