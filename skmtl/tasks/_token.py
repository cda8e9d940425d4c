"""Token-level tagging: one softmax label per token of a sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from ..heads import TaskHead
from ..utils import is_missing, missing_mask
from ._base import EncodedTarget
from ._cells import as_column, is_tag_sequence
from ._task import Task

__all__ = ["TokenHead", "TokenTask"]


class TokenHead(nn.Module):
    """A :class:`skmtl.heads.TaskHead` applied to every unpadded token vector.

    ``forward(rep, mask)``: ``rep`` ``(B, T, D)``, ``mask`` ``(B, T)`` bool;
    returns logits ``(n_tokens, C)`` in the row-major order of ``rep[mask]``
    (the flat token order of the encoded targets).
    """

    def __init__(
        self,
        in_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.head = TaskHead(in_features, n_outputs, hidden_layer_sizes, activation, dropout)

    def forward(self, rep: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(rep[mask.to(torch.bool)])


class TokenTask(Task):
    """One label (tag) per token: UPOS, NER, ... Each cell is a sentence's tag list.

    A cell is a list (tuple, array) with one tag per token, or missing (None)
    for a sentence without annotation. Targets are flat: one code per kept
    token, all sentences concatenated, with ``offsets`` marking sentences.
    The head is linear over each token vector; the loss is the mean
    cross-entropy over the batch's labelled tokens.

    Attributes
    ----------
    classes : ndarray of object
        The tags, sorted.
    majority : int
        Code of the most frequent training tag: :meth:`decode` gives it to the
        tokens of a sentence cut by the encoder's ``max_length``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import TokenTask
    >>> Y = [["DET", "NOUN"], None, ["PRON", "VERB", "NOUN"]]
    >>> task = TokenTask.from_column("pos", Y)
    >>> task
    TokenTask(name='pos', columns=['pos'], classes=['DET', 'NOUN', 'PRON', 'VERB'], n_outputs=4)
    >>> enc = task.encode(Y, lengths=np.array([2, 1, 2]), full_lengths=np.array([2, 1, 3]))
    >>> enc.target.tolist(), enc.offsets.tolist()
    ([0, 1, -1, 2, 3], [0, 2, 3, 5])
    >>> task.decode(np.array([0, 1, 1, 2, 3]), lengths=[2, 1, 2], full_lengths=[2, 1, 3])
    [['DET', 'NOUN'], ['NOUN'], ['PRON', 'VERB', 'NOUN']]
    """

    type: ClassVar[str] = "token"
    level: ClassVar[str] = "token"
    default_metric: ClassVar[str] = "token_accuracy"
    is_classification: ClassVar[bool] = False

    def __init__(
        self, name: str, columns: list | None, classes: np.ndarray, *, majority: int = 0
    ) -> None:
        super().__init__(name, columns, np.asarray(classes, dtype=object), len(classes))
        self.majority = int(majority)

    @classmethod
    def from_column(
        cls, name: str, column: Any, columns: list | None = None, **options
    ) -> TokenTask:
        """Learn the sorted tag set (and the most frequent tag) of a column of tag lists."""
        cells = as_column(column, f"Y[{name!r}]")
        counts: Counter = Counter()
        n_labelled = 0
        for i, cell in enumerate(cells):
            if is_missing(cell):
                continue
            tags = _tags(name, i, cell)
            try:
                counts.update(tags)
            except TypeError:
                raise ValueError(
                    f"Y[{name!r}][{i}] holds an unhashable tag: {cell!r:.80}."
                ) from None
            n_labelled += 1
        if not n_labelled:
            raise ValueError(f"Task {name!r} has no labelled sentence (every cell is missing).")
        if not counts:
            raise ValueError(f"Task {name!r} has no tag: every labelled sentence is empty.")
        try:
            classes = sorted(counts)
        except TypeError:
            raise ValueError(f"Task {name!r} has labels of mixed, unorderable types.") from None
        majority = int(np.argmax([counts[c] for c in classes]))
        return cls(name, columns, np.array(classes, dtype=object), majority=majority)

    def encode(
        self,
        column: Any,
        *,
        check_unseen: bool = False,
        lengths: Sequence[int] | None = None,
        full_lengths: Sequence[int] | None = None,
        **context,
    ) -> EncodedTarget:
        """Flat tag codes of the kept tokens (-1: unlabelled sentence), with ``offsets``.

        Parameters
        ----------
        column : sequence of tag lists or None
        check_unseen : bool, default=False
            Raise on tags never seen in fit (else they get code -1: not trained).
        lengths : array-like of int, shape (n,)
            Tokens kept per sentence (after the encoder's ``max_length``).
        full_lengths : array-like of int, shape (n,), default=None
            Tokens per sentence before truncation (None: ``lengths``); each tag
            list must have exactly this many tags.
        """
        name = self.name
        if lengths is None:
            raise ValueError(f"Task {name!r} is token-level: encode needs lengths= per sentence.")
        lengths = np.asarray(lengths, dtype=np.int64)
        full = lengths if full_lengths is None else np.asarray(full_lengths, dtype=np.int64)
        cells = as_column(column, f"Y[{name!r}]")
        if len(cells) != len(lengths):
            raise ValueError(
                f"Y[{name!r}] has {len(cells)} rows but X has {len(lengths)} sentences; "
                "they must match."
            )
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes = np.full(int(offsets[-1]), -1, dtype=np.int64)
        labelled = np.zeros(len(cells), dtype=bool)
        flat, positions = [], []
        for i, cell in enumerate(cells):
            if is_missing(cell):
                continue
            tags = _tags(name, i, cell)
            if len(tags) != full[i]:
                raise ValueError(
                    f"Y[{name!r}][{i}] has {len(tags)} tags but sentence X[{i}] has "
                    f"{full[i]} tokens; they must be equal."
                )
            labelled[i] = True
            flat.extend(tags[: lengths[i]])
            positions.append(np.arange(offsets[i], offsets[i] + lengths[i]))
        if flat:
            found = pd.Index(self.classes).get_indexer(pd.Index(flat, dtype=object))
            if check_unseen and (found < 0).any():
                bad = sorted({str(flat[k]) for k in np.flatnonzero(found < 0)[:1000]})
                raise ValueError(f"Task {name!r} has labels never seen in fit: {bad[:10]}.")
            codes[np.concatenate(positions)] = found
        return EncodedTarget(codes, labelled, offsets)

    def decode(
        self,
        prediction: np.ndarray,
        *,
        threshold=0.5,
        lengths: Sequence[int] | None = None,
        full_lengths: Sequence[int] | None = None,
        fill: object = None,
        **context,
    ) -> list[list]:
        """Flat codes (from :meth:`predict`) back to one tag list per sentence.

        A sentence with ``full_lengths[i] > lengths[i]`` (cut by ``max_length``)
        gets ``fill`` (default: the most frequent training tag) for its extra tokens.
        """
        if lengths is None:
            raise ValueError(f"Task {self.name!r} is token-level: decode needs lengths=.")
        lengths = np.asarray(lengths, dtype=np.int64)
        full = lengths if full_lengths is None else np.asarray(full_lengths, dtype=np.int64)
        labels = self.classes[np.asarray(prediction, dtype=np.int64)]
        fill = self.classes[self.majority] if fill is None else fill
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        out = []
        for i in range(len(lengths)):
            tags = labels[offsets[i] : offsets[i + 1]].tolist()
            if full[i] > lengths[i]:
                tags.extend([fill] * int(full[i] - lengths[i]))
            out.append(tags)
        return out

    def make_head(
        self,
        in_features: int,
        *,
        hidden_layer_sizes: tuple[int, ...] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> nn.Module:
        """A :class:`TokenHead`: ``head(rep, mask)`` gives flat logits ``(n_tokens, C)``."""
        return TokenHead(in_features, self.n_outputs, hidden_layer_sizes, activation, dropout)

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
        """Weighted mean cross-entropy over the labelled tokens (``target`` -1: unlabelled).

        ``output`` ``(n_tokens, C)``, ``target`` and ``weight`` ``(n_tokens,)``
        (see :meth:`EncodedTarget.element_weight`).
        """
        per_token = F.cross_entropy(
            output, target.clamp(min=0), weight=class_weight, reduction="none"
        )
        return self.weighted_mean(per_token, weight * (target >= 0).to(weight.dtype))

    def predict(
        self,
        output: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        head: nn.Module | None = None,
    ) -> np.ndarray:
        """The best tag code of each flat token, int64 ``(n_tokens,)``."""
        return output.argmax(dim=-1).detach().to("cpu", torch.int64).numpy()

    def class_weights(self, spec: Any, encoded: EncodedTarget) -> np.ndarray | None:
        """Per-tag weights: None, ``"balanced"`` (over labelled tokens) or ``{tag: weight}``."""
        if spec is None:
            return None
        if isinstance(spec, str) and spec == "balanced":
            w = self.balanced_weights(encoded.target[encoded.target >= 0])
        else:
            w = self.label_weights(spec)
        return np.asarray(w, dtype=np.float32)

    def score(
        self,
        encoded: EncodedTarget,
        prediction: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        threshold=0.5,
    ) -> float:
        """Token accuracy over the labelled tokens (``sample_weight`` per sentence)."""
        pred = np.asarray(prediction)
        pred = pred.argmax(axis=1) if pred.ndim == 2 else pred
        ok = encoded.target >= 0
        if not ok.any():
            return float("nan")
        correct = (pred == encoded.target)[ok]
        if sample_weight is None:
            return float(correct.mean())
        per_token = np.repeat(np.asarray(sample_weight, np.float64), np.diff(encoded.offsets))[ok]
        return float(np.average(correct, weights=per_token))


def _tags(name: str, i: int, cell: object) -> list:
    """The tag list of labelled cell ``i``; a scalar cell or a missing tag raises."""
    if not is_tag_sequence(cell):
        raise ValueError(
            f"Y[{name!r}][{i}] is a {type(cell).__name__}, but {name!r} is a "
            "token-level task: each cell must be a list of tags or None."
        )
    tags = list(cell)
    holes = np.flatnonzero(missing_mask(tags)) if tags else ()
    if len(holes):
        raise ValueError(
            f"Y[{name!r}][{i}][{holes[0]}] is a missing tag ({tags[holes[0]]!r}); tag every "
            "token of a labelled sentence, or make the whole cell None."
        )
    return tags
