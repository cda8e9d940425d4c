"""Loss-weighting strategies: how per-task losses become one training signal.

Pass one as ``weighting=`` to any estimator; its parameters are searchable as
``weighting__<param>``.
"""

from ._alignedmtl import AlignedMTL
from ._autolambda import AutoLambda
from ._base import WeightingStrategy
from ._cagrad import CAGrad
from ._conditioned import WeightConditioned, conditioned
from ._config import ConFIG
from ._dbmtl import DBMTL
from ._dualproj import DualProj
from ._dwa import DWA
from ._equal import EqualWeighting
from ._excessmtl import ExcessMTL
from ._fairgrad import FairGrad
from ._famo import FAMO
from ._gls import GLS
from ._graddrop import GradDrop
from ._gradients import GradientAggregation
from ._gradnorm import GradNorm
from ._gradvac import GradVac
from ._imtl import IMTLG
from ._imtll import IMTLL
from ._mgda import MGDA
from ._moco import MoCo
from ._modo import MoDo
from ._nashmtl import NashMTL
from ._pcgrad import PCGrad
from ._rlw import RLW
from ._sdmgrad import SDMGrad
from ._static import StaticWeighting
from ._stch import STCH
from ._uncertainty import UncertaintyWeighting
from ._upgrad import UPGrad

__all__ = [
    "AlignedMTL",
    "AutoLambda",
    "CAGrad",
    "ConFIG",
    "DBMTL",
    "DWA",
    "DualProj",
    "EqualWeighting",
    "ExcessMTL",
    "FAMO",
    "FairGrad",
    "GLS",
    "GradDrop",
    "GradNorm",
    "GradVac",
    "GradientAggregation",
    "IMTLG",
    "IMTLL",
    "MGDA",
    "MoCo",
    "MoDo",
    "NashMTL",
    "PCGrad",
    "RLW",
    "SDMGrad",
    "STCH",
    "StaticWeighting",
    "UPGrad",
    "UncertaintyWeighting",
    "WeightConditioned",
    "WeightingStrategy",
    "conditioned",
]
