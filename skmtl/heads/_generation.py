"""The head of a generation task: a (possibly shared) decoder over the encoder's tokens."""

from __future__ import annotations

import torch
from torch import nn

from ._decoder import Memory
from ._search import beam_search

__all__ = ["GenerationHead"]


class GenerationHead(nn.Module):
    """``head(rep, mask)`` -> :class:`Memory`; the task's loss and search run the decoder.

    Parameters
    ----------
    decoder : nn.Module
        A :class:`TransformerDecoder` or :class:`GRUDecoder`. The same module
        may serve several heads (a shared decoder); each head then tells it its
        task by a learned task embedding added to every target position.
    in_features : int
        Width of the token vectors the head reads; projected to the decoder's
        width when they differ.
    task_embedding : bool, default=False
        Learn a task vector (a shared decoder's task signal).
    """

    def __init__(self, decoder: nn.Module, in_features: int, task_embedding: bool = False):
        super().__init__()
        self.decoder = decoder
        d = decoder.d_model
        self.project = nn.Identity() if in_features == d else nn.Linear(in_features, d)
        self.task_vector = nn.Parameter(torch.zeros(d)) if task_embedding else None

    def forward(self, rep: torch.Tensor, mask: torch.Tensor) -> Memory:
        return Memory(self.project(rep), mask)

    def teacher_forced(self, memory: Memory, inputs: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, L, V)`` of the next subword at each position of ``inputs``."""
        return self.decoder(memory, inputs, self.task_vector)

    def generate(
        self,
        memory: Memory,
        *,
        bos_id: int,
        eos_id: int,
        max_new_tokens: int,
        beam_size: int = 1,
        length_penalty: float = 1.0,
    ) -> torch.Tensor:
        """Generated ids ``(B, L)`` (EOS included, -1 after it); greedy when ``beam_size == 1``."""
        return beam_search(
            self.decoder,
            memory,
            bos_id=bos_id,
            eos_id=eos_id,
            max_new_tokens=max_new_tokens,
            beam_size=beam_size,
            length_penalty=length_penalty,
            task_vector=self.task_vector,
        )
