"""skmtl: scikit-learn-compatible multi-task learning for NLP.

One model, several related tasks: shared layers and one head per task, behind
the ``fit`` / ``predict`` / ``score`` API of scikit-learn.
"""

from ._params import PerTask
from ._persistence import InconsistentVersionWarning, load, save
from .estimators import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from .estimators._seq2seq import MultiTaskSeq2Seq
from .estimators._tagger import MultiTaskTagger
from .tasks import Task

__version__ = "0.1.0.dev0"

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
