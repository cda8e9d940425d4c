"""skmtl: scikit-learn-compatible multi-task learning for NLP.

One model, several related tasks: a shared trunk and one head per task,
behind the ``fit`` / ``predict`` / ``score`` API of scikit-learn.
"""

from ._tasks import Task
from .estimators import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from .estimators._tagger import MultiTaskTagger

__version__ = "0.1.0.dev0"

__all__ = [
    "MultiTaskClassifier",
    "MultiTaskEstimator",
    "MultiTaskRegressor",
    "Task",
    "__version__",
]
__all__ += ["MultiTaskTagger"]
