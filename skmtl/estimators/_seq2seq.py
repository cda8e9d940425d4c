"""Text in, text out: translation, summarization and row-level tasks over one encoder.

:class:`MultiTaskSeq2Seq` learns a joint subword vocabulary in ``fit``
(:class:`~skmtl.encoders.SubwordTokenizer`), encodes the source texts with a
shared encoder (:class:`~skmtl.encoders.SubwordStack`: Transformer or GRU) and
trains one decoder per generation task (or one shared decoder told the task by
a learned task embedding), plus a head per row-level task on the pooled
encoder states, on the same engine, architectures and weighting strategies as
every skmtl estimator.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._params import store_init_params
from ..base import BaseMultiTaskEstimator
from ..encoders import SubwordInputs, SubwordStack, SubwordTokenizer
from ..engine import LengthGroupedBatches, WarmupInverseSqrt
from ..heads import GenerationHead, GRUDecoder, TransformerDecoder
from ..tasks import GenerationTask, check_texts_column, resolve_tasks, split_targets

__all__ = ["MultiTaskSeq2Seq"]

_DECODERS = ("per_task", "shared")
_TIES = (True, False, "all")


def _check_sources(X) -> list[str]:
    """X as a list of non-empty strings (ValueError naming the first bad row)."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "X must be a list of source texts, got a single string; wrap it in a list."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"X must be 1-D (source texts); got {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    try:
        rows = list(X)
    except TypeError:
        raise ValueError(f"X must be a list of source texts, got {type(X).__name__}.") from None
    if not rows:
        raise ValueError("X contains no source text; at least one is required.")
    for i, text in enumerate(rows):
        if not isinstance(text, str):
            raise ValueError(f"X[{i}] is a {type(text).__name__}, expected a source text (str).")
        if not text.strip():
            raise ValueError(f"X[{i}] is an empty source text; every row needs a source.")
    return rows


class MultiTaskSeq2Seq(BaseMultiTaskEstimator):
    """Multi-task sequence-to-sequence model: one encoder, a decoder per generation task.

    X is a list of source texts; Y a DataFrame or dict with one column per
    task. A column holding strings is a *generation* task (its cells are target
    texts, ``None`` where a row has no target: rows from different corpora,
    such as translation pairs and email/subject pairs, simply leave the other
    tasks' cells empty); other columns are row-level tasks of the usual types
    (a topic class, a length bin, a score), read from the pooled encoder
    states. Each generation task is trained by teacher forcing on its
    labelled rows only, with label-smoothed cross-entropy per subword; the task
    losses are combined by ``task_weights`` and ``weighting``, and
    ``architecture`` decides how the tasks share the encoder layers.
    ``predict`` decodes greedily or by beam search.

    A joint subword vocabulary (sentencepiece, unigram or BPE, with byte
    fallback so no character is unknown) is learned in ``fit`` from the
    sources and every target text, in memory, and stored in the fitted model:
    nothing is downloaded.

    Parameters
    ----------
    tasks : dict, default=None
        Task types by name, overriding inference: ``"generation"`` or a
        row-level type (``"multiclass"``, ``"continuous"``, ...). A column
        holding strings is a generation task unless named here (so name a
        column of string class labels, e.g. ``{"topic": "multiclass"}``).
    tokenizer : SubwordTokenizer, default=None
        A subword model to use as it is (None: learn one in ``fit`` from the
        sources and targets, of ``vocab_size`` pieces): e.g. one vocabulary for
        several models to compare, made with
        :meth:`SubwordTokenizer.train <skmtl.encoders.SubwordTokenizer.train>`.
    cell : {"transformer", "gru"}, default="transformer"
        The encoder's and decoders' layers: pre-norm Transformer layers, or
        (the cheap option) bidirectional GRU encoder layers and a GRU decoder
        with Luong attention.
    d_model : int, default=256
        Width of embeddings and layers.
    encoder_layers, decoder_layers : int, default=3
        Depth of the shared encoder and of each decoder.
    n_heads : int, default=4
        Attention heads (Transformer).
    ff_dim : int, default=1024
        Width of the Transformer's feed-forward layers.
    dropout : float, default=0.1
    decoder : {"per_task", "shared"}, default="per_task"
        One decoder per generation task, or one decoder for all of them, told
        the task by a learned task embedding added at every target position.
    tie_embeddings : {True, False, "all"}, default=True
        True: each decoder's output layer is its input embedding (transposed).
        "all": the encoder's source embedding is also the decoders' (one
        matrix for the joint vocabulary, as in fairseq's shared embeddings);
        not with a gradient strategy working ``on="representation"``, whose
        cut would not see the decoders' use of the embedding. False: untied.
    vocab_size : int, default=8000
        Size of the joint subword vocabulary (a soft limit: a small corpus gets
        fewer pieces; at least 300, for the 256 byte pieces).
    subword_model : {"unigram", "bpe"}, default="unigram"
    max_source_length : int, default=128
        Longest source in subwords (EOS included); longer ones are cut, with
        one warning per call.
    max_target_length : int, default=64
        Longest trained target in subwords; longer ones are cut (one warning).
    label_smoothing : float, default=0.1
    beam_size : int, default=4
        Beams at predict time (1: greedy).
    max_length : int, default=None
        Most subwords generated per text (None: the longest training target,
        cut at ``max_target_length``).
    length_penalty : float, default=1.0
        Exponent ``alpha`` of the GNMT length penalty ``((5 + len) / 6) ** alpha``
        that beam search divides scores by (0: none; larger favours longer outputs).
    task_weights : dict or sequence of float, default=None
        Static weight of each task's loss; ``task_weights__<task>`` in a grid search.
        With ``weighting=WeightConditioned()`` they act after fit instead: the
        one fitted network serves the weighting they name, and
        ``set_params(task_weights=...)`` on the fitted model changes its
        predictions without refitting (as ``beam_size``, ``max_length`` and
        ``length_penalty`` do).
    weighting : WeightingStrategy, default=None
        How the task losses are combined (None: equal weights).
    architecture : Architecture, default=None
        How the tasks share the encoder layers (None: hard sharing).
    task_sampling : None, str or TaskSampler, default=None
        How often each task's rows are drawn per epoch (:mod:`skmtl.sampling`):
        None (every row once), "proportional", "uniform", "temperature",
        "annealed" or a sampler object (``task_sampling__<param>``).
    learning_rate : float, default=5e-4
        Peak AdamW rate, reached after ``warmup_steps``.
    weight_decay : float, default=0.0
    warmup_steps : int, default=400
        Linear warm-up, then inverse square-root decay (0: decay only).
    weight_averaging : float, default=0.0
        Decay of an exponential moving average of the weights (0: off).
    batch_size : int, default=64
        Rows per batch; batches group sources of similar length.
    max_epochs : int, default=10
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the mean
        validation score (subword BLEU of greedy outputs for generation tasks)
        has not improved by ``tol`` for ``n_iter_no_change`` epochs.
        ``fit(..., validation_rows=...)`` names the validation rows instead.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=3
    tol : float, default=0.0
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and dropout (results are
        reproducible on the CPU).
    verbose : int, default=0
        Progress of ``fit`` and ``predict``. 0: silent. 1: a progress bar over
        the epochs (tqdm: on stderr, a widget in a notebook) showing the
        training loss, each task's loss and the validation score, and one
        printed line per epoch on stdout. 2: also a bar over each epoch's
        batches with each task's running loss, and a bar over the batches of
        any prediction of two or more batches (at 1, only of a prediction of
        more than 20 batches).
    warm_start : bool, default=False
    record_gradients : bool, default=False
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"

    Attributes
    ----------
    tasks_ : dict of str to Task
    tokenizer_ : SubwordTokenizer
        The learned subword model (built from ``subword_model_``).
    subword_model_ : ndarray of uint8
        The serialized sentencepiece model.
    module_ : torch.nn.Module
    history_ : History
    n_iter_ : int
    best_epoch_ : int or None

    Notes
    -----
    ``score`` is the mean over tasks of each task's default metric, on its
    labelled rows: chrF (0-1) for generation tasks, as
    :func:`skmtl.metrics.task_score` computes it, and the usual ones for
    row-level tasks. Use :func:`skmtl.metrics.multitask_scorers` for BLEU or
    ROUGE in a grid search.

    Examples
    --------
    >>> from skmtl.estimators import MultiTaskSeq2Seq
    >>> X = ["a red car", "a blue car", "meeting moved to friday, please confirm"]
    >>> Y = {"de": ["ein rotes Auto", "ein blaues Auto", None],
    ...      "subject": [None, None, "meeting moved"]}
    >>> model = MultiTaskSeq2Seq(d_model=32, encoder_layers=1, decoder_layers=1,
    ...                          n_heads=2, ff_dim=64, vocab_size=300, max_epochs=2,
    ...                          random_state=0).fit(X, Y)
    >>> sorted(model.predict(X[:1]))
    ['de', 'subject']
    """

    _PER_TASK_PARAMS = ("task_weights",)

    def __init__(
        self,
        tasks=None,
        tokenizer=None,
        cell="transformer",
        d_model=256,
        encoder_layers=3,
        decoder_layers=3,
        n_heads=4,
        ff_dim=1024,
        dropout=0.1,
        decoder="per_task",
        tie_embeddings=True,
        vocab_size=8000,
        subword_model="unigram",
        max_source_length=128,
        max_target_length=64,
        label_smoothing=0.1,
        beam_size=4,
        max_length=None,
        length_penalty=1.0,
        task_weights=None,
        weighting=None,
        architecture=None,
        task_sampling=None,
        learning_rate=5e-4,
        weight_decay=0.0,
        warmup_steps=400,
        weight_averaging=0.0,
        batch_size=64,
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
        if self.tasks is not None and not isinstance(self.tasks, Mapping):
            raise ValueError(f"tasks must be None or a dict {{task: type}}, got {self.tasks!r}.")
        if self.tokenizer is not None and not isinstance(self.tokenizer, SubwordTokenizer):
            raise ValueError(
                "tokenizer must be None or a skmtl.encoders.SubwordTokenizer, got "
                f"{self.tokenizer!r}."
            )
        if self.cell not in ("transformer", "gru"):
            raise ValueError(f"cell must be 'transformer' or 'gru', got {self.cell!r}.")
        if self.decoder not in _DECODERS:
            raise ValueError(f"decoder must be one of {list(_DECODERS)}, got {self.decoder!r}.")
        if not any(self.tie_embeddings is t or self.tie_embeddings == t for t in _TIES):
            raise ValueError(
                f"tie_embeddings must be True, False or 'all', got {self.tie_embeddings!r}."
            )
        if self.subword_model not in ("unigram", "bpe"):
            raise ValueError(
                f"subword_model must be 'unigram' or 'bpe', got {self.subword_model!r}."
            )
        for name, low in (
            ("d_model", 1),
            ("encoder_layers", 1),
            ("decoder_layers", 1),
            ("n_heads", 1),
            ("ff_dim", 1),
            ("vocab_size", 300),
            ("max_source_length", 2),
            ("max_target_length", 2),
            ("beam_size", 1),
        ):
            _check_int(name, getattr(self, name), low)
        _check_int("warmup_steps", self.warmup_steps, 0)
        if self.max_length is not None:
            _check_int("max_length", self.max_length, 1)
        for name, high in (("dropout", 1.0), ("label_smoothing", 1.0)):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not 0 <= value < high
            ):
                raise ValueError(f"{name} must be in [0, {high}), got {value!r}.")
        lp = self.length_penalty
        if isinstance(lp, bool) or not isinstance(lp, numbers.Real) or not 0 <= lp < 10:
            raise ValueError(f"length_penalty must be in [0, 10), got {lp!r}.")
        if self.cell == "transformer" and self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}.")
        if self.cell == "gru" and self.d_model % 2:
            raise ValueError(f"cell='gru' needs an even d_model, got {self.d_model}.")
        if self.tie_embeddings == "all" and getattr(self.weighting, "on", None) == "representation":
            raise ValueError(
                "tie_embeddings='all' shares the source embedding with the decoders, which "
                f"{type(self.weighting).__name__}(on='representation') cannot see through its "
                "cut; use on='parameters' or tie_embeddings=True."
            )

    # -- hooks ------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, validation_rows=None) -> dict:
        self._validate_params()
        if self.warm_start and hasattr(self, "module_"):
            return super()._fit(X, y, sample_weight, validation_rows)
        self._new_tokenizer = self._learn_tokenizer(X, y, validation_rows)
        try:
            return super()._fit(X, y, sample_weight, validation_rows)
        finally:
            del self._new_tokenizer

    def _learn_tokenizer(self, X, y, validation_rows=None) -> SubwordTokenizer:
        """The joint subword model of the sources and every text target of ``y``
        (or the ``tokenizer`` given); validation rows are left out."""
        texts = _check_sources(X)
        if self.tokenizer is not None:
            return self.tokenizer
        train = np.ones(len(texts), dtype=bool)
        if validation_rows is not None:
            train[self._validation_rows(validation_rows, len(texts))] = False
        texts = [t for t, keep in zip(texts, train, strict=True) if keep]
        _, columns = split_targets(y)
        for name, column in columns.items():
            if name in (self.tasks or {}) and self.tasks[name] != "generation":
                continue
            if name in (self.tasks or {}) or _texts(column):
                cells = check_texts_column(name, column)
                texts += [
                    c for c, keep in zip(cells, train, strict=False) if keep and c is not None
                ]
        return SubwordTokenizer.train(
            texts, vocab_size=self.vocab_size, model_type=self.subword_model
        )

    @property
    def tokenizer_(self) -> SubwordTokenizer:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "subword_model_")
        return SubwordTokenizer.from_array(self.subword_model_)

    def _prepare_inputs(self, X, *, fitting: bool):
        rows = _check_sources(X)
        tokenizer = self._new_tokenizer if fitting else self.tokenizer_
        inputs, cut = SubwordInputs.from_texts(tokenizer, rows, self.max_source_length)
        if cut:
            warnings.warn(
                f"{cut} source texts are longer than max_source_length="
                f"{self.max_source_length} subwords; they are cut.",
                UserWarning,
                stacklevel=4,
            )
        fitted = {"subword_model_": tokenizer.to_array()} if fitting else {}
        return inputs, {"tokenizer": tokenizer}, fitted

    def _split_targets(self, y, n_samples: int):
        if not isinstance(y, (pd.DataFrame, Mapping)):
            raise ValueError(
                "Y must be a pandas DataFrame or a dict {task: cells}, one cell per source "
                "(a target text or None for a generation task); "
                f"got {type(y).__name__}."
            )
        return super()._split_targets(y, n_samples)

    def _resolve_tasks(self, layout, columns, context, spec, existing=()):
        spec = dict(spec or {})
        unknown = [k for k in spec if str(k) not in columns]
        if unknown:
            raise ValueError(f"tasks names unknown tasks {unknown}; Y has {list(columns)}.")
        label_of = {str(c): c for c in layout.columns}
        generation = [
            n
            for n in columns
            if spec.get(n) == "generation" or (n not in spec and _texts(columns[n]))
        ]
        other = {n: c for n, c in columns.items() if n not in generation}
        row_tasks, raw = ([], {})
        if other:
            from ..tasks import TargetLayout

            sub = TargetLayout(layout.kind, [label_of[n] for n in other])
            row_tasks, raw = resolve_tasks(
                sub,
                other,
                {k: v for k, v in spec.items() if k in other} or None,
                None,
                None,
                type(self).__name__,
            )
        tasks = {t.name: t for t in row_tasks}
        tok = context["tokenizer"]
        for name in generation:
            raw[name] = columns[name]
            tasks[name] = GenerationTask.from_column(
                name,
                columns[name],
                [label_of.get(name, name)],
                vocab_size=tok.vocab_size,
                bos_id=tok.bos_id,
                eos_id=tok.eos_id,
                max_length=self._target_length(tok, columns[name]),
                label_smoothing=self.label_smoothing,
            )
        ordered = [tasks[n] for n in columns]
        if not any(t.type == "generation" for t in ordered) and not existing:
            raise ValueError(
                "Y has no generation task (a column of target texts); MultiTaskSeq2Seq needs "
                "at least one. For row-level tasks only, use MultiTaskEstimator."
            )
        return ordered, raw

    def _target_length(self, tokenizer, column) -> int:
        cells = [c for c in check_texts_column("?", column) if c is not None]
        longest = max((len(s) for s in tokenizer.encode(cells)), default=0) + 1
        if longest > self.max_target_length:
            n_cut = sum(len(s) + 1 > self.max_target_length for s in tokenizer.encode(cells))
            warnings.warn(
                f"{n_cut} target texts are longer than max_target_length="
                f"{self.max_target_length} subwords; they are cut in training.",
                UserWarning,
                stacklevel=5,
            )
        return min(longest, int(self.max_target_length))

    def _make_stack(self, fitted):
        model = fitted.get("subword_model_")
        tok = SubwordTokenizer.from_array(model) if model is not None else self.tokenizer_
        return SubwordStack(
            tok.vocab_size,
            self.d_model,
            self.encoder_layers,
            self.n_heads,
            self.ff_dim,
            self.dropout,
            cell=self.cell,
        )

    def _make_head(self, task, width: int, body=None):
        if task.type != "generation":
            return super()._make_head(task, width, body)
        stack = body.stack
        shared = self.decoder == "shared"
        decoder = getattr(stack, "shared_decoder", None) if shared else None
        if decoder is None:
            decoder = self._new_decoder(stack)
            if shared:
                stack.shared_decoder = decoder
        return GenerationHead(decoder, width, task_embedding=shared)

    def _new_decoder(self, stack: SubwordStack):
        embedding = stack.embedding if self.tie_embeddings == "all" else None
        tie = self.tie_embeddings is not False and self.tie_embeddings != 0
        if self.cell == "gru":
            return GRUDecoder(
                stack.vocab_size, self.d_model, self.decoder_layers, self.dropout, embedding, tie
            )
        return TransformerDecoder(
            stack.vocab_size,
            self.d_model,
            self.decoder_layers,
            self.n_heads,
            self.ff_dim,
            self.dropout,
            embedding,
            tie,
        )

    def predict(self, X, tasks=None):
        """Generate each task's text (and predict its row-level tasks) for the sources X.

        Parameters
        ----------
        X : list of str
            Source texts.
        tasks : list of str, default=None
            Only these tasks (None: all): a source from one corpus (an email)
            need not be decoded by another corpus's task (a translation).

        Returns
        -------
        Y_pred : DataFrame or dict
            One column per task, in the layout of the fitted Y; a generation
            task's cells are texts (decoded with ``beam_size``, ``max_length``
            and ``length_penalty``, which may be changed after fit).
        """
        preds, context, run, _ = self._predictions(X, tasks)
        return self._assemble(run, self._decode(run, preds, context), context)

    def _make_sampler(self, inputs):
        return LengthGroupedBatches(int(self.batch_size))

    def _callbacks(self) -> list:
        return [WarmupInverseSqrt(self.warmup_steps)]

    def _assemble(self, tasks, decoded, context):
        cols = {t.columns[0]: list(decoded[t.name]) for t in tasks}
        if self.target_layout_.kind == "frame":
            return pd.DataFrame(cols, columns=list(cols))
        return cols

    def _prediction_tasks(self, tasks) -> list:
        """The fitted tasks, generation ones copied with this model's decoding settings."""
        return [
            t.with_decoding(
                beam_size=self.beam_size,
                max_new_tokens=self.max_length,
                length_penalty=self.length_penalty,
            )
            if t.type == "generation"
            else t
            for t in tasks
        ]

    _single_output = False

    def _takes_text(self) -> bool:
        return True


def _texts(column) -> bool:
    """Whether a column holds a string (then it is a generation task; its other cells
    must be strings or missing)."""
    return any(isinstance(c, str) for c in np.asarray(column, dtype=object).ravel().tolist())


def _check_int(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
