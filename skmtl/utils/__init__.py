"""Small helpers shared across skmtl."""

from ._missing import is_missing, missing_mask
from ._warnings import user_stacklevel

__all__ = ["is_missing", "missing_mask", "user_stacklevel"]
