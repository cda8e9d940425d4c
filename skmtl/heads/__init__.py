"""Task-specific heads: one per task, chosen by task type."""

from ._crf import LinearChainCRF, bio_transition_mask, is_bio_tagset
from ._heads import TaskHead, head_output_to_numpy, masked_task_loss

__all__ = [
    "LinearChainCRF",
    "TaskHead",
    "bio_transition_mask",
    "head_output_to_numpy",
    "is_bio_tagset",
    "masked_task_loss",
]
