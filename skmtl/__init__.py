"""skmtl: scikit-learn-compatible multi-task learning for NLP.

One model, several related tasks: shared layers and one head per task, behind
the ``fit`` / ``predict`` / ``score`` API of scikit-learn.

The top-level names (and the subpackages, as attributes) are imported on first
use (PEP 562), so that ``import skmtl`` itself is cheap: spaCy imports skmtl's
pipeline factory (:mod:`skmtl.integrations`) whenever it builds a pipeline, and
that must not cost every spaCy user an import of torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

# name -> the module that defines it
_EXPORTS = {
    "PerTask": "._params",
    "InconsistentVersionWarning": "._persistence",
    "load": "._persistence",
    "save": "._persistence",
    "MultiTaskClassifier": ".estimators",
    "MultiTaskEstimator": ".estimators",
    "MultiTaskRegressor": ".estimators",
    "MultiTaskSeq2Seq": ".estimators._seq2seq",
    "MultiTaskTagger": ".estimators._tagger",
    "Task": ".tasks",
}
_SUBPACKAGES = (
    "architectures",
    "datasets",
    "diagnostics",
    "encoders",
    "engine",
    "estimators",
    "features",
    "heads",
    "integrations",
    "metrics",
    "model_selection",
    "plotting",
    "sampling",
    "tasks",
    "utils",
    "weighting",
)

__all__ = [
    "InconsistentVersionWarning",
    "MultiTaskClassifier",
    "MultiTaskEstimator",
    "MultiTaskRegressor",
    "MultiTaskSeq2Seq",
    "MultiTaskTagger",
    "PerTask",
    "Task",
    "__version__",
    "load",
    "save",
]

if TYPE_CHECKING:  # for type checkers and IDEs: the eager imports
    from ._params import PerTask
    from ._persistence import InconsistentVersionWarning, load, save
    from .estimators import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
    from .estimators._seq2seq import MultiTaskSeq2Seq
    from .estimators._tagger import MultiTaskTagger
    from .tasks import Task


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBPACKAGES))
