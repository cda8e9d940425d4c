"""Loss-weighting strategies: how per-task losses become one training signal.

Pass one as ``weighting=`` to any estimator; its parameters are searchable as
``weighting__<param>``.
"""

from ._alignedmtl import AlignedMTL
from ._base import WeightingStrategy
from ._cagrad import CAGrad
from ._conditioned import WeightConditioned, conditioned
from ._dbmtl import DBMTL
from ._dwa import DWA
from ._equal import EqualWeighting
from ._famo import FAMO
from ._graddrop import GradDrop
from ._gradients import GradientAggregation
from ._gradnorm import GradNorm
from ._gradvac import GradVac
from ._imtl import IMTLG
from ._mgda import MGDA
from ._nashmtl import NashMTL
from ._pcgrad import PCGrad
from ._rlw import RLW
from ._static import StaticWeighting
from ._uncertainty import UncertaintyWeighting
from ._upgrad import UPGrad

__all__ = [
    "AlignedMTL",
    "CAGrad",
    "DBMTL",
    "DWA",
    "EqualWeighting",
    "FAMO",
    "GradDrop",
    "GradNorm",
    "GradVac",
    "GradientAggregation",
    "IMTLG",
    "MGDA",
    "NashMTL",
    "PCGrad",
    "RLW",
    "StaticWeighting",
    "UPGrad",
    "UncertaintyWeighting",
    "WeightConditioned",
    "WeightingStrategy",
    "conditioned",
]
