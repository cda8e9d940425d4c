"""Loss-weighting strategies: how per-task losses become one training signal.

Pass one as ``weighting=`` to any estimator; its parameters are searchable as
``weighting__<param>``.
"""

from ._base import WeightingStrategy
from ._equal import EqualWeighting
from ._uncertainty import UncertaintyWeighting

__all__ = ["EqualWeighting", "UncertaintyWeighting", "WeightingStrategy"]
