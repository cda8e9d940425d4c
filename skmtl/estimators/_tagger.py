"""Token-level multi-task learning: one tagging head per task over a shared text encoder.

:class:`MultiTaskTagger` trains a :class:`~skmtl.encoders.TextEncoder` end to end
with one head per *token-level* task (UPOS, XPOS, NER, ...) applied to every
token vector, plus optional *row-level* (document) heads on the pooled sentence
vector. Missing labels (a ``None`` cell) are masked, so partially annotated
corpora train every task they have. It runs on the same engine, architectures
and task types as every skmtl estimator (:class:`~skmtl.base.BaseMultiTaskEstimator`).

Pre-tokenized input (lists of words) is hashed exactly like raw text: each
sentence becomes ``spacy.tokens.Doc(nlp.vocab, words=words)`` (no re-tokenizing)
and its spaCy attributes are hashed with the encoder's seeds and table sizes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._params import store_init_params
from ..base import BaseMultiTaskEstimator
from ..encoders import (
    EncodedInputs,
    TextEncoder,
    check_texts,
    check_tokens,
    full_token_counts,
    tokenize_words,
)
from ..encoders._tokenize import chunked
from ..engine import LengthGroupedBatches
from ..heads import is_bio_tagset
from ..tasks import TokenCRFTask, resolve_tasks
from ..utils import user_stacklevel
from ._docs import partial_fit_doc

__all__ = ["MultiTaskTagger"]


def _sentence_rows(X, name: str):
    """The rows of a list / ndarray / Series / iterable (not a single string), not copied."""
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
    if not isinstance(X, Iterable):
        raise ValueError(f"{name} must be a list of sentences, got {type(X).__name__}.")
    return X


def _as_rows(X, name: str) -> list:
    """A list of the rows of a list / ndarray / Series (not a single string)."""
    rows = _sentence_rows(X, name)
    try:
        return list(rows)
    except TypeError:
        raise ValueError(f"{name} must be a list of sentences, got {type(X).__name__}.") from None


def _tokens(encoder, rows: list, pretokenized: bool):
    """``(TokenizedTexts, token counts before max_length)`` of validated sentences."""
    if not isinstance(encoder, TextEncoder):  # e.g. a PretrainedEncoder: its own words
        return encoder.prepare_sentences(rows, pretokenized=pretokenized)
    if pretokenized:
        tokens = tokenize_words(encoder, rows)
        return tokens, np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    tokens = encoder.prepare(rows)
    return tokens, full_token_counts(encoder, rows, tokens.lengths)


def _warn_truncated(truncated: int, encoder, fitting: bool) -> None:
    if truncated:
        warnings.warn(
            f"{truncated} sentences are longer than the encoder's max_length="
            f"{encoder.max_length}; their extra tokens are "
            + (
                "not trained on."
                if fitting
                else "predicted as each task's most frequent training tag."
            ),
            stacklevel=user_stacklevel(),
        )


def _check_sentences(X) -> tuple[list, bool]:
    """Validate X; return ``(rows, pretokenized)``."""
    rows = _as_rows(X, "X")
    if not rows:
        raise ValueError("X contains no sentences; at least one is required.")
    if isinstance(rows[0], str):
        return check_texts(rows), False
    return check_tokens(rows), True


class MultiTaskTagger(BaseMultiTaskEstimator):
    """Multi-task sequence tagger (token-level tasks) with optional document-level heads.

    A shared :class:`~skmtl.encoders.TextEncoder` (hashed token embeddings and a
    CNN, BiLSTM or transformer) is trained end to end with one linear softmax
    head per token-level task over the token vectors (or, for the tasks named
    in ``crf``, a linear-chain CRF whose decoding only allows valid IOB2
    transitions) and one head per document-level task over the pooled sentence
    vector (any row-level task type: binary, multiclass, multilabel,
    continuous). Each task's loss is the mean over its labelled tokens
    (sentences) in the batch (a CRF task: the sentences' negative
    log-likelihood per token); missing cells (None) are masked. The task
    losses are combined by ``weighting``; how the tasks share the encoder's
    layers is the ``architecture`` (e.g. ``Hierarchical({"upos": 1, "ner": 3})``
    reads UPOS from the first contextual layer and NER from the third). Score
    the tags with :func:`skmtl.metrics.task_score` (``"token_accuracy"``,
    ``"span_f1"``, ...) or, in a grid search, :func:`skmtl.metrics.multitask_scorers`.

    Parameters
    ----------
    encoder : TextEncoder or PretrainedEncoder, default=None
        The text encoder spec (None: ``TextEncoder(architecture="cnn", char_dim=16)``:
        hashed norm/prefix/suffix/shape embeddings plus character features of each
        word's first and last characters, which help on unseen words; a
        :class:`~skmtl.encoders.PretrainedEncoder` reads a pretrained
        transformer's word vectors). It is cloned in fit. Sentences longer than its
        ``max_length`` are truncated for the network; their extra tokens are
        predicted as the task's most frequent training tag (a warning is issued).
    tasks : dict, default=None
        Override the inferred type of a task: ``{task: "token" | "document" | type}``
        with a type name of :data:`skmtl.tasks.TASK_TYPES`. A column whose labelled
        cells are lists is token-level, else document-level.
    crf : None, "auto" or list of str, default=None
        Token-level tasks that get a linear-chain CRF head instead of a softmax:
        trained by the sentence's exact negative log-likelihood and decoded by
        Viterbi. For an IOB2 tag set (``O``, ``B-X``, ``I-X``) decoding only
        allows valid transitions, so predicted spans are always well formed.
        ``"auto"``: every token task whose tags are IOB2. None: no CRF.
    task_weights : dict or sequence of float, default=None
        Static weight of each task's loss (None: all 1); tunable per task as
        ``task_weights__<task>`` in a grid search.
        With ``weighting=WeightConditioned()`` they act after fit instead: the
        one fitted network serves the weighting they name, and
        ``set_params(task_weights=...)`` on the fitted model changes its
        predictions without refitting (the only parameter that acts after fit
        for such a model).
    weighting : WeightingStrategy, default=None
        How the task losses are combined (None: :class:`~skmtl.weighting.EqualWeighting`).
    architecture : Architecture, default=None
        How the tasks share the encoder's contextual layers (None:
        :class:`~skmtl.architectures.HardSharing`).
    task_sampling : None, str or TaskSampler, default=None
        How often each task's rows are drawn per epoch (:mod:`skmtl.sampling`):
        None (every row once), "proportional", "uniform", "temperature",
        "annealed" or a sampler object (``task_sampling__<param>``).
    class_weight : None, "balanced" or dict, default=None
        Per-task class (tag) weights: "balanced" for every task, or a dict by
        task of None / "balanced" / ``{tag: weight}``.
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
        validation accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs and restore the best epoch's weights. ``fit(...,
        validation_rows=...)`` names the validation sentences instead (a dev split).
    validation_fraction : float, default=0.1
        Share of sentences held out for early stopping.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    tol : float, default=0.0
        Minimum improvement of the validation score.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    verbose : int, default=0
        Progress of ``fit`` and ``predict``. 0: silent. 1: a progress bar over
        the epochs (tqdm: on stderr, a widget in a notebook) showing the
        training loss, each task's loss and the validation score, and one
        printed line per epoch on stdout. 2: also a bar over each epoch's
        batches with each task's running loss, and a bar over the batches of
        any prediction of two or more batches (at 1, only of a prediction of
        more than 20 batches).
    warm_start : bool, default=False
        Continue training the fitted model on the next ``fit`` call
        (``partial_fit`` always continues it).
    record_gradients : bool, default=False
        Record each task's gradient norm and the pairwise gradient cosines on
        the shared parameters in ``history_`` after every epoch.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where to train and predict.

    Attributes
    ----------
    tasks_ : dict of str to Task
        Each task's name, type (``"token"``, ``"token_crf"`` or a row-level
        type), classes, in order.
    task_types_ : dict of str to {"token", "document"}
    classes_ : dict of str to ndarray
        The labels (tags) of each task, sorted.
    encoder_ : TextEncoder
        The fitted clone of ``encoder``.
    module_ : torch.nn.Module
        The trained :class:`~skmtl.engine.MultiTaskNetwork`.
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

    _PER_TASK_PARAMS = ("task_weights", "class_weight")

    def __init__(
        self,
        encoder=None,
        tasks=None,
        crf=None,
        task_weights=None,
        weighting=None,
        architecture=None,
        task_sampling=None,
        class_weight=None,
        learning_rate=2e-3,
        weight_decay=1e-4,
        weight_averaging=0.999,
        batch_size=32,
        max_epochs=10,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=0.0,
        random_state=None,
        verbose=0,
        warm_start=False,
        record_gradients=False,
        device="cpu",
    ):
        store_init_params(self, locals())

    # -- parameters -------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.encoder is not None and not (
            isinstance(self.encoder, TextEncoder)
            or all(hasattr(self.encoder, m) for m in ("prepare_sentences", "batch", "build_stack"))
        ):
            raise ValueError(
                "encoder must be None, a skmtl.encoders.TextEncoder or a PretrainedEncoder, "
                f"got {self.encoder!r}."
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

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._partial_fit_call(X, y, classes, sample_weight)

    partial_fit.__doc__ = partial_fit_doc(
        "tagger",
        """
        Examples
        --------
        >>> from skmtl.estimators import MultiTaskTagger
        >>> from skmtl.encoders import TextEncoder
        >>> X = [["I", "like", "Paris"], ["You", "run"], ["We", "saw", "Rome"]]
        >>> Y = {"pos": [["PRON", "VERB", "PROPN"], ["PRON", "VERB"], ["PRON", "VERB", "PROPN"]],
        ...      "ner": [["O", "O", "B-LOC"], None, ["O", "O", "B-LOC"]]}
        >>> tags = {"pos": ["PRON", "VERB", "PROPN", "NOUN"], "ner": ["O", "B-LOC", "I-LOC"]}
        >>> tagger = MultiTaskTagger(TextEncoder(width=16, embed_dim=8, depth=1), random_state=0)
        >>> for rows in ([0, 1], [2]):  # chunks of sentences
        ...     chunk_y = {task: [cells[i] for i in rows] for task, cells in Y.items()}
        ...     tagger = tagger.partial_fit([X[i] for i in rows], chunk_y, classes=tags)
        >>> tagger.classes_["ner"].tolist(), len(tagger.history_)
        (['B-LOC', 'I-LOC', 'O'], 2)
        >>> [len(t) for t in tagger.predict([["They", "like", "Oslo"]])["pos"]]
        [3]
        """,
    )

    # -- hooks ------------------------------------------------------------------------
    def _prepare_inputs(self, X, *, fitting: bool):
        rows, pretokenized = _check_sentences(X)
        if fitting:
            encoder = clone(self.encoder) if self.encoder is not None else TextEncoder(char_dim=16)
        else:
            encoder = self.encoder_
        tokens, full = _tokens(encoder, rows, pretokenized)
        _warn_truncated(int((full > tokens.lengths).sum()), encoder, fitting)
        context = {"lengths": tokens.lengths, "full_lengths": full}
        return EncodedInputs(encoder, tokens), context, {"encoder_": encoder} if fitting else {}

    def _prediction_parts(self, X):
        """The sentences chunk by chunk (streamed prediction): each chunk of
        :data:`~skmtl.encoders._tokenize.PREDICT_CHUNK_ROWS` sentences is validated
        and tokenized just before the network runs over it."""
        encoder, truncated, pretokenized = self.encoder_, 0, None
        for offset, rows in chunked(_sentence_rows(X, "X")):
            if pretokenized is None:
                pretokenized = not isinstance(rows[0], str)
            rows = (
                check_tokens(rows, offset=offset)
                if pretokenized
                else check_texts(rows, offset=offset)
            )
            tokens, full = _tokens(encoder, rows, pretokenized)
            truncated += int((full > tokens.lengths).sum())
            yield EncodedInputs(encoder, tokens), {"lengths": tokens.lengths, "full_lengths": full}
        if pretokenized is None:
            raise ValueError("X contains no sentences; at least one is required.")
        _warn_truncated(truncated, encoder, fitting=False)

    def _split_targets(self, y, n_samples: int):
        if not isinstance(y, (pd.DataFrame, Mapping)):
            raise ValueError(
                "Y must be a pandas DataFrame or a dict {task: cells}, one cell per sentence "
                "(a list of tags for a token-level task, a label for a document-level task); "
                f"got {type(y).__name__}."
            )
        if isinstance(y, Mapping):
            y = {k: _as_rows(v, f"Y[{k!r}]") for k, v in y.items()}
            for name, cells in y.items():
                if len(cells) != n_samples:
                    raise ValueError(
                        f"Y[{name!r}] has {len(cells)} rows but X has {n_samples} sentences; "
                        "they must match."
                    )
        return super()._split_targets(y, n_samples)

    def _resolve_tasks(self, layout, columns, context, spec, existing=()):
        overrides = {}
        for name, kind in (spec or {}).items():
            if kind == "document":
                continue  # a scalar column is inferred as a row-level task anyway
            overrides[name] = "token" if kind == "token_crf" else kind
        tasks, raw = resolve_tasks(
            layout, columns, overrides or None, None, None, type(self).__name__, sequence=True
        )
        for name in spec or {}:
            if str(name) not in raw:
                raise ValueError(f"tasks names unknown tasks {[name]}; Y has {list(raw)}.")
        crf = self._crf_names(tasks, existing)
        tasks = [
            TokenCRFTask.from_column(t.name, raw[t.name], t.columns) if t.name in crf else t
            for t in tasks
        ]
        return tasks, raw

    def _crf_names(self, tasks, existing=()) -> set[str]:
        token = {t.name: t for t in tasks if t.level == "token"}
        if self.crf is None:
            return set()
        if self.crf == "auto":
            return {n for n, t in token.items() if is_bio_tagset(t.classes)}
        names = [t.name for t in tasks]
        for name in self.crf:
            if name in existing:
                continue  # add_tasks: a task of the fitted model
            if name not in names:
                raise ValueError(f"crf names unknown task {name!r}; the tasks are {names}.")
            if name not in token:
                raise ValueError(
                    f"crf names {name!r}, a document-level task; a CRF head needs a "
                    "token-level task."
                )
        return set(self.crf)

    def _make_stack(self, fitted):
        encoder = fitted.get("encoder_") or self.encoder_
        return encoder.build_stack(pooled=False)

    def _make_sampler(self, inputs):
        return LengthGroupedBatches(int(self.batch_size))

    def _assemble(self, tasks, decoded, context):
        # Keyed by the original column labels (a DataFrame with columns 0 and 1
        # gets columns 0 and 1 back, not "0" and "1").
        cols = {
            t.columns[0]: d.tolist() if isinstance(d, np.ndarray) else list(d)
            for t, d in ((t, decoded[t.name]) for t in tasks)
        }
        if self.target_layout_.kind == "frame":
            return pd.DataFrame(cols, columns=list(cols))
        return cols

    def _fitted_extras(self, tasks, layout) -> dict:
        return {"classes_": {t.name: t.classes for t in tasks}}

    @property
    def task_types_(self) -> dict[str, str]:
        """``{task: "token" | "document"}``: each task's level, as in earlier versions."""
        return {n: "token" if t.level == "token" else "document" for n, t in self.tasks_.items()}

    _single_output = False

    def _takes_text(self) -> bool:
        return True
