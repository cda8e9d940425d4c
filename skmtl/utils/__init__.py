"""Small helpers shared across skmtl."""

from ._missing import is_missing, missing_mask
from ._pipeline import final_step
from ._tags import delegate_tags
from ._threads import torch_threads, worker_num_threads
from ._warnings import user_stacklevel

__all__ = [
    "delegate_tags",
    "final_step",
    "is_missing",
    "missing_mask",
    "torch_threads",
    "user_stacklevel",
    "worker_num_threads",
]
