"""The public multi-task estimators."""

from ._classifier import MultiTaskClassifier
from ._mixed import MultiTaskEstimator
from ._regressor import MultiTaskRegressor

__all__ = ["MultiTaskClassifier", "MultiTaskEstimator", "MultiTaskRegressor"]
