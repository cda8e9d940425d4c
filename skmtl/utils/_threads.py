"""How many intra-op threads torch uses in a fit or predict: the worker's share of the cores.

torch's intra-op thread pool defaults to every core of the machine in every
process. Two joblib (loky) or Dask worker processes on two cores would then
run four busy threads on two cores, and torch's threads spin while they wait.
Every skmtl ``fit`` and ``predict`` runs inside :func:`torch_threads`, which
sets the count to :func:`worker_num_threads` for the call and restores it
afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from contextlib import contextmanager

import torch

__all__ = ["torch_threads", "worker_num_threads"]

#: Environment variable that fixes the thread count of every skmtl fit and predict.
ENV_VAR = "SKMTL_NUM_THREADS"

# Threads inside an explicit ``torch_threads(n)``: the fits they run leave the count alone.
_explicit = threading.local()


def _positive_int(value: str | None, name: str, strict: bool) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n >= 1:
        return n
    if strict:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return None


def _in_dask_task() -> bool:
    """Whether this thread runs a task of a ``distributed`` worker (never imports it)."""
    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def worker_num_threads() -> int | None:
    """The intra-op thread count skmtl gives torch in this process, or None to leave it.

    In order:

    1. The environment variable ``SKMTL_NUM_THREADS`` (a positive integer),
       wherever it is set, main process included: the explicit override.
    2. Inside a task of a Dask (``distributed``) worker: 1. A worker runs
       ``nthreads`` tasks at a time, one per thread, on the ``nthreads`` cores
       it was given, so each task's share is one core; this is also what
       ``distributed`` gives NumPy (its nannies start workers with
       ``OMP_NUM_THREADS=1``, the ``distributed.nanny.pre-spawn-environ``
       setting). Set ``SKMTL_NUM_THREADS`` on the workers for several
       threads per fit (with fewer worker threads).
    3. In a worker process of joblib (loky, multiprocessing) or any other
       child process: ``OMP_NUM_THREADS`` when it is set. joblib's loky
       backend sets it in its workers to ``inner_max_num_threads`` of
       :func:`joblib.parallel_config`, or by default to
       ``max(1, cpu_count() // n_jobs)``.
    4. Otherwise (the main process): None; the count stays whatever it is
       (torch's default, ``torch.set_num_threads``, or
       :func:`threadpoolctl.threadpool_limits`, which limits torch's OpenMP
       pool too).

    Returns
    -------
    n_threads : int or None
        The number of threads, or None where skmtl leaves torch's setting as it is.

    Raises
    ------
    ValueError
        If ``SKMTL_NUM_THREADS`` is set to something other than a positive integer.
    """
    n = _positive_int(os.environ.get(ENV_VAR), ENV_VAR, strict=True)
    if n is not None:
        return n
    if _in_dask_task():
        return 1
    if multiprocessing.parent_process() is not None:
        return _positive_int(os.environ.get("OMP_NUM_THREADS"), "OMP_NUM_THREADS", strict=False)
    return None


@contextmanager
def torch_threads(n_threads: int | None = None):
    """Run a block with ``n_threads`` torch intra-op threads, then restore the count.

    skmtl's estimators run every ``fit``, ``partial_fit``, ``add_tasks`` and
    prediction inside ``torch_threads()``, with the count of
    :func:`worker_num_threads` (unchanged where that is None). Called with a
    number, it sets that count for the block, and the skmtl calls in the block
    (in the same thread) keep it, whatever :func:`worker_num_threads` says.

    ``torch.set_num_threads`` is not local to a call: it sets the count of
    the calling thread and of the threads that start using torch afterwards.
    Fits that run at the same time in threads of one process (joblib's
    ``threading`` backend, a Dask worker with several threads) share that
    setting; skmtl only ever sets the same count in all of them, so that is
    harmless, but do not give them different counts.

    Parameters
    ----------
    n_threads : int or None, default=None
        The thread count for the block; None uses :func:`worker_num_threads`.

    Yields
    ------
    n_threads : int
        The thread count in effect inside the block.

    Examples
    --------
    >>> import torch
    >>> from skmtl.utils import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    explicit = n_threads is not None
    if explicit:
        if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
            raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}.")
    elif getattr(_explicit, "depth", 0):
        yield torch.get_num_threads()
        return
    else:
        n_threads = worker_num_threads()
    previous = torch.get_num_threads()
    if n_threads is not None and n_threads != previous:
        torch.set_num_threads(n_threads)
    _explicit.depth = getattr(_explicit, "depth", 0) + explicit
    try:
        yield torch.get_num_threads()
    finally:
        _explicit.depth -= explicit
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
