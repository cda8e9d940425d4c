"""Loss-weighting strategies: how per-task losses become one training signal.

Pass one as ``weighting=`` to any estimator; its parameters are searchable as
``weighting__<param>``.
"""

from ._base import WeightingStrategy
from ._dbmtl import DBMTL
from ._dwa import DWA
from ._equal import EqualWeighting
from ._famo import FAMO
from ._gradnorm import GradNorm
from ._rlw import RLW
from ._static import StaticWeighting
from ._uncertainty import UncertaintyWeighting

__all__ = [
    "DBMTL",
    "DWA",
    "EqualWeighting",
    "FAMO",
    "GradNorm",
    "RLW",
    "StaticWeighting",
    "UncertaintyWeighting",
    "WeightingStrategy",
]
