"""A linear-chain conditional random field head for tagging tasks.

Lafferty, McCallum and Pereira (2001), "Conditional Random Fields: Probabilistic
Models for Segmenting and Labeling Sequence Data"; the neural form (emission
scores from an encoder plus a learned tag-transition matrix) follows Lample et
al. (2016), "Neural Architectures for Named Entity Recognition".

Why our own ~150 lines and not a library: ``pytorch-crf`` (the usual choice)
has had no release since 2019 and cannot forbid transitions, and AllenNLP's
``ConditionalRandomField`` (which can) comes with an archived framework. Here
training is the exact negative log-likelihood (forward algorithm, batched over
sentences and tags, one step per time position), and decoding is Viterbi with
*hard* constraints: for IOB2 tag sets, ``I-X`` may only follow ``B-X`` or
``I-X`` and may not start a sentence, so every decoded sequence is valid BIO.
Training is left unconstrained so that an annotation error in the gold data
(an ``I-X`` after ``O``) gives a finite loss rather than ``inf``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["LinearChainCRF", "bio_transition_mask", "is_bio_tagset"]

_BIO = re.compile(r"^([BI])-(.+)$")
_NEG = -1e4  # a transition score that no path survives, finite to keep gradients clean


def is_bio_tagset(labels: Sequence[object]) -> bool:
    """Whether every label is ``"O"``, ``"B-<type>"`` or ``"I-<type>"``, one is not ``O``,
    and a sentence can start (an ``O`` or a ``B-`` tag is among them)."""
    labels = [str(label) for label in labels]
    # a set of I- tags alone (no O, no B-) has no valid IOB2 sentence start
    can_start = any(label == "O" or label.startswith("B-") for label in labels)
    return (
        can_start
        and any(label != "O" for label in labels)
        and all(label == "O" or _BIO.match(label) for label in labels)
    )


def bio_transition_mask(labels: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Allowed IOB2 transitions: ``(allowed[i, j] for label i -> j, allowed_start[j])``.

    ``I-X`` may follow only ``B-X`` or ``I-X`` and may not start a sentence;
    every other transition is allowed. Labels that are not BIO are unconstrained.

    Examples
    --------
    >>> allowed, start = bio_transition_mask(["B-PER", "I-PER", "O"])
    >>> allowed.astype(int)
    array([[1, 1, 1],
           [1, 1, 1],
           [1, 0, 1]])
    >>> start.astype(int)
    array([1, 0, 1])
    """
    parsed = [_BIO.match(str(label)) for label in labels]
    n = len(parsed)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    for j, to in enumerate(parsed):
        if to is None or to.group(1) != "I":
            continue
        start[j] = False
        for i, frm in enumerate(parsed):
            allowed[i, j] = frm is not None and frm.group(2) == to.group(2)
    return allowed, start


class LinearChainCRF(nn.Module):
    """Tag-transition scores and the CRF likelihood / Viterbi decoder over emissions.

    Parameters
    ----------
    n_tags : int
    allowed : ndarray of bool, shape (n_tags, n_tags), default=None
        Transitions allowed at decoding time (None: all).
    allowed_start : ndarray of bool, shape (n_tags,), default=None
        Tags allowed at the first position (None: all).
    """

    def __init__(self, n_tags: int, allowed=None, allowed_start=None):
        super().__init__()
        self.n_tags = int(n_tags)
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))
        allowed = np.ones((n_tags, n_tags), bool) if allowed is None else np.asarray(allowed)
        allowed_start = np.ones(n_tags, bool) if allowed_start is None else allowed_start
        # Buffers: saved with the model and moved with it between devices.
        self.register_buffer("decode_bias", torch.from_numpy(np.where(allowed, 0.0, _NEG)).float())
        self.register_buffer(
            "start_bias", torch.from_numpy(np.where(allowed_start, 0.0, _NEG)).float()
        )

    def neg_log_likelihood(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Per-sentence negative log-likelihood, shape ``(B,)``.

        ``emissions`` (B, T, C); ``tags`` (B, T) long, valid where ``mask``;
        ``mask`` (B, T) bool, a prefix of each row (left-aligned sentences),
        each row with at least one True.
        """
        B, T, _ = emissions.shape
        tags = tags.clamp(min=0)
        maskf = mask.to(emissions.dtype)
        rows = torch.arange(B, device=emissions.device)
        # score of the gold path
        gold_emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        gold = self.start[tags[:, 0]] + (gold_emit * maskf).sum(1)
        if T > 1:
            trans = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
            gold = gold + (trans * maskf[:, 1:]).sum(1)
        last = mask.long().sum(1) - 1
        gold = gold + self.end[tags[rows, last]]
        # log partition by the forward algorithm
        alpha = self.start + emissions[:, 0]  # (B, C)
        for t in range(1, T):
            step = torch.logsumexp(
                alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1
            )
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        return log_z - gold

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best valid tag sequence of each sentence (Viterbi), shape ``(B, T)``; 0 on padding."""
        B, T, C = emissions.shape
        transitions = self.transitions + self.decode_bias
        score = self.start + self.start_bias + emissions[:, 0]
        backpointers = []
        for t in range(1, T):
            candidates = score.unsqueeze(2) + transitions  # (B, from, to)
            best, arg = candidates.max(dim=1)
            step = best + emissions[:, t]
            on = mask[:, t].unsqueeze(1)
            score = torch.where(on, step, score)
            # past the end of a sentence, point each tag to itself so the path stays put
            keep = torch.arange(C, device=emissions.device).expand(B, C)
            backpointers.append(torch.where(on, arg, keep))
        best_last = (score + self.end).argmax(dim=1)
        path = [best_last]
        for pointers in reversed(backpointers):
            path.append(pointers.gather(1, path[-1].unsqueeze(1)).squeeze(1))
        path.reverse()
        out = torch.stack(path, dim=1)
        return out.masked_fill(~mask, 0)
