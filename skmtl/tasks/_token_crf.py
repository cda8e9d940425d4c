"""Token-level tagging with a linear-chain CRF over the tags (Viterbi decoding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..heads import LinearChainCRF, TaskHead, bio_transition_mask, is_bio_tagset
from ._base import EncodedTarget
from ._token import TokenTask

__all__ = ["TokenCRFHead", "TokenCRFTask"]


class TokenCRFHead(nn.Module):
    """Linear emission scores per token plus a :class:`skmtl.heads.LinearChainCRF`.

    ``forward(rep, mask)`` returns the padded emissions ``(B, T, C)``; the CRF's
    transition scores live in ``self.crf`` (parameters of this head), used by
    :meth:`TokenCRFTask.loss` and :meth:`TokenCRFTask.predict`.
    """

    def __init__(
        self,
        in_features: int,
        n_tags: int,
        allowed: np.ndarray | None = None,
        allowed_start: np.ndarray | None = None,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.emissions = TaskHead(in_features, n_tags, hidden_layer_sizes, activation, dropout)
        self.crf = LinearChainCRF(n_tags, allowed, allowed_start)

    def forward(self, rep: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.emissions(rep)


class TokenCRFTask(TokenTask):
    """A token task decoded as a whole sequence by a linear-chain CRF.

    Trained by each sentence's exact negative log-likelihood, divided by the
    number of tokens (the scale of :class:`TokenTask`'s mean cross-entropy);
    decoded by Viterbi. For an IOB2 tag set (``O``, ``B-X``, ``I-X``) decoding
    only allows valid transitions, so predicted spans are well formed; other
    tag sets allow every transition. :meth:`loss` and :meth:`predict` need the
    head (``head=``), which holds the CRF.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmtl.tasks import TokenCRFTask
    >>> task = TokenCRFTask.from_column("ner", [["B-PER", "I-PER", "O"], ["O"]])
    >>> head = task.make_head(4)
    >>> mask = torch.tensor([[True, True, True], [True, False, False]])
    >>> emissions = head(torch.randn(2, 3, 4), mask)
    >>> emissions.shape
    torch.Size([2, 3, 3])
    >>> task.predict(emissions, mask=mask, head=head).shape
    (4,)
    """

    type: ClassVar[str] = "token_crf"

    def decode(self, prediction, *, fill=None, **context):
        """As :meth:`TokenTask.decode`; tokens cut off by ``max_length`` get ``O`` when the
        tag set has it (the most frequent tag could be an ``I-`` tag, which would make
        an ill-formed span after the decoded part)."""
        if fill is None and is_bio_tagset(self.classes) and "O" in self.classes.tolist():
            fill = "O"
        return super().decode(prediction, fill=fill, **context)

    @classmethod
    def from_token_task(cls, task: TokenTask) -> TokenCRFTask:
        """The CRF variant of a fitted :class:`TokenTask` (same tags and columns)."""
        return cls(task.name, task.columns, task.classes, majority=task.majority)

    def transition_mask(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(allowed, allowed_start)`` of the decoder: IOB2 constraints, or (None, None)."""
        if is_bio_tagset(self.classes):
            return bio_transition_mask(self.classes)
        return None, None

    def make_head(
        self,
        in_features: int,
        *,
        hidden_layer_sizes: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> nn.Module:
        """A :class:`TokenCRFHead`: ``head(rep, mask)`` gives emissions ``(B, T, C)``."""
        allowed, start = self.transition_mask()
        return TokenCRFHead(
            in_features, self.n_outputs, allowed, start, hidden_layer_sizes, activation, dropout
        )

    def loss(
        self,
        output: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        *,
        class_weight: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> torch.Tensor:
        """Weighted sentences' negative log-likelihood per token over the labelled sentences.

        ``output``: emissions ``(B, T, C)``; ``target`` and ``weight``: flat per
        token ``(n_tokens,)`` in ``mask`` order. A sentence's weight is its
        tokens' largest weight; with unit weights the loss is
        ``sum(nll) / n_tokens`` over the sentences with a label.
        """
        crf = self._crf(head, mask)
        if class_weight is not None:
            raise ValueError(f"Task {self.name!r}: a CRF task takes no class_weight.")
        mask = mask.to(torch.bool)
        tags = torch.full(mask.shape, -1, dtype=torch.long, device=output.device)
        tags[mask] = target
        token_weight = torch.zeros(mask.shape, dtype=output.dtype, device=output.device)
        token_weight[mask] = weight.to(output.dtype) * (target >= 0).to(output.dtype)
        sentence_weight = token_weight.amax(dim=1)
        labelled = sentence_weight > 0
        if not bool(labelled.any()):
            return output.sum() * 0.0
        m = mask[labelled]
        nll = crf.neg_log_likelihood(output[labelled], tags[labelled], m)
        w = sentence_weight[labelled]
        return (w * nll).sum() / (w * m.sum(dim=1)).sum()

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """Viterbi tag codes, flat in ``mask`` order, int64 ``(n_tokens,)``."""
        crf = self._crf(head, mask)
        mask = mask.to(torch.bool)
        return crf.decode(output, mask)[mask].to("cpu", torch.int64).numpy()

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """None; a CRF task takes no class weights (a ValueError for any other spec)."""
        if spec is None:
            return None
        raise ValueError(
            f"class_weight for task {self.name!r}: a CRF task takes no class weights "
            f"(got {spec!r}); use a softmax token task for class weights."
        )

    def _crf(self, head, mask) -> LinearChainCRF:
        crf = getattr(head, "crf", None)
        if not isinstance(crf, LinearChainCRF):
            raise ValueError(
                f"Task {self.name!r}: a CRF task's loss and predict need head= (the module "
                "from make_head, which holds the CRF)."
            )
        if mask is None:
            raise ValueError(f"Task {self.name!r}: a CRF task's loss and predict need mask=.")
        return crf
