"""The public multi-task estimators."""

from ._classifier import MultiTaskClassifier
from ._mixed import MultiTaskEstimator
from ._regressor import MultiTaskRegressor
from ._seq2seq import MultiTaskSeq2Seq
from ._tagger import MultiTaskTagger

__all__ = ["MultiTaskClassifier", "MultiTaskEstimator", "MultiTaskRegressor"]
__all__ += ["MultiTaskSeq2Seq", "MultiTaskTagger"]
