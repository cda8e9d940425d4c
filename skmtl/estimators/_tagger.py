"""Token-level multi-task learning: one tagging head per task over a shared text encoder.

:class:`MultiTaskTagger` trains a :class:`~skmtl.encoders.TextEncoder` end to end
with one softmax head per *token-level* task (UPOS, XPOS, NER, ...) applied to
every token vector, plus optional *document-level* classification heads on the
pooled sentence vector. Missing labels (a ``None`` cell) are masked, so
partially annotated corpora train every task they have.

Pre-tokenized input (lists of words) is hashed exactly like raw text: each
sentence becomes ``spacy.tokens.Doc(nlp.vocab, words=words)`` (no re-tokenizing)
and its spaCy attributes are hashed with the encoder's seeds and table sizes.
"""

from __future__ import annotations

import copy
import math
import numbers
import time
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._history import History
from .._torch_base import EpochStats, TorchEstimatorMixin, rng_devices
from ..encoders._text import TextEncoder
from ..encoders._tokenize import (
    TokenizedTexts,
    _first_last_chars,
    _spacy_attr_ids,
    _split_long_runs,
    check_texts,
    hash_ids,
)
from ..heads import masked_task_loss
from ..heads._crf import LinearChainCRF, bio_transition_mask, is_bio_tagset
from ..weighting import EqualWeighting

__all__ = ["MultiTaskTagger"]

TOKEN, DOCUMENT = "token", "document"

# Sentences tokenized and encoded at a time by predict (bounds the memory).
_PREDICT_CHUNK = 4096
# Training batches are formed from chunks of this many batches, sorted by length.
_SORT_CHUNK_BATCHES = 50


# -- inputs ---------------------------------------------------------------------------


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return False


def _is_sequence(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, pd.Series))


def _as_rows(X, name: str) -> list:
    """A list of the rows of a list / ndarray / Series (not a single string)."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{name} must be a list of sentences (token lists or strings), got a single "
            f"{type(X).__name__}; wrap it in a list."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"{name} must be 1-D; got a DataFrame with {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    if isinstance(X, pd.Series):
        return X.tolist()
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype == object:
        return list(X)
    try:
        return list(X)
    except TypeError:
        raise ValueError(f"{name} must be a list of sentences, got {type(X).__name__}.") from None


def _check_sentences(X) -> tuple[list, bool]:
    """Validate X; return ``(rows, pretokenized)``.

    Pre-tokenized: every row is a list (tuple, array) of non-empty str tokens.
    Raw: every row is a str, tokenized by the encoder's spaCy tokenizer.
    """
    rows = _as_rows(X, "X")
    if not rows:
        raise ValueError("X contains no sentences; at least one is required.")
    pretokenized = not isinstance(rows[0], str)
    if not pretokenized:
        return check_texts(rows), False
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, str) or not _is_sequence(row):
            raise ValueError(
                f"X[{i}] is a {type(row).__name__} ({row!r:.50}); every sentence must be a "
                "list of str tokens (or every sentence a raw string), not a mix."
            )
        words = list(row)
        for j, word in enumerate(words):
            if not isinstance(word, str):
                raise ValueError(
                    f"X[{i}][{j}] is a {type(word).__name__} ({word!r:.50}), not a str; "
                    "tokens must be strings."
                )
            if not word or word.isspace():
                raise ValueError(
                    f"X[{i}][{j}] is an empty or whitespace-only token ({word!r}); spaCy "
                    "cannot represent it."
                )
        out.append([str(w) for w in words])
    return out, True


def _tokenize_words(encoder: TextEncoder, sentences: Sequence[Sequence[str]]) -> TokenizedTexts:
    """:class:`TokenizedTexts` of pre-tokenized sentences, hashed like ``encoder.prepare``.

    Each sentence becomes ``Doc(nlp.vocab, words=words)`` (tokens kept as given,
    separated by one space, which only matters for ``idx``); the attribute hashes,
    character ids and static vector rows follow :func:`~skmtl.encoders._tokenize.tokenize`.
    Sentences longer than ``encoder.max_length`` keep their first ``max_length`` tokens.
    """
    from spacy.attrs import IDX, LENGTH, ORTH
    from spacy.tokens import Doc

    encoder._validate_params()
    nlp = encoder._get_nlp()
    attrs = encoder._attrs()
    vectors = encoder._get_vectors() if encoder.static_vectors else None
    attr_ids = _spacy_attr_ids(attrs)
    columns = attr_ids + ([ORTH] if vectors is not None else []) + [IDX, LENGTH]
    max_length = int(encoder.max_length)
    arrays, texts = [], []
    for words in sentences:
        doc = Doc(nlp.vocab, words=list(words[:max_length]))
        arrays.append(doc.to_array(columns).reshape(len(doc), len(columns)))
        texts.append(doc.text)
    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = (
        np.concatenate(arrays, axis=0)
        if offsets[-1]
        else np.zeros((0, len(columns)), dtype=np.uint64)
    )
    ids = hash_ids(flat[:, : len(attr_ids)], attrs, encoder.n_rows)
    chars = None
    if encoder.char_dim > 0:
        chars = _first_last_chars(
            texts, flat[:, -2].astype(np.int64), flat[:, -1].astype(np.int64), lengths
        )
    vector_rows = None
    if vectors is not None:
        keys = np.ascontiguousarray(flat[:, len(attr_ids)], dtype=np.uint64)
        vector_rows = np.asarray(vectors.find(keys=keys), dtype=np.int64).reshape(-1)
    return TokenizedTexts(
        ids, offsets, chars, attrs=attrs, n_rows=encoder.n_rows, vector_rows=vector_rows
    )


def _swap(params: list[torch.Tensor], others: list[torch.Tensor]) -> None:
    """Exchange the values of two lists of same-shaped tensors in place."""
    with torch.no_grad():
        for p, q in zip(params, others, strict=True):
            tmp = p.detach().clone()
            p.copy_(q)
            q.copy_(tmp)


def _token_index(offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Flat token positions of documents ``rows``, in that order (as ``TokenizedTexts.take``)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    return np.arange(new[-1], dtype=np.int64) + np.repeat(starts - new[:-1], lengths)


# -- targets --------------------------------------------------------------------------


def _target_columns(Y, n: int) -> tuple[dict[str, list], str]:
    """``({task: list of cells}, layout)`` with layout ``"frame"`` or ``"dict"``."""
    if isinstance(Y, pd.DataFrame):
        layout = "frame"
        columns = {str(c): Y[c].tolist() for c in Y.columns}
    elif isinstance(Y, Mapping):
        layout = "dict"
        columns = {str(k): _as_rows(v, f"Y[{k!r}]") for k, v in Y.items()}
    else:
        raise ValueError(
            "Y must be a pandas DataFrame or a dict {task: cells}, one cell per sentence "
            f"(a list of tags for a token-level task, a label for a document-level task); "
            f"got {type(Y).__name__}."
        )
    if not columns:
        raise ValueError("Y has no task.")
    for name, cells in columns.items():
        if len(cells) != n:
            raise ValueError(
                f"Y[{name!r}] has {len(cells)} rows but X has {n} sentences; they must match."
            )
    return columns, layout


def _infer_type(name: str, cells: list) -> str:
    kinds = {_is_sequence(c) for c in cells if not _is_missing(c)}
    if not kinds:
        raise ValueError(f"Task {name!r} has no labelled sentence (every cell is missing).")
    if len(kinds) > 1:
        raise ValueError(
            f"Task {name!r} mixes tag lists and scalar labels; a token-level task needs a "
            "list of tags in every labelled cell, a document-level task a single label."
        )
    return TOKEN if kinds.pop() else DOCUMENT


def _labels_of(name: str, cells: list, kind: str) -> list:
    if kind == TOKEN:
        labels = set()
        for c in cells:
            if not _is_missing(c):
                labels.update(c)
    else:
        labels = {c for c in cells if not _is_missing(c)}
    try:
        return sorted(labels)
    except TypeError:
        raise ValueError(f"Task {name!r} has labels of mixed, unorderable types.") from None


def _encode(name, kind, cells, classes, lengths, full_lengths, *, check_unseen):
    """Integer targets (-1: missing): per flat token for token tasks, per row otherwise."""
    index = pd.Index(classes)
    if kind == DOCUMENT:
        labelled = np.array([not _is_missing(c) for c in cells], dtype=bool)
        codes = np.full(len(cells), -1, dtype=np.int64)
        if labelled.any():
            values = [c for c, ok in zip(cells, labelled, strict=True) if ok]
            found = index.get_indexer(pd.Index(values, dtype=object))
            _check_unseen(name, values, found, check_unseen)
            codes[labelled] = found
        return codes
    codes = np.full(int(lengths.sum()), -1, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat, positions = [], []
    for i, cell in enumerate(cells):
        if _is_missing(cell):
            continue
        if not _is_sequence(cell):
            raise ValueError(
                f"Y[{name!r}][{i}] is a {type(cell).__name__}, but {name!r} is a "
                "token-level task: each cell must be a list of tags or None."
            )
        tags = list(cell)
        n_tok, n_kept = full_lengths[i], lengths[i]
        if len(tags) != n_tok:
            raise ValueError(
                f"Y[{name!r}][{i}] has {len(tags)} tags but sentence X[{i}] has "
                f"{n_tok} tokens; they must be equal."
            )
        flat.extend(tags[:n_kept])
        positions.append(np.arange(offsets[i], offsets[i] + n_kept))
    if flat:
        found = index.get_indexer(pd.Index(flat, dtype=object))
        _check_unseen(name, flat, found, check_unseen)
        codes[np.concatenate(positions)] = found
    return codes


def _check_unseen(name, values, found, check_unseen) -> None:
    if check_unseen and (found < 0).any():
        bad = sorted({str(values[k]) for k in np.flatnonzero(found < 0)[:1000]})
        raise ValueError(f"Task {name!r} has labels never seen in fit: {bad[:10]}.")


# -- network --------------------------------------------------------------------------


class _TaggerNetwork(nn.Module):
    """A text encoder, a linear head per token task and per document task.

    A token task listed in ``crf_tasks`` (``{name: (allowed, allowed_start)}``)
    gets a :class:`~skmtl.heads.LinearChainCRF` over its linear emission scores.
    """

    def __init__(self, trunk, token_tasks: dict, doc_tasks: dict, weighting=None, crf_tasks=None):
        super().__init__()
        self.trunk = trunk
        self.token_names = list(token_tasks)
        self.doc_names = list(doc_tasks)
        self.token_heads = nn.ModuleList(
            nn.Linear(trunk.token_features, n) for n in token_tasks.values()
        )
        self.doc_heads = nn.ModuleList(nn.Linear(trunk.out_features, n) for n in doc_tasks.values())
        crf_tasks = crf_tasks or {}
        # Keyed by position: a task name may hold characters a module name cannot.
        self.crf_keys = {
            name: f"t{i}" for i, name in enumerate(self.token_names) if name in crf_tasks
        }
        self.crfs = nn.ModuleDict(
            {
                key: LinearChainCRF(token_tasks[name], *crf_tasks[name])
                for name, key in self.crf_keys.items()
            }
        )
        self.weighting = weighting
        # The shared trunk output of the last training forward, for strategies that
        # aggregate task gradients on the representation (``on="representation"``).
        self.representation = None

    def __getstate__(self):
        state = super().__getstate__()
        state["representation"] = None  # a batch's activations and graph: never saved
        return state

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.trunk.parameters())

    def forward(self, batch) -> dict[str, torch.Tensor]:
        """Softmax token tasks: logits of the unpadded tokens ``(n_tokens, C)`` in flat
        order; CRF token tasks: padded emission scores ``(B, T, C)``; document
        tasks: ``(B, C)``."""
        mask = batch["mask"].to(torch.bool)
        x = self.trunk(batch, pool=False)
        self.representation = x if self.training and torch.is_grad_enabled() else None
        out = {}
        if self.token_names:
            tokens = x[mask]  # row-major: the flat token order of TokenizedTexts
            for name, head in zip(self.token_names, self.token_heads, strict=True):
                out[name] = head(x) if name in self.crf_keys else head(tokens)
        if self.doc_names:
            pooled = self.trunk.pool(x, mask)
            for name, head in zip(self.doc_names, self.doc_heads, strict=True):
                out[name] = head(pooled)
        return out

    def task_loss(self, name, output, target, mask) -> torch.Tensor:
        """Mean loss per labelled token (sentence, for document tasks) of one task.

        ``target``: flat token codes (token tasks) or per-sentence codes, -1 where
        missing. A CRF task's loss is the sentences' negative log-likelihood
        divided by their token count, on the scale of the softmax tasks' mean
        cross-entropy.
        """
        if name not in self.crf_keys:
            return masked_task_loss("multiclass", output, target, (target >= 0).to(output.dtype))
        tags = torch.full(mask.shape, -1, dtype=torch.long, device=output.device)
        tags[mask] = target
        labelled = (tags >= 0).any(dim=1)
        if not bool(labelled.any()):
            return output.sum() * 0.0
        m = mask[labelled]
        nll = self.crfs[self.crf_keys[name]].neg_log_likelihood(output[labelled], tags[labelled], m)
        return nll.sum() / m.sum()

    def predict_codes(self, name, output, mask) -> torch.Tensor:
        """Best class per flat token (token tasks) or per sentence."""
        if name in self.crf_keys:
            return self.crfs[self.crf_keys[name]].decode(output, mask)[mask]
        return output.argmax(dim=-1)


# -- estimator ------------------------------------------------------------------------


class MultiTaskTagger(TorchEstimatorMixin, BaseEstimator):
    """Multi-task sequence tagger (token-level tasks) with optional document-level heads.

    A shared :class:`~skmtl.encoders.TextEncoder` (hashed token embeddings and a
    CNN, BiLSTM or transformer) is trained end to end with one linear softmax
    head per token-level task over the token vectors (or, for the tasks named
    in ``crf``, a linear-chain CRF whose decoding only allows valid IOB2
    transitions) and one per document-level task over the pooled sentence
    vector. Each task's loss is the mean cross-entropy over its labelled tokens
    (sentences) in the batch (a CRF task: the sentences' negative
    log-likelihood per token); missing cells (None) are masked. The task
    losses are combined by ``weighting``. Score the tags with
    :func:`skmtl.metrics.task_score` (``"token_accuracy"``, ``"span_f1"``, ...)
    or, in a grid search, :func:`skmtl.metrics.multitask_scorers`.

    Parameters
    ----------
    encoder : TextEncoder, default=None
        The text encoder spec (None: ``TextEncoder(architecture="cnn", char_dim=16)``:
        hashed norm/prefix/suffix/shape embeddings plus character features of each
        word's first and last characters, which help on unseen words). It is
        cloned in fit. Sentences longer than its ``max_length`` are truncated for
        the network; their extra tokens are predicted as the task's most frequent
        training tag (a warning is issued).
    tasks : dict, default=None
        Override the inferred kind of a task: ``{task: "token" | "document"}``.
        A column whose labelled cells are lists is token-level, else document-level.
    crf : None, "auto" or list of str, default=None
        Token-level tasks that get a linear-chain CRF head instead of a softmax:
        trained by the sentence's exact negative log-likelihood and decoded by
        Viterbi. For an IOB2 tag set (``O``, ``B-X``, ``I-X``) decoding only
        allows valid transitions, so predicted spans are always well formed.
        ``"auto"``: every token task whose tags are IOB2. None: no CRF.
    task_weights : dict or sequence of float, default=None
        Static weight of each task's loss (None: all 1); tunable per task as
        ``task_weights__<task>`` in a grid search.
    weighting : WeightingStrategy, default=None
        How the task losses are combined (None: :class:`~skmtl.weighting.EqualWeighting`).
    learning_rate : float, default=2e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    weight_averaging : float, default=0.999
        Decay of an exponential moving average of the weights, updated after
        every step (0: off), with a warm-up so that a short fit is not held
        near the initial weights. The averaged weights are the ones validated
        (early stopping) and kept at the end of fit, as spaCy's training does
        with its parameter averaging; on English-EWT it added about 0.4 points
        of UPOS and XPOS accuracy to the same encoder.
    batch_size : int, default=32
        Sentences per batch. Batches are made of sentences of similar length
        (sorted by length within chunks of 50 batches, then the batches shuffled).
    max_epochs : int, default=10
        Passes over the training sentences.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sentences; stop when the mean
        validation accuracy has not improved for ``n_iter_no_change`` epochs and
        restore the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of sentences held out for early stopping.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    verbose : int, default=0
        Print one line per epoch when > 0.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where to train and predict.

    Attributes
    ----------
    task_types_ : dict of str to {"token", "document"}
    classes_ : dict of str to ndarray
        The labels (tags) of each task, sorted.
    encoder_ : TextEncoder
        The fitted clone of ``encoder``.
    module_ : torch.nn.Module
        The trained network.
    weighting_ : WeightingStrategy
    history_ : History
        One dict per epoch: ``train_loss``, ``task_loss``, ``task_weight``, ``dur``
        and, with early stopping, ``valid_score`` / ``task_valid_score``.
    n_iter_ : int
    best_epoch_ : int or None

    Examples
    --------
    >>> from skmtl.estimators import MultiTaskTagger
    >>> from skmtl.encoders import TextEncoder
    >>> X = [["I", "like", "Paris"], ["You", "run"]]
    >>> Y = {"pos": [["PRON", "VERB", "PROPN"], ["PRON", "VERB"]],
    ...      "ner": [["O", "O", "B-LOC"], None]}
    >>> tagger = MultiTaskTagger(TextEncoder(width=16, embed_dim=8, depth=1),
    ...                          max_epochs=2, random_state=0).fit(X, Y)
    >>> [len(tags) for tags in tagger.predict(X)["pos"]]
    [3, 2]
    """

    def __init__(
        self,
        encoder=None,
        tasks=None,
        crf=None,
        task_weights=None,
        weighting=None,
        learning_rate=2e-3,
        weight_decay=1e-4,
        weight_averaging=0.999,
        batch_size=32,
        max_epochs=10,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        random_state=None,
        verbose=0,
        device="cpu",
    ):
        self.encoder = encoder
        self.tasks = tasks
        self.crf = crf
        self.task_weights = task_weights
        self.weighting = weighting
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.weight_averaging = weight_averaging
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # -- parameters -------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.encoder is not None and not isinstance(self.encoder, TextEncoder):
            raise ValueError(
                f"encoder must be None or a skmtl.encoders.TextEncoder, got {self.encoder!r}."
            )
        if self.tasks is not None and not isinstance(self.tasks, Mapping):
            raise ValueError(
                f"tasks must be None or a dict {{task: 'token' | 'document'}}, got {self.tasks!r}."
            )
        crf = self.crf
        if not (
            crf is None
            or (isinstance(crf, str) and crf == "auto")
            or (isinstance(crf, (list, tuple)) and all(isinstance(name, str) for name in crf))
        ):
            raise ValueError(
                f"crf must be None, 'auto' or a list of token-level task names, got {crf!r}."
            )
        decay = self.weight_averaging
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0 <= decay < 1:
            raise ValueError(f"weight_averaging must be a float in [0, 1), got {decay!r}.")
        self._check_training_params()

    def _crf_tasks(self, types: dict, classes: dict) -> dict:
        """``{task: (allowed transitions, allowed starts)}`` of the tasks with a CRF head."""
        if self.crf is None:
            return {}
        if self.crf == "auto":
            names = [n for n, k in types.items() if k == TOKEN and is_bio_tagset(classes[n])]
        else:
            names = list(self.crf)
            for name in names:
                if name not in types:
                    raise ValueError(
                        f"crf names unknown task {name!r}; the tasks are {list(types)}."
                    )
                if types[name] != TOKEN:
                    raise ValueError(
                        f"crf names {name!r}, a document-level task; a CRF head needs a "
                        "token-level task."
                    )
        out = {}
        for name in names:
            if is_bio_tagset(classes[name]):
                out[name] = bio_transition_mask(classes[name])
            else:  # a plain linear chain: every transition allowed
                out[name] = (None, None)
        return out

    def _task_weight_vector(self, names: list[str]) -> np.ndarray:
        value = self.task_weights
        if value is None:
            weights = dict.fromkeys(names, 1.0)
        elif isinstance(value, Mapping):
            entries = {str(k): v for k, v in value.items()}
            fallback = entries.pop("*", 1.0)
            unknown = [k for k in entries if k not in names]
            if unknown:
                raise ValueError(
                    f"task_weights names unknown tasks {unknown}; the tasks are {names}."
                )
            weights = {n: entries.get(n, fallback) for n in names}
        elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            if len(value) != len(names):
                raise ValueError(
                    f"task_weights has {len(value)} entries but there are {len(names)} tasks."
                )
            weights = dict(zip(names, value, strict=True))
        else:
            raise ValueError(f"task_weights must be a dict or a sequence, got {value!r}.")
        for name, w in weights.items():
            if (
                isinstance(w, bool)
                or not isinstance(w, numbers.Real)
                or not np.isfinite(w)
                or w < 0
            ):
                raise ValueError(f"task_weights[{name!r}] must be a finite number >= 0, got {w!r}.")
        return np.array([float(weights[n]) for n in names], dtype=np.float32)

    # -- inputs -------------------------------------------------------------------------
    def _prepare(self, encoder, X):
        """``(TokenizedTexts, token counts before truncation to max_length)``."""
        rows, pretokenized = _check_sentences(X)
        if pretokenized:
            tokens = _tokenize_words(encoder, rows)
            full = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        else:
            tokens = encoder.prepare(rows)
            full = tokens.lengths.copy()
            long = np.flatnonzero(full >= encoder.max_length)
            if long.size:  # truncated by prepare: count the full text's tokens
                nlp = encoder._get_nlp()
                for i in long:
                    text = _split_long_runs(rows[i])
                    nlp.max_length = max(nlp.max_length, len(text) + 1)
                    full[i] = len(nlp.make_doc(text))
        return tokens, full

    # -- fit ----------------------------------------------------------------------------
    def fit(self, X, Y):
        """Fit on sentences ``X`` and their per-task labels ``Y``.

        Parameters
        ----------
        X : list of list of str, or list of str
            Pre-tokenized sentences (kept as given) or raw strings (tokenized
            by the encoder's spaCy tokenizer).
        Y : DataFrame or dict
            One column per task, one cell per sentence: a list of tags (as many
            as the sentence's tokens) for a token-level task, a label for a
            document-level task, None where the sentence is not labelled.

        Returns
        -------
        self
        """
        self._validate_params()
        encoder = clone(self.encoder) if self.encoder is not None else TextEncoder(char_dim=16)
        tokens, full = self._prepare(encoder, X)
        lengths = tokens.lengths
        columns, layout = _target_columns(Y, len(tokens))
        overrides = {str(k): v for k, v in (self.tasks or {}).items()}
        unknown = [k for k in overrides if k not in columns]
        if unknown:
            raise ValueError(f"tasks names unknown tasks {unknown}; Y has {list(columns)}.")
        types, classes, codes = {}, {}, {}
        for name, cells in columns.items():
            kind = overrides.get(name) or _infer_type(name, cells)
            if kind not in (TOKEN, DOCUMENT):
                raise ValueError(f"tasks[{name!r}] must be 'token' or 'document', got {kind!r}.")
            types[name] = kind
            classes[name] = np.array(_labels_of(name, cells, kind), dtype=object)
            if classes[name].size == 0:
                raise ValueError(f"Task {name!r} has no labelled sentence.")
            codes[name] = _encode(
                name, kind, cells, classes[name], lengths, full, check_unseen=False
            )
        if (full > lengths).any():
            warnings.warn(
                f"{int((full > lengths).sum())} sentences are longer than the encoder's "
                f"max_length={encoder.max_length}; their extra tokens are not trained on.",
                stacklevel=2,
            )
        names = list(columns)
        tw = self._task_weight_vector(names)
        crf_tasks = self._crf_tasks(types, classes)
        self.encoder_ = encoder
        self.task_types_ = types
        self.classes_ = classes
        self._layout = layout
        self._majority = {
            n: int(np.bincount(codes[n][codes[n] >= 0], minlength=classes[n].size).argmax())
            for n in names
        }

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self._resolve_device()
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            weighting = clone(self.weighting) if self.weighting is not None else EqualWeighting()
            state = weighting.init(names)
            module = _TaggerNetwork(
                encoder.build_module(),
                {n: classes[n].size for n in names if types[n] == TOKEN},
                {n: classes[n].size for n in names if types[n] == DOCUMENT},
                state,
                crf_tasks=crf_tasks,
            ).to(device)
            optimizer = self._make_optimizer(module.parameters(), device)
            history = History()
            best_epoch = self._train(
                module, weighting, optimizer, history, tokens, codes, names, tw, rng, device
            )
        self.module_ = module
        self.weighting_ = weighting
        self.history_ = history
        self.device_ = device
        self.n_iter_ = len(history)
        self.best_epoch_ = best_epoch
        return self

    def _batches(self, tokens: TokenizedTexts, rows: np.ndarray, rng) -> list[np.ndarray]:
        """Shuffled batches of ``rows``, each of sentences of similar length."""
        batch = int(self.batch_size)
        lengths = tokens.lengths[rows]
        chunk = batch * _SORT_CHUNK_BATCHES
        out = []
        for a in range(0, rows.size, chunk):
            part = rows[a : a + chunk]
            part = part[np.argsort(lengths[a : a + chunk], kind="stable")]
            out.extend(part[b : b + batch] for b in range(0, part.size, batch))
        return [out[i] for i in rng.permutation(len(out))]

    def _batch_targets(self, tokens, codes, names, rows, device):
        index = _token_index(tokens.offsets, rows)
        out = {}
        for n in names:
            picked = codes[n][index] if self.task_types_[n] == TOKEN else codes[n][rows]
            out[n] = torch.from_numpy(picked).to(device)
        return out

    def _train(self, module, weighting, optimizer, history, tokens, codes, names, tw, rng, device):
        n = len(tokens)
        fit_rows, valid_rows = np.arange(n), None
        if self.early_stopping:
            n_valid = max(1, int(round(self.validation_fraction * n)))
            if n - n_valid < 1:
                raise ValueError(
                    f"early_stopping needs more sentences: {n} leave none for training."
                )
            perm = rng.permutation(n)
            valid_rows, fit_rows = np.sort(perm[:n_valid]), np.sort(perm[n_valid:])
        tw_t = torch.from_numpy(tw).to(device)
        best_score, best_state, best_epoch, stall = -np.inf, None, None, 0
        decay = float(self.weight_averaging)
        params = [p for p in module.parameters() if p.requires_grad]
        averaged = [p.detach().clone() for p in params] if decay > 0 else None
        n_steps = 0
        for epoch in range(1, int(self.max_epochs) + 1):
            tic = time.perf_counter()
            if averaged is not None and epoch > 1:
                _swap(params, averaged)  # back to the raw weights to train on
            module.train()
            stats = EpochStats(names, device)
            for rows in self._batches(tokens, fit_rows, rng):
                batch = self.encoder_.batch(tokens.take(rows), 0, rows.size)
                batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
                targets = self._batch_targets(tokens, codes, names, rows, device)
                out = module(batch)
                mask = batch["mask"].to(torch.bool)
                losses = torch.stack([module.task_loss(t, out[t], targets[t], mask) for t in names])
                present = torch.stack([(targets[t] >= 0).any() for t in names])
                optimizer.zero_grad(set_to_none=True)
                used = weighting.backward(losses, present, tw_t, module.weighting, module)
                optimizer.step()
                if averaged is not None:
                    n_steps += 1
                    # warm-up (as TensorFlow's ExponentialMovingAverage): early steps
                    # move the average more, so a short fit is not stuck near the init
                    rate = 1.0 - min(decay, (1.0 + n_steps) / (10.0 + n_steps))
                    with torch.no_grad():
                        for avg, p in zip(averaged, params, strict=True):
                            avg.lerp_(p, rate)
                stats.add(losses, present, used)
            weighting.end_epoch(stats.task_loss())
            record = stats.record(epoch)
            if averaged is not None:
                # the module holds the averaged weights between epochs: validated,
                # saved as the best state, and kept when training ends
                _swap(params, averaged)
            if valid_rows is not None:
                scores = self._scores(module, tokens, codes, valid_rows, device)
                record["task_valid_score"] = scores
                finite = [s for s in scores.values() if np.isfinite(s)]
                record["valid_score"] = float(np.mean(finite)) if finite else float("nan")
            record["dur"] = time.perf_counter() - tic
            history.append(record)
            if self.verbose:
                parts = [f"epoch {epoch:4d}", f"train_loss {record['train_loss']:.4f}"]
                parts += [f"{t} {v:.4f}" for t, v in record["task_loss"].items()]
                if "valid_score" in record:
                    parts.append(f"valid_score {record['valid_score']:.4f}")
                print(" | ".join(parts + [f"{record['dur']:.2f}s"]), flush=True)
            if valid_rows is not None:
                score = record["valid_score"]
                if np.isfinite(score) and score > best_score:
                    best_score, best_epoch, stall = score, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stall += 1
                    if stall >= self.n_iter_no_change:
                        break
        module.representation = None  # drop the last batch's graph
        if best_state is not None:
            module.load_state_dict(best_state)
        return best_epoch

    def _scores(self, module, tokens, codes, rows, device) -> dict[str, float]:
        """Accuracy of each task on documents ``rows`` of ``tokens``."""
        preds = self._predict_codes(module, tokens.take(rows), device)
        index = _token_index(tokens.offsets, rows)
        scores = {}
        for n, pred in preds.items():
            true = codes[n][index] if self.task_types_[n] == TOKEN else codes[n][rows]
            ok = true >= 0
            scores[n] = float((pred[ok] == true[ok]).mean()) if ok.any() else float("nan")
        return scores

    # -- inference ----------------------------------------------------------------------
    def _predict_codes(self, module, tokens: TokenizedTexts, device) -> dict[str, np.ndarray]:
        """Predicted class indices: per flat token (token tasks) or per document."""
        module.eval()
        n = len(tokens)
        lengths = tokens.lengths
        order = np.argsort(lengths, kind="stable")
        index = _token_index(tokens.offsets, order)
        out = {}
        for name in module.token_names:
            out[name] = np.empty(tokens.n_tokens, dtype=np.int64)
        for name in module.doc_names:
            out[name] = np.empty(n, dtype=np.int64)
        batch = max(int(self.batch_size), 256)
        sorted_tokens = tokens.take(order)
        with torch.inference_mode():
            for a in range(0, n, batch):
                b = min(a + batch, n)
                data = self.encoder_.batch(sorted_tokens, a, b)
                data = {k: v.to(device, non_blocking=True) for k, v in data.items()}
                result = module(data)
                mask = data["mask"].to(torch.bool)
                lo, hi = sorted_tokens.offsets[a], sorted_tokens.offsets[b]
                for name in module.token_names:
                    codes = module.predict_codes(name, result[name], mask)
                    out[name][index[lo:hi]] = codes.cpu().numpy()
                for name in module.doc_names:
                    out[name][order[a:b]] = result[name].argmax(dim=-1).cpu().numpy()
        return out

    def _predict_chunks(self, X):
        """Yield ``(chunk token lengths, full lengths, {task: codes})`` per chunk of X."""
        check_is_fitted(self, "module_")
        rows, pretokenized = _check_sentences(X)
        for a in range(0, len(rows), _PREDICT_CHUNK):
            part = rows[a : a + _PREDICT_CHUNK]
            tokens, full = self._prepare(self.encoder_, part)
            codes = self._predict_codes(self.module_, tokens, self.device_)
            yield tokens.lengths, full, codes

    def _decode(self, X) -> dict[str, list]:
        """Predicted labels per task: a list of tag lists (token tasks) or of labels."""
        cols = {n: [] for n in self.task_types_}
        truncated = 0
        for lengths, full, codes in self._predict_chunks(X):
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for n, kind in self.task_types_.items():
                labels = self.classes_[n][codes[n]]
                if kind == DOCUMENT:
                    cols[n].extend(labels.tolist())
                    continue
                fill = self.classes_[n][self._majority[n]]
                for i in range(lengths.size):
                    tags = labels[offsets[i] : offsets[i + 1]].tolist()
                    if full[i] > lengths[i]:
                        tags.extend([fill] * int(full[i] - lengths[i]))
                    cols[n].append(tags)
            truncated += int((full > lengths).sum())
        if truncated:
            warnings.warn(
                f"{truncated} sentences are longer than the encoder's max_length="
                f"{self.encoder_.max_length}; their extra tokens get each task's most "
                "frequent training tag.",
                stacklevel=3,
            )
        return cols

    def predict(self, X):
        """Predict every task.

        Returns
        -------
        Y_pred : DataFrame or dict
            Like the Y of fit: one column per task, a list of tags per sentence
            for token-level tasks (one per token; ``[]`` for an empty sentence),
            a label for document-level tasks.
        """
        cols = self._decode(X)
        if self._layout == "frame":
            return pd.DataFrame(cols, columns=list(cols))
        return cols

    def score(self, X, Y) -> float:
        """Mean over tasks of token accuracy (token tasks) or accuracy (document tasks).

        Missing cells are skipped; labels never seen in fit raise a ValueError.
        """
        check_is_fitted(self, "module_")
        rows, _ = _check_sentences(X)
        columns, _ = _target_columns(Y, len(rows))
        unknown = [c for c in columns if c not in self.task_types_]
        if unknown:
            raise ValueError(f"Y has tasks {unknown} not seen in fit {list(self.task_types_)}.")
        correct = dict.fromkeys(columns, 0)
        total = dict.fromkeys(columns, 0)
        for a in range(0, len(rows), _PREDICT_CHUNK):
            part = rows[a : a + _PREDICT_CHUNK]
            tokens, full = self._prepare(self.encoder_, part)
            pred = self._predict_codes(self.module_, tokens, self.device_)
            for n, cells in columns.items():
                kind = self.task_types_[n]
                true = _encode(
                    n,
                    kind,
                    cells[a : a + _PREDICT_CHUNK],
                    self.classes_[n],
                    tokens.lengths,
                    full,
                    check_unseen=True,
                )
                ok = true >= 0
                correct[n] += int((pred[n][ok] == true[ok]).sum())
                total[n] += int(ok.sum())
        scores = [correct[n] / total[n] for n in columns if total[n]]
        if not scores:
            raise ValueError("Y has no labelled token or sentence for any task.")
        return float(np.mean(scores))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags
