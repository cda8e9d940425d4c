"""Task-specific heads: one per task, chosen by task type."""

from ._crf import LinearChainCRF, bio_transition_mask, is_bio_tagset
from ._decoder import GRUDecoder, Memory, TransformerDecoder, sinusoidal_positions
from ._generation import GenerationHead
from ._heads import TaskHead, head_output_to_numpy, masked_task_loss
from ._search import beam_search, greedy_search

__all__ = [
    "GRUDecoder",
    "GenerationHead",
    "Memory",
    "TransformerDecoder",
    "beam_search",
    "greedy_search",
    "sinusoidal_positions",
    "LinearChainCRF",
    "TaskHead",
    "bio_transition_mask",
    "head_output_to_numpy",
    "is_bio_tagset",
    "masked_task_loss",
]
