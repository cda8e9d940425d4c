"""Span-level and token-level scores for IOB2 sequence tagging (e.g. NER).

The span functions follow seqeval's *strict* IOB2 mode (``mode="strict",
scheme=IOB2``) exactly, without depending on seqeval:

- an entity of type ``X`` starts at a ``B-X`` tag and runs over the ``I-X`` tags
  that directly follow it;
- an ``I-X`` that does not continue a ``B-X``/``I-X`` run of the same type starts
  no entity and belongs to none (the lenient CoNLL convention would turn it into
  an entity; strict mode does not);
- a predicted entity is correct only if its type, start and end all match a true
  entity.

Sentences whose truth is ``None`` (a missing label, see
:func:`skmtl.utils.is_missing`) are skipped by every scorer here.

Examples
--------
>>> from skmtl._spans import spans, span_scores, token_accuracy
>>> spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
[('PER', 0, 2), ('LOC', 4, 5)]
>>> y_true = [["B-PER", "I-PER", "O"], ["B-LOC", "O"], None]
>>> y_pred = [["B-PER", "I-PER", "O"], ["B-ORG", "O"], ["O"]]
>>> s = span_scores(y_true, y_pred)
>>> s["precision"], s["recall"], s["f1"], s["support"]
(0.5, 0.5, 0.5, 2)
>>> s["per_type"]["PER"]
{'precision': 1.0, 'recall': 1.0, 'f1': 1.0, 'support': 1}
>>> token_accuracy(y_true, y_pred)
0.8
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .utils import is_missing

__all__ = ["spans", "span_scores", "token_accuracy"]


def _parse(tag: object, position: int) -> tuple[str, str | None]:
    """Split an IOB2 tag into (prefix, type); raise a ValueError if it is not IOB2."""
    if tag == "O":
        return "O", None
    if isinstance(tag, str) and len(tag) > 2 and tag[0] in "BI" and tag[1] == "-":
        return tag[0], tag[2:]
    raise ValueError(
        f"invalid IOB2 tag {tag!r} at position {position}: expected 'O', 'B-<type>' or 'I-<type>'."
    )


def spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one IOB2 tag sequence, in strict mode.

    Parameters
    ----------
    tags : sequence of str
        One tag per token: ``"O"``, ``"B-<type>"`` or ``"I-<type>"``.

    Returns
    -------
    entities : list of (type, start, end)
        In order of ``start``; ``end`` is exclusive (``tags[start:end]`` is the
        entity). An ``I-X`` that does not continue a ``B-X``/``I-X`` run starts
        no entity (seqeval strict mode).

    Raises
    ------
    ValueError
        If a tag is not ``"O"``, ``"B-<type>"`` or ``"I-<type>"``.

    Examples
    --------
    >>> spans(["B-PER", "I-PER", "O", "B-LOC", "I-ORG", "I-ORG"])
    [('PER', 0, 2), ('LOC', 3, 4)]
    """
    out: list[tuple[str, int, int]] = []
    current: str | None = None  # type of the open entity
    start = 0
    for i, tag in enumerate(tags):
        prefix, typ = _parse(tag, i)
        if prefix == "I" and typ == current:
            continue
        if current is not None:
            out.append((current, start, i))
            current = None
        if prefix == "B":
            current, start = typ, i
    if current is not None:
        out.append((current, start, len(tags)))
    return out


def _pairs(y_true: Iterable, y_pred: Iterable) -> list[tuple[int, list, list]]:
    """Check and pair up the sentences; drop those whose truth is missing."""
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred hold different numbers of sentences: "
            f"{len(y_true)} and {len(y_pred)}."
        )
    pairs = []
    for k, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        if is_missing(t):  # None, NaN or pd.NA: an unlabelled sentence
            continue
        if p is None:
            raise ValueError(f"sentence {k}: the prediction is None but the truth is not.")
        t, p = list(t), list(p)
        if len(t) != len(p):
            raise ValueError(
                f"sentence {k}: y_true has {len(t)} tags but y_pred has {len(p)}; "
                "the sequences must have the same length."
            )
        pairs.append((k, t, p))
    return pairs


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    denom = precision + recall
    f1 = 2 * precision * recall / denom if denom else 0.0
    return precision, recall, f1


def span_scores(y_true: Iterable, y_pred: Iterable) -> dict:
    """Entity-level precision, recall and F1 (strict IOB2, like seqeval).

    Parameters
    ----------
    y_true, y_pred : iterable of sequences of str
        One IOB2 tag sequence per sentence. A sentence whose truth is ``None``
        is skipped (missing label); its prediction is not looked at.

    Returns
    -------
    scores : dict
        ``precision``, ``recall``, ``f1`` (micro averages over all entities),
        ``support`` (number of true entities) and ``per_type``: a dict from
        entity type (every type found in the truth or the predictions, sorted)
        to a dict with ``precision``, ``recall``, ``f1`` and ``support``. A
        ratio with a zero denominator is 0.0 (seqeval's ``zero_division``
        default, without the warning).

    Raises
    ------
    ValueError
        If the numbers of sentences differ, a sentence's sequences have
        different lengths (the message names the sentence index), a prediction
        is None where the truth is not, or a tag is not IOB2.
    """
    true_count: Counter = Counter()
    pred_count: Counter = Counter()
    tp_count: Counter = Counter()
    for k, t, p in _pairs(y_true, y_pred):
        try:
            true_spans, pred_spans = set(spans(t)), set(spans(p))
        except ValueError as exc:
            raise ValueError(f"sentence {k}: {exc}") from None
        true_count.update(s[0] for s in true_spans)
        pred_count.update(s[0] for s in pred_spans)
        tp_count.update(s[0] for s in true_spans & pred_spans)
    per_type = {}
    for typ in sorted(set(true_count) | set(pred_count)):
        p, r, f = _prf(tp_count[typ], pred_count[typ], true_count[typ])
        per_type[typ] = {"precision": p, "recall": r, "f1": f, "support": true_count[typ]}
    n_true = sum(true_count.values())
    p, r, f = _prf(sum(tp_count.values()), sum(pred_count.values()), n_true)
    return {"precision": p, "recall": r, "f1": f, "support": n_true, "per_type": per_type}


def token_accuracy(y_true: Iterable, y_pred: Iterable) -> float:
    """Fraction of tokens whose predicted tag equals the true tag.

    Sentences whose truth is ``None`` are skipped. Works for any tag set
    (POS tags, IOB2 tags, ...). Returns NaN when no token is labelled.

    Parameters
    ----------
    y_true : iterable of list of str or None
        The true tags of each sentence (None: an unlabelled sentence).
    y_pred : iterable of list of str
        The predicted tags, one list per sentence, of the same lengths.

    Raises
    ------
    ValueError
        If the numbers of sentences differ, a sentence's sequences have
        different lengths (the message names the sentence index), or a
        prediction is None where the truth is not.
    """
    correct = total = 0
    for _, t, p in _pairs(y_true, y_pred):
        correct += sum(a == b for a, b in zip(t, p, strict=True))
        total += len(t)
    return correct / total if total else float("nan")
