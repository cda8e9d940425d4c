"""Input layers that take dense or sparse feature batches."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SparseRows", "SparseAwareLinear", "prepare_features", "to_batch"]


class SparseRows(NamedTuple):
    """A CSR batch as the three arrays ``F.embedding_bag`` takes.

    The sparse matrix is never densified: the first layer is the sum of the
    weight rows of the non-zero features, scaled by their values.
    """

    indices: torch.Tensor
    offsets: torch.Tensor
    values: torch.Tensor

    @property
    def n_rows(self) -> int:
        return self.offsets.shape[0]

    def to(self, device, non_blocking: bool = False) -> SparseRows:
        return SparseRows(*(t.to(device, non_blocking=non_blocking) for t in self))


def to_batch(X, start: int, stop: int):
    """Rows ``start:stop`` of a CSR matrix or dense array as tensors (no copy of the rest)."""
    if sp.issparse(X):
        lo, hi = X.indptr[start], X.indptr[stop]
        offsets = X.indptr[start:stop] - lo
        return SparseRows(
            torch.from_numpy(X.indices[lo:hi]),
            torch.from_numpy(offsets.astype(X.indices.dtype, copy=False)),
            torch.from_numpy(X.data[lo:hi]),
        )
    return torch.from_numpy(X[start:stop])


_F32_MAX = float(np.finfo(np.float32).max)


def _check_overflow(source) -> None:
    """ValueError if finite values of ``source`` (cast to float32: infinite) exceed float32."""
    source = np.asarray(source)
    if source.dtype.kind != "f" or source.size == 0:
        return
    finite = source[np.isfinite(source)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    if largest > _F32_MAX:
        raise ValueError(
            f"X has values that overflow float32 (max |x| = {largest:.6g}; float32 holds "
            f"at most {_F32_MAX:.6g}); scale X, e.g. with sklearn.preprocessing.StandardScaler "
            "or MaxAbsScaler."
        )


def prepare_features(X):
    """float32 CSR (int64 or int32 indices kept consistent) or C-ordered float32 array.

    ``X`` itself is never modified: the result may share arrays with it, but a
    CSR matrix with unsorted indices is sorted in a copy. Raises ``ValueError``
    when finite values of ``X`` overflow float32 (``|x| > 3.4e38``).
    """
    if sp.issparse(X):
        with np.errstate(over="ignore"):
            out = sp.csr_matrix(X, dtype=np.float32)  # may share the caller's arrays
        if not np.isfinite(out.data).all():
            _check_overflow(sp.csr_matrix(X).data)
        if not out.has_sorted_indices:
            out = out.sorted_indices()  # sorts a copy of data, indices and indptr
        if out.indices.dtype != out.indptr.dtype:
            out.indices = out.indices.astype(np.int64)
            out.indptr = out.indptr.astype(np.int64)
        return out
    with np.errstate(over="ignore"):
        out = np.require(X, dtype=np.float32, requirements=["C", "W"])
    if not np.isfinite(out).all():
        _check_overflow(X)
    return out


class SparseAwareLinear(nn.Module):
    """``x @ W + b`` for a dense tensor or a :class:`SparseRows` batch."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1.0 / math.sqrt(max(in_features, 1))
        nn.init.uniform_(self.weight, -bound, bound)  # as nn.Linear's default
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x) -> torch.Tensor:
        if isinstance(x, SparseRows):
            out = F.embedding_bag(
                x.indices, self.weight, x.offsets, mode="sum", per_sample_weights=x.values
            )
            return out + self.bias
        return torch.addmm(self.bias, x, self.weight)
