"""Small helpers shared across skmtl."""

from ._missing import is_missing, missing_mask
from ._tags import delegate_tags
from ._warnings import user_stacklevel

__all__ = ["delegate_tags", "is_missing", "missing_mask", "user_stacklevel"]
