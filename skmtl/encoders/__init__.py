"""Shared encoders (trunks) that turn an input batch into a representation."""

from ._layers import SparseAwareLinear, SparseRows
from ._mlp import MLPTrunk

__all__ = ["MLPTrunk", "SparseAwareLinear", "SparseRows"]
