"""Input layers that take dense or sparse feature batches."""

from __future__ import annotations

import ctypes
import functools
import math
import sys
import weakref
from typing import NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.weak import WeakIdKeyDictionary

__all__ = [
    "AUTO_ROWS_PER_NONZERO",
    "LazyRowOwner",
    "SparseRows",
    "SparseAwareLinear",
    "advise_huge_pages",
    "lazy_row_owner",
    "prepare_features",
    "register_lazy_rows",
    "to_batch",
]


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


_HUGE_PAGE = 2 << 20
_MIN_HUGE_BYTES = 64 << 20
_MADV_HUGEPAGE = 14


@functools.lru_cache(maxsize=1)
def _madvise():
    """libc's ``madvise`` where Linux gives transparent huge pages on request, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            if "[madvise]" not in f.read():  # [always]: already; [never]: not at all
                return None
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    return madvise


def advise_huge_pages(t: torch.Tensor) -> torch.Tensor:
    """Ask Linux to back a large CPU tensor with transparent huge pages; returns ``t``.

    Call it before the tensor is first written (``torch.empty``): the pages are
    then faulted in 2 MB at a time. Random row access to a table of gigabytes
    (the first layer over millions of features, and its Adam moments) then
    misses the TLB far less often: a sparse step over 10M x 64 features takes
    about a third less time. A no-op elsewhere (other systems, tensors under
    64 MB, huge pages off or already always on).
    """
    size = t.numel() * t.element_size()
    if t.device.type != "cpu" or size < _MIN_HUGE_BYTES:
        return t
    madvise = _madvise()
    if madvise is not None:
        start = t.data_ptr()
        lo = -(-start // _HUGE_PAGE) * _HUGE_PAGE
        hi = (start + size) // _HUGE_PAGE * _HUGE_PAGE
        if hi > lo:
            madvise(lo, hi - lo, _MADV_HUGEPAGE)  # advice only: a failure changes nothing
    return t


class LazyRowOwner(Protocol):
    """What updates the rows of a weight lazily (:class:`skmtl.engine.SparseAdamW`).

    Such an owner takes row-sparse gradients and may leave rows of the weight
    behind (updates not yet applied): :meth:`read_rows` gives their
    up-to-date values. :class:`SparseAwareLinear` gives row-sparse gradients
    only to a weight that has an owner.
    """

    def read_rows(self, param: torch.Tensor, rows: torch.Tensor) -> torch.Tensor | None:
        """The up-to-date values of the rows ``rows`` (None: the stored ones are)."""

    def flush(self, params=None) -> None:
        """Bring every row of ``params`` (None: all the owner's parameters) up to date."""


# weight -> weakref to its LazyRowOwner; keyed by identity (a tensor's == is elementwise).
_LAZY_OWNERS = WeakIdKeyDictionary()


def register_lazy_rows(param: torch.Tensor, owner: LazyRowOwner) -> None:
    """Record that ``owner`` updates the rows of ``param`` (the last owner wins).

    Neither is kept alive by the record.
    """
    ref = _LAZY_OWNERS.get(param)
    if ref is None or ref() is not owner:
        _LAZY_OWNERS[param] = weakref.ref(owner)


def lazy_row_owner(param: torch.Tensor) -> LazyRowOwner | None:
    """The live owner registered for ``param`` by :func:`register_lazy_rows`, or None."""
    ref = _LAZY_OWNERS.get(param)
    return None if ref is None else ref()


class _SparseProduct(torch.autograd.Function):
    """``x @ weight`` for a :class:`SparseRows` batch, with a row-sparse gradient.

    The batch's rows of ``weight`` are read at their up-to-date values,
    ``owner.read_rows(weight, rows)`` (the stored rows when it gives None, or
    without an owner), into a small table that ``F.embedding_bag`` reads. The
    gradient with respect to ``weight`` is a row-sparse COO tensor over those
    rows (sorted and unique): the gradient at the up-to-date values, which are
    the weight's values for everything but storage. The table is not kept
    for the backward pass (it may be the owner's reused buffer).
    """

    @staticmethod
    def forward(ctx, weight, indices, offsets, values, owner):
        rows, local = torch.unique(indices, sorted=True, return_inverse=True)
        table = owner.read_rows(weight, rows) if owner is not None else None
        if table is None:
            table = weight.index_select(0, rows)
        offsets = offsets.to(local.dtype)
        ctx.shape = weight.shape
        ctx.save_for_backward(rows, local, offsets, values)
        return F.embedding_bag(local, table, offsets, mode="sum", per_sample_weights=values)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        rows, local, offsets, values = ctx.saved_tensors
        # Non-zero k of row b adds values[k] * grad_out[b] to its table row local[k].
        ends = torch.cat([offsets[1:], offsets.new_tensor([local.numel()])])
        bag = torch.repeat_interleave(ends - offsets)  # the batch row of each non-zero
        part = grad_out.index_select(0, bag).mul_(values.to(grad_out.dtype).unsqueeze(1))
        grad = grad_out.new_zeros((rows.numel(),) + tuple(ctx.shape[1:]))
        grad.index_add_(0, local, part)
        sparse = torch.sparse_coo_tensor(
            rows.unsqueeze(0),
            grad,
            ctx.shape,
            check_invariants=False,  # unique rows in range by construction
            is_coalesced=True,
        )
        return sparse, None, None, None, None


# With "auto", a sparse batch gives a row-sparse gradient when the weight has at least
# this many rows per non-zero of the batch: below it the dense gradient and fused
# AdamW step over the whole weight are faster than the random row accesses of the
# sparse ones (measured on CPU, see benchmarks/bench_scale.py).
AUTO_ROWS_PER_NONZERO = 16


class SparseAwareLinear(nn.Module):
    """``x @ W + b`` for a dense tensor or a :class:`SparseRows` batch.

    A :class:`SparseRows` batch is computed as ``F.embedding_bag`` over the
    rows of ``W`` of its non-zero features, never densified. When training
    with an optimiser that takes row-sparse gradients
    (:class:`skmtl.engine.SparseAdamW`, which skmtl's estimators use), the
    gradient of ``W`` on such a batch is a row-sparse COO tensor holding only
    the batch's rows, so the step costs the batch's non-zeros, not
    ``in_features`` (see ``sparse_gradients``); otherwise, and for a dense
    batch, ``W`` gets the usual dense gradient.

    Such an optimiser may leave rows of ``W`` behind (the weight decay of the
    steps that did not touch them): the layer reads a sparse batch's rows up
    to date, and brings all of ``W`` up to date (the optimiser's ``flush``)
    before a dense read: a dense batch, :meth:`state_dict`,
    :meth:`load_state_dict`, and whenever the module switches between
    training and evaluation mode (``train()``/``eval()``, which the engine
    calls at each epoch and at the end of ``fit``). Code that reads ``W``
    directly in the middle of training calls the optimiser's ``flush()``
    first.

    Attributes
    ----------
    sparse_gradients : {"auto", True, False}
        When a sparse batch gives ``W`` a row-sparse gradient (a class
        attribute; set it on an instance or the class to change it).
        ``"auto"`` (default): when ``in_features`` is at least
        :data:`AUTO_ROWS_PER_NONZERO` (16) times the batch's non-zeros;
        True: always; False: never (the dense gradient).
        Either way only with an optimiser that takes them.
    """

    sparse_gradients: bool | str = "auto"

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(advise_huge_pages(torch.empty(in_features, out_features)))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1.0 / math.sqrt(max(in_features, 1))
        nn.init.uniform_(self.weight, -bound, bound)  # as nn.Linear's default
        nn.init.uniform_(self.bias, -bound, bound)
        self.register_state_dict_pre_hook(_flush_before_io)
        self._register_load_state_dict_pre_hook(_flush_before_load, with_module=True)

    def flush_weight(self) -> None:
        """Bring every row of ``weight`` up to date (a no-op unless updated lazily)."""
        owner = lazy_row_owner(self.weight)
        if owner is not None:
            owner.flush([self.weight])

    def train(self, mode: bool = True) -> SparseAwareLinear:
        self.flush_weight()
        return super().train(mode)

    def _sparse_gradient(self, x: SparseRows) -> bool:
        """Whether this batch gives ``weight`` a row-sparse gradient (given an owner)."""
        mode = self.sparse_gradients
        if not (isinstance(mode, (bool, np.bool_)) or (isinstance(mode, str) and mode == "auto")):
            raise ValueError(
                f"SparseAwareLinear.sparse_gradients must be 'auto', True or False, got {mode!r}."
            )
        if not (mode and self.weight.requires_grad and torch.is_grad_enabled()):
            return False
        if not isinstance(mode, str):  # True
            return True
        return self.in_features >= AUTO_ROWS_PER_NONZERO * x.indices.numel()

    def forward(self, x) -> torch.Tensor:
        owner = lazy_row_owner(self.weight)
        if isinstance(x, SparseRows):
            if owner is not None and self._sparse_gradient(x):
                out = _SparseProduct.apply(self.weight, x.indices, x.offsets, x.values, owner)
            else:
                if owner is not None:
                    owner.flush([self.weight])
                out = F.embedding_bag(
                    x.indices, self.weight, x.offsets, mode="sum", per_sample_weights=x.values
                )
            return out + self.bias
        if owner is not None:
            owner.flush([self.weight])
        return torch.addmm(self.bias, x, self.weight)


def _flush_before_io(module: SparseAwareLinear, prefix, keep_vars) -> None:
    module.flush_weight()


def _flush_before_load(module: SparseAwareLinear, *args) -> None:
    module.flush_weight()
