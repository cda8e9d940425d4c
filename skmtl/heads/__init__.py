"""Task-specific heads: one per task, chosen by task type."""

from ._heads import TaskHead, head_output_to_numpy, masked_task_loss

__all__ = ["TaskHead", "head_output_to_numpy", "masked_task_loss"]
