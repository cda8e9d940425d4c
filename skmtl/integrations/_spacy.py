"""A fitted skmtl model as a spaCy pipeline component: ``nlp.add_pipe("skmtl", ...)``.

The factory :func:`make_skmtl_component` is registered as ``"skmtl"`` by
``Language.factory`` when this module is imported, and spaCy imports it through
skmtl's ``spacy_factories`` entry point, so ``nlp.add_pipe("skmtl")`` works in any
process where skmtl is installed.

The component runs the model once per batch of Docs (``nlp.pipe``) and writes
each task's predictions to the Doc: token tasks to ``token.pos_``, ``token.tag_``,
``token.lemma_``, ``token.morph`` or ``Token._.<name>``; IOB2 tasks to
``doc.ents`` or ``doc.spans[key]``; document-level tasks to ``doc.cats`` or
``Doc._.<name>``. ``nlp.to_disk`` stores the model in the pipeline directory
with :func:`skmtl.save` (a file that runs no code when loaded), and
``spacy.load`` reads it back from there.

Only spaCy is imported at module level (skmtl's own modules are imported when a
component is built), so that spaCy loading this entry point while skmtl itself
is being imported cannot import skmtl in a circle.
"""

import copy
import os
import re
import tempfile
import warnings
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span, Token
from spacy.util import minibatch

__all__ = ["SkmtlComponent", "make_skmtl_component"]

#: Where a target string sends a task's predictions (see :class:`SkmtlComponent`).
TOKEN_ATTRS = ("pos", "tag", "lemma", "morph")
_DEFAULT_TOKEN_ATTR = {
    "upos": "pos",
    "pos": "pos",
    "xpos": "tag",
    "tag": "tag",
    "tags": "tag",
    "lemma": "lemma",
    "lemmas": "lemma",
    "feats": "morph",
    "morph": "morph",
}
# Among several IOB2 tasks, the one whose name is first here gets doc.ents by default.
_ENTITY_NAMES = ("ner", "ents", "entities", "entity")
_CLASSIFICATION = ("binary", "multiclass", "multilabel")
_MODEL_FILES = {"safetensors": "model.safetensors", "joblib": "model.joblib"}
_CFG_FILE = "cfg.json"
_META_KEY = "skmtl"
_CATS_SCORES = ("proba", "labels")

# The names of the skmtl components this process built, per pipeline (Language
# object). A pipeline that spacy.load makes is new, but its meta.json (written with the
# pipeline) lists the skmtl components whose model is in the pipeline directory: those
# wait for from_disk instead of reading the model path of their config.
_BUILT: "weakref.WeakKeyDictionary[Language, set[str]]" = weakref.WeakKeyDictionary()


@Language.factory(
    "skmtl",
    default_config={
        "model": None,
        "attrs": {},
        "cats_prefix": None,
        "cats_scores": "proba",
        "allow_pickle": False,
    },
    assigns=[
        "token.pos",
        "token.tag",
        "token.lemma",
        "token.morph",
        "doc.ents",
        "doc.spans",
        "doc.cats",
    ],
)
def make_skmtl_component(
    nlp: Language,
    name: str,
    model: str | None,
    attrs: dict[str, str | None],
    cats_prefix: bool | None,
    cats_scores: str,
    allow_pickle: bool,
):
    """Build a :class:`SkmtlComponent`: the factory of ``nlp.add_pipe("skmtl", config=...)``.

    Parameters
    ----------
    nlp : spacy.language.Language
        The pipeline the component is added to.
    name : str
        The component's name in the pipeline.
    model : str or None
        The model file: one written by :func:`skmtl.save` (a fitted
        ``MultiTaskTagger``, ``MultiTaskClassifier``, ``MultiTaskEstimator``,
        ...), or, with ``allow_pickle=True``, a pickle / joblib file (e.g. a
        scikit-learn ``Pipeline`` ending in a skmtl estimator). None: no model
        yet (``spacy.load`` reads it from the pipeline directory, or call
        :meth:`SkmtlComponent.set_model`). In a pipeline loaded by
        ``spacy.load``, the copy in the pipeline directory is used and this
        path need not exist any more.
    attrs : dict of str to str or None
        Where each task's predictions go, overriding the defaults (see
        :class:`SkmtlComponent`); None (``null`` in a config file) drops a task.
    cats_prefix : bool or None
        Whether the ``doc.cats`` keys are ``"<task>:<label>"`` (True) or the
        labels (False); None: prefixed when more than one task writes to
        ``doc.cats``.
    cats_scores : {"proba", "labels"}
        ``doc.cats`` values: the model's probabilities, or 1.0 for the
        predicted label(s) (the model's thresholds apply) and 0.0 otherwise.
    allow_pickle : bool
        Whether a pickle / joblib model file may be read (unpickling can run
        any code: only for files you trust). :func:`skmtl.save` files need no
        permission.

    Returns
    -------
    SkmtlComponent

    Raises
    ------
    ValueError
        If the model file does not exist, is not a (fitted) skmtl model, or
        ``attrs`` names an unknown task or an unknown or unfitting target.
    """
    meta = nlp.meta.setdefault(_META_KEY, {})
    saved = meta.get("components", [])
    built = _BUILT.setdefault(nlp, set())
    from_pipeline_dir = name in saved and name not in built
    component = SkmtlComponent(
        nlp.vocab,
        name,
        model=None if from_pipeline_dir else model,
        attrs=attrs,
        cats_prefix=cats_prefix,
        cats_scores=cats_scores,
        allow_pickle=allow_pickle,
    )
    if from_pipeline_dir:
        component._pending = model
    meta["components"] = [*saved, name] if name not in saved else saved
    meta["skmtl_version"] = _skmtl_version()
    built.add(name)
    return component


class SkmtlComponent(Pipe):
    """A fitted skmtl model as a spaCy pipeline component.

    Add it with ``nlp.add_pipe("skmtl", config={"model": path})`` (see
    :func:`make_skmtl_component` for the config). A
    :class:`~skmtl.MultiTaskTagger` reads each Doc's tokens (``token.text``;
    whitespace tokens are skipped and left unannotated), so its predictions
    line up with spaCy's tokens; a sentence-level model
    (:class:`~skmtl.MultiTaskClassifier`, :class:`~skmtl.MultiTaskEstimator`,
    ... with ``encoder=TextEncoder(...)``, or a scikit-learn ``Pipeline`` of a
    vectorizer and one) reads ``doc.text``. ``nlp.pipe`` runs the model once per
    batch of Docs: the batch is hashed once, and its sentences, sorted by length,
    go through the network in chunks of at most :attr:`token_budget` padded
    tokens (``model.predict`` uses chunks of 256 sentences, which pad a small
    batch's short sentences to its longest ones); the predictions are the same.

    Where predictions go (``attrs={task: target}``; the defaults below apply to
    the tasks it does not name):

    ====================  ====================================================
    target                written to
    ====================  ====================================================
    ``"pos"``             ``token.pos_`` (the labels must be UD UPOS tags);
                          default for a token task named ``upos`` or ``pos``
    ``"tag"``             ``token.tag_``; default for ``xpos``, ``tag``
    ``"lemma"``           ``token.lemma_``; default for ``lemma``
    ``"morph"``           ``token.morph`` (UD FEATS strings); default for
                          ``feats``, ``morph``
    ``"ents"``            ``doc.ents`` from IOB2 tags (``O``, ``B-X``,
                          ``I-X``); default for the IOB2 task named ``ner``
                          (else the first IOB2 task)
    ``"spans"``,          ``doc.spans[task]`` / ``doc.spans[key]`` from IOB2
    ``"spans:<key>"``     tags; default for the other IOB2 tasks
    ``"cats"``            ``doc.cats`` (classification tasks); default for
                          binary, multiclass and multilabel document tasks
    ``"_.<name>"``        ``Token._.<name>`` (token task) or ``Doc._.<name>``
                          (document task), registered with ``default=None``
                          when missing; default for the other tasks, named
                          after the task
    None                  nothing (the task is not predicted)
    ====================  ====================================================

    Entities follow strict IOB2 (:func:`skmtl._spans.spans`, as skmtl's span
    F1): an ``I-X`` that continues no ``B-X`` starts no entity. ``doc.ents`` is
    replaced; ``doc.cats`` is updated. In ``doc.cats`` a multiclass or
    multilabel task gives one score per label, a binary task with labels
    ``0``/``1`` (or ``False``/``True``) one score keyed by the task's name,
    another binary task one score per label.

    Parameters
    ----------
    vocab : spacy.vocab.Vocab
        The pipeline's vocabulary.
    name : str, default="skmtl"
        The component's name.
    model : str, path-like, estimator or None, default=None
        A model file (see :func:`make_skmtl_component`) or a fitted model
        (deep-copied, as :meth:`set_model`).
    attrs : dict, default=None
        ``{task: target}``, see above.
    cats_prefix : bool or None, default=None
        ``doc.cats`` keys ``"<task>:<label>"`` (True) or the labels (False);
        None: prefixed when several tasks write to ``doc.cats``.
    cats_scores : {"proba", "labels"}, default="proba"
        ``doc.cats`` values: probabilities, or 1.0 / 0.0 for the predicted
        label(s).
    allow_pickle : bool, default=False
        Whether pickle / joblib model files may be read (only files you trust).

    Attributes
    ----------
    model : estimator or None
        The fitted model (a skmtl estimator or a scikit-learn Pipeline).
    targets : dict of str to str
        Each predicted task's target, defaults filled in.
    token_budget : int or None
        Padded tokens per forward pass for a model that reads texts (class
        default 2048; see above). None: ``model.predict``'s chunks.

    Examples
    --------
    >>> import os, tempfile
    >>> import spacy
    >>> import skmtl
    >>> from skmtl.datasets import load_ewt
    >>> from skmtl.encoders import TextEncoder
    >>> from skmtl._spans import spans
    >>> train = load_ewt(split="train", tasks=("upos", "ner"))
    >>> tagger = skmtl.MultiTaskTagger(TextEncoder(width=32, embed_dim=16, depth=1),
    ...                                crf=["ner"], max_epochs=2, random_state=0)
    >>> tagger = tagger.fit(train.tokens, train.targets)
    >>> tmp = tempfile.mkdtemp()
    >>> path = os.path.join(tmp, "tagger.safetensors")
    >>> skmtl.save(tagger, path)
    >>> nlp = spacy.blank("en")
    >>> component = nlp.add_pipe("skmtl", config={"model": path})
    >>> component.targets
    {'upos': 'pos', 'ner': 'ents'}
    >>> doc = nlp("I flew from Paris to Berlin with Lufthansa.")
    >>> pred = tagger.predict([[t.text for t in doc]])
    >>> [t.pos_ for t in doc] == pred["upos"][0]
    True
    >>> [(e.label_, e.start, e.end) for e in doc.ents] == spans(pred["ner"][0])
    True
    >>> print(doc[0].text, doc[0].pos_ in spacy.parts_of_speech.IDS)
    I True

    The pipeline keeps its own copy of the model (written with
    :func:`skmtl.save`), so it loads without the original file:

    >>> nlp.to_disk(os.path.join(tmp, "pipeline"))
    >>> os.remove(path)
    >>> nlp2 = spacy.load(os.path.join(tmp, "pipeline"))
    >>> [t.pos_ for t in nlp2(doc.text)] == [t.pos_ for t in doc]
    True
    >>> import shutil; shutil.rmtree(tmp)
    """

    def __init__(
        self,
        vocab,
        name: str = "skmtl",
        *,
        model=None,
        attrs: dict | None = None,
        cats_prefix: bool | None = None,
        cats_scores: str = "proba",
        allow_pickle: bool = False,
    ) -> None:
        if cats_scores not in _CATS_SCORES:
            raise ValueError(
                f"skmtl component {name!r}: cats_scores must be one of {list(_CATS_SCORES)}, "
                f"got {cats_scores!r}."
            )
        if attrs is not None and not isinstance(attrs, dict):
            raise ValueError(
                f"skmtl component {name!r}: attrs must be a dict {{task: target}}, got "
                f"{type(attrs).__name__}."
            )
        if cats_prefix is not None and not isinstance(cats_prefix, bool):
            raise ValueError(
                f"skmtl component {name!r}: cats_prefix must be None, True or False, got "
                f"{cats_prefix!r}."
            )
        self.vocab = vocab
        self.name = name
        self.attrs = dict(attrs or {})
        self.cats_prefix = cats_prefix
        self.cats_scores = cats_scores
        self.allow_pickle = bool(allow_pickle)
        self.model = None
        self._pending = None  # the config's model path while the pipeline dir's copy is due
        self._clear()
        if model is None:
            return
        if isinstance(model, (str, os.PathLike)):
            self._use(_read_model(model, self.allow_pickle, name), f"{os.fspath(model)}: ")
        else:
            self.set_model(model)

    # ------------------------------------------------------------------ the model

    def set_model(self, model, *, copy_model: bool = True) -> "SkmtlComponent":
        """Use a fitted model object (a skmtl estimator or a Pipeline ending in one).

        Parameters
        ----------
        model : estimator
            The fitted model.
        copy_model : bool, default=True
            Keep a deep copy, so that refitting ``model`` later does not change
            the pipeline (the component never modifies the model either way).

        Returns
        -------
        self : SkmtlComponent

        Raises
        ------
        ValueError
            If ``model`` is not a fitted skmtl model, or ``attrs`` does not fit it.
        """
        _check_model(model, self.name)  # before copying a wrong object
        self._use(copy.deepcopy(model) if copy_model else model)
        return self

    def _clear(self) -> None:
        self.model = None
        self._estimator = self._pre = self._input = None
        self._names = None
        self.targets = {}
        self._plan = None

    def _use(self, model, where: str = "") -> None:
        """Check ``model`` and the mapping; then (only then) make it the component's model."""
        estimator, pre, kind = _check_model(model, self.name, where)
        targets, plan = self._make_plan(estimator)
        self.model, self._estimator, self._pre, self._input = model, estimator, pre, kind
        self.targets, self._plan = targets, plan
        names = list(targets)
        self._names = None if names == list(estimator.tasks_) else names
        self._pending = None

    def _require_model(self) -> None:
        if self._estimator is not None:
            return
        if self._pending is not None:
            raise ValueError(
                f"skmtl component {self.name!r} has no model: the pipeline directory held none, "
                f"and its config's model {self._pending!r} was not read (a loaded pipeline "
                "reads the copy in its directory)."
            )
        raise ValueError(
            f"skmtl component {self.name!r} has no model: add it with "
            "config={'model': path} (a file written by skmtl.save), call set_model(model), or "
            "load a pipeline saved with one."
        )

    # ------------------------------------------------------------------ mapping

    def _make_plan(self, estimator) -> tuple[dict, dict]:
        """Each task's target (checked, defaults filled in) and the writers of a batch."""
        from ..heads import is_bio_tagset

        tasks = estimator.tasks_
        unknown = [k for k in self.attrs if k not in tasks]
        if unknown:
            raise ValueError(
                f"skmtl component {self.name!r}: attrs names unknown task(s) {unknown}; the "
                f"model's tasks are {list(tasks)}."
            )
        parsed = {k: self._parse_target(tasks[k], v, explicit=True) for k, v in self.attrs.items()}
        taken = {t for t in parsed.values() if t is not None and not t.startswith(("_.", "spans"))}
        bio = [n for n, t in tasks.items() if n not in parsed and _is_bio(t, is_bio_tagset)]
        if bio and "ents" not in taken:
            preferred = [n for n in bio if n.lower() in _ENTITY_NAMES]
            parsed[(preferred or bio)[0]] = "ents"
            taken.add("ents")
        for name, task in tasks.items():
            if name in parsed:
                continue
            target = self._default_target(task, taken, is_bio_tagset)
            parsed[name] = target
            if target in TOKEN_ATTRS:
                taken.add(target)
        targets = {n: parsed[n] for n in tasks if parsed[n] is not None}
        return targets, self._writers(tasks, targets)

    def _parse_target(self, task, target, explicit: bool) -> str | None:
        from ..heads import is_bio_tagset

        where = f"skmtl component {self.name!r}: attrs[{task.name!r}]"
        if target is None or target == "":
            return None
        if not isinstance(target, str):
            raise ValueError(f"{where} must be a str or None, got {target!r}.")
        token = task.level == "token"
        if target.startswith("_."):
            if not target[2:]:
                raise ValueError(f"{where} is {target!r}: name the extension ('_.<name>').")
            return target
        if target in TOKEN_ATTRS or target == "ents" or target.split(":", 1)[0] == "spans":
            if not token:
                raise ValueError(
                    f"{where} is {target!r}, a token attribute, but {task.name!r} is a "
                    f"{task.type} task with one prediction per document; use 'cats' (for a "
                    f"classification task) or '_.{_ext_name(task.name)}'."
                )
            if target == "spans:":
                raise ValueError(f"{where} is 'spans:': name the key ('spans:<key>').")
            if (target == "ents" or target.startswith("spans")) and not _is_bio(
                task, is_bio_tagset
            ):
                raise ValueError(
                    f"{where} is {target!r}, but the tags of {task.name!r} are not IOB2 "
                    f"('O', 'B-<type>', 'I-<type>'): {_few(task.classes)}."
                )
            if target == "pos":
                bad = _bad_upos(task.classes)
                if bad:
                    raise ValueError(
                        f"{where} is 'pos', but token.pos_ takes UD UPOS tags only and "
                        f"{task.name!r} has the labels {bad[:10]}; map it to 'tag' or "
                        f"'_.{_ext_name(task.name)}'."
                    )
            if target == "morph":
                bad = self._bad_morph(task.classes)
                if bad:
                    raise ValueError(
                        f"{where} is 'morph', but {bad[:5]} are no morphological features "
                        "('Feat=Value|...'); map it to another target."
                    )
            return target
        if target == "cats":
            if token or task.type not in _CLASSIFICATION:
                raise ValueError(
                    f"{where} is 'cats', but {task.name!r} is a {task.type} task; doc.cats "
                    "holds the scores of binary, multiclass and multilabel document tasks. "
                    f"Use '_.{_ext_name(task.name)}'."
                )
            return target
        raise ValueError(
            f"{where} is {target!r}, no known target; use one of {list(TOKEN_ATTRS)}, 'ents', "
            "'spans', 'spans:<key>' (token tasks), 'cats' (document classification tasks), "
            "'_.<name>' (an extension attribute) or None."
        )

    def _default_target(self, task, taken: set, is_bio_tagset) -> str:
        if task.level == "token":
            attr = _DEFAULT_TOKEN_ATTR.get(task.name.lower())
            if _is_bio(task, is_bio_tagset):
                return f"spans:{task.name}"
            if attr is not None and attr not in taken:
                if attr == "pos" and _bad_upos(task.classes):
                    attr = None
                elif attr == "morph" and self._bad_morph(task.classes):
                    attr = None
                if attr is not None:
                    return attr
        elif task.type in _CLASSIFICATION:
            return "cats"
        return f"_.{_ext_name(task.name)}"

    def _bad_morph(self, classes) -> list:
        bad = []
        for label in classes.tolist():
            try:
                self.vocab.morphology.add(str(label))
            except (ValueError, TypeError):
                bad.append(label)
        return bad

    def _writers(self, tasks, targets: dict) -> dict:
        """What a batch writes, checked: one task per token attribute and for doc.ents,
        distinct spans keys, extensions that can be set, distinct doc.cats keys."""
        plan = {"token": [], "ents": None, "spans": [], "cats": [], "doc_ext": []}
        seen: dict[str, str] = {}
        cat_tasks = [n for n, t in targets.items() if t == "cats"]
        prefix = len(cat_tasks) > 1 if self.cats_prefix is None else self.cats_prefix
        cat_keys: dict[str, str] = {}
        where = f"skmtl component {self.name!r}"
        for name, target in targets.items():
            task = tasks[name]
            slot = target if not target.startswith("_.") else f"{task.level}:{target}"
            if target.startswith("spans"):
                slot = f"spans:{target.split(':', 1)[1] if ':' in target else name}"
            if target != "cats" and slot in seen:
                raise ValueError(
                    f"{where}: the tasks {seen[slot]!r} and {name!r} both write to {target!r}; "
                    "map one of them elsewhere in attrs."
                )
            seen[slot] = name
            if target in TOKEN_ATTRS:
                labels = task.classes.tolist()
                plan["token"].append((name, target, not all(isinstance(x, str) for x in labels)))
            elif target == "ents":
                plan["ents"] = name
            elif target.startswith("spans"):
                plan["spans"].append((name, slot.split(":", 1)[1]))
            elif target == "cats":
                keys = _cat_keys(task, prefix)
                for key in keys.values():
                    if key in cat_keys:
                        raise ValueError(
                            f"{where}: the tasks {cat_keys[key]!r} and {name!r} both give the "
                            f"doc.cats key {key!r}; set cats_prefix=True (keys "
                            "'<task>:<label>') or map one task elsewhere."
                        )
                    cat_keys[key] = name
                plan["cats"].append((name, task, keys))
            else:
                ext = target[2:]
                owner = Token if task.level == "token" else Doc
                _ensure_extension(owner, ext, where)
                if owner is Token:
                    plan["token"].append((name, target, False))
                else:
                    plan["doc_ext"].append((name, ext))
        return plan

    # ------------------------------------------------------------------ processing

    def __call__(self, doc: Doc) -> Doc:
        """Annotate one Doc (in place) and return it."""
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Annotate a stream of Docs, running the model once per batch of ``batch_size``.

        Parameters
        ----------
        stream : iterable of Doc
        batch_size : int, default=128
            Docs per model call (``nlp.pipe(..., batch_size=...)`` passes its own).

        Yields
        ------
        Doc
            The Docs, annotated, in order.
        """
        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=batch_size):
            try:
                self.set_annotations(docs, self.predict(docs))
            except Exception as exc:
                error_handler(self.name, self, docs, exc)
                continue
            yield from docs

    def predict(self, docs) -> dict:
        """Run the model once over ``docs`` without changing them.

        Returns
        -------
        predictions : dict
            ``rows``: the positions in ``docs`` of the Docs that were run (a Doc
            without a token that is not whitespace is skipped); ``positions``:
            for each, the token indices that were fed to a tagger (None: all);
            ``raw``: each task's output of the network (probabilities of the
            classification tasks); ``decoded``: each task's predictions, as
            ``model.predict`` gives them.
        """
        self._require_model()
        docs = list(docs)
        rows, positions, X = [], [], []
        if self._input == "tokens":
            for i, doc in enumerate(docs):
                words = [t.text for t in doc]
                keep = None
                if not all(words) or any(map(str.isspace, words)):
                    keep = [j for j, w in enumerate(words) if w and not w.isspace()]
                    words = [words[j] for j in keep]
                if words:
                    rows.append(i)
                    positions.append(keep)
                    X.append(words)
        else:
            for i, doc in enumerate(docs):
                text = doc.text
                if text and not text.isspace():
                    rows.append(i)
                    positions.append(None)
                    X.append(text)
        if not X:
            return {"rows": [], "positions": [], "raw": {}, "decoded": {}}
        raw, decoded = self._run_model(X if self._pre is None else self._pre.transform(X))
        return {"rows": rows, "positions": positions, "raw": raw, "decoded": decoded}

    #: Padded tokens per forward pass (sentences x longest sentence) when the model
    #: reads texts: a batch's sentences, sorted by length, are cut into chunks of at
    #: most this many padded tokens (and at most 256 sentences). None: the chunks of
    #: ``model.predict`` (256 sentences).
    token_budget = 2048

    def _run_model(self, X) -> tuple[dict, dict]:
        """One model call over the batch: each task's network output and its decoded
        predictions, as ``model.predict`` decodes them.

        The inputs are prepared (hashed) once; the forward passes run over chunks of
        the length-sorted sentences that hold at most :attr:`token_budget` padded
        tokens each. ``model.predict`` cuts its sorted input into chunks of 256
        sentences instead: fine for a large input, whose chunks hold sentences of
        similar lengths, but a batch of 1,000 (``nlp.pipe``'s default) or fewer
        sentences then pads short sentences to the batch's longest ones (1.6 times
        the padded tokens of the whole EWT test set at 1,000 docs per batch, 3.7
        times at 256), and the padding costs as much as real tokens.
        """
        from ..engine import predict as run_network
        from ..tasks import token_index

        est = self._estimator
        names = self._names
        if self.token_budget is None or any(
            t.level not in ("row", "token") for t in est.tasks_.values()
        ):  # as model.predict (generation tasks, for one, predict no array per token)
            raw, context, tasks, _ = est._predictions(X, names)
            return raw, est._decode(tasks, raw, context)
        tasks = list(est.tasks_.values()) if names is None else [est.tasks_[n] for n in names]
        inputs, context, _ = est._prepare_inputs(X, fitting=False)
        run = est._prediction_tasks(tasks)
        condition = est._condition(est.weighting_)
        lengths = getattr(inputs, "lengths", None)
        if lengths is None:  # a feature matrix: no padding
            raw = run_network(est.module_, run, inputs, est.device_, condition=condition)
            return raw, est._decode(tasks, raw, context)
        lengths = np.asarray(lengths, dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        parts: dict[str, list] = {t.name: [] for t in run}
        for a, b in _budget_chunks(lengths[order].tolist(), self.token_budget, 256):
            out = run_network(
                est.module_,
                run,
                inputs.take(order[a:b]),
                est.device_,
                batch_size=b - a,
                condition=condition,
            )
            for name, values in out.items():
                parts[name].append(values)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        raw = {}
        for t in run:
            values = np.concatenate(parts[t.name])
            unsorted = np.empty_like(values)
            if t.level == "token":
                unsorted[token_index(offsets, order)] = values
            else:
                unsorted[order] = values
            raw[t.name] = unsorted
        return raw, est._decode(tasks, raw, context)

    def set_annotations(self, docs, predictions: dict) -> None:
        """Write the output of :meth:`predict` to ``docs`` (the same Docs, in the same order)."""
        from .._spans import spans as iob2_spans

        if not predictions["rows"]:
            return
        plan = self._plan
        decoded, raw = predictions["decoded"], predictions["raw"]
        docs = docs if isinstance(docs, list) else list(docs)
        token_writers = [(decoded[n], target, as_str) for n, target, as_str in plan["token"]]
        span_writers = [(decoded[n], key) for n, key in plan["spans"]]
        ents = decoded[plan["ents"]] if plan["ents"] is not None else None
        cats = self._cat_values(plan["cats"], raw, decoded)
        doc_exts = [(decoded[n], ext) for n, ext in plan["doc_ext"]]
        rows = zip(predictions["rows"], predictions["positions"], strict=True)
        for k, (i, keep) in enumerate(rows):
            doc = docs[i]
            if token_writers:
                tokens = list(doc) if keep is None else [doc[j] for j in keep]
                for values, target, as_str in token_writers:
                    tags = values[k]
                    if as_str:
                        tags = [str(v) for v in tags]
                    _write_tokens(tokens, tags, target)
            if ents is not None:
                doc.set_ents(_spans(doc, iob2_spans(ents[k]), keep), default="outside")
            for values, key in span_writers:
                doc.spans[key] = _spans(doc, iob2_spans(values[k]), keep)
            for keys, values in cats:
                doc.cats.update(zip(keys, values[k], strict=True))
            for values, ext in doc_exts:
                doc._.set(ext, _plain(values[k]))

    def _cat_values(self, cats, raw, decoded) -> list:
        """Per doc.cats task: (keys, one list of scores per predicted row)."""
        out = []
        for name, task, keys in cats:
            columns = list(keys)
            names = [keys[j] for j in columns]
            if self.cats_scores == "proba":
                scores = raw[name][:, columns].tolist()
            else:
                scores = _label_scores(task, decoded[name], columns)
            out.append((names, scores))
        return out

    # ------------------------------------------------------------------ serialization

    def to_disk(self, path, *, exclude=()) -> None:
        """Write the model to the directory ``path`` (``nlp.to_disk`` calls this).

        The model goes to ``model.safetensors`` (:func:`skmtl.save`: loading it runs no
        code); a model that file cannot hold (a scikit-learn Pipeline, a subclass)
        goes to ``model.joblib`` instead, which only a component with
        ``allow_pickle=True`` reads back (a warning says so unless it has it).
        ``cfg.json`` says which. ``exclude=["model"]`` writes no model.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        fmt = None
        if self.model is not None and "model" not in exclude:
            fmt = self._write_model(path)
        srsly.write_json(path / _CFG_FILE, {"format": fmt, "skmtl_version": _skmtl_version()})

    def from_disk(self, path, *, exclude=()) -> "SkmtlComponent":
        """Read the model that :meth:`to_disk` wrote to ``path`` (``spacy.load`` calls this)."""
        path = Path(path)
        if not (path / _CFG_FILE).is_file():
            raise ValueError(
                f"skmtl component {self.name!r}: {str(path)!r} holds no saved skmtl component "
                f"(no {_CFG_FILE})."
            )
        fmt = srsly.read_json(path / _CFG_FILE).get("format")
        if fmt is not None and "model" not in exclude:
            self._read_saved(path / _MODEL_FILES[_check_format(fmt, self.name)], fmt)
        return self

    def to_bytes(self, *, exclude=()) -> bytes:
        """The model file of :meth:`to_disk` as bytes (``nlp.to_bytes`` calls this)."""
        fmt, data = None, b""
        if self.model is not None and "model" not in exclude:
            with tempfile.TemporaryDirectory() as tmp:
                fmt = self._write_model(Path(tmp))
                data = (Path(tmp) / _MODEL_FILES[fmt]).read_bytes()
        return srsly.msgpack_dumps({"format": fmt, "model": data})

    def from_bytes(self, bytes_data: bytes, *, exclude=()) -> "SkmtlComponent":
        """Read the output of :meth:`to_bytes` (``nlp.from_bytes`` calls this)."""
        msg = srsly.msgpack_loads(bytes_data)
        fmt = msg.get("format")
        if fmt is not None and "model" not in exclude:
            with tempfile.TemporaryDirectory() as tmp:
                file = Path(tmp) / _MODEL_FILES[_check_format(fmt, self.name)]
                file.write_bytes(msg["model"])
                self._read_saved(file, fmt)
        return self

    def _write_model(self, path: Path) -> str:
        from .. import save

        target = path / _MODEL_FILES["safetensors"]
        try:
            save(self.model, target)
            fmt = "safetensors"
        except TypeError as exc:
            import joblib

            if not self.allow_pickle:
                warnings.warn(
                    f"skmtl component {self.name!r}: skmtl.save cannot hold this model ({exc}); "
                    f"it is written with joblib (a pickle) to {_MODEL_FILES['joblib']!r} "
                    "instead. Loading a pickle can run code, so the component reads it only "
                    f"with allow_pickle=True: {_pickle_hint(self.name)}.",
                    UserWarning,
                    stacklevel=3,
                )
            joblib.dump(self.model, path / _MODEL_FILES["joblib"])
            fmt = "joblib"
        stale = path / _MODEL_FILES["joblib" if fmt == "safetensors" else "safetensors"]
        if stale.exists():
            stale.unlink()
        return fmt

    def _read_saved(self, file: Path, fmt: str) -> None:
        if fmt == "joblib" and not self.allow_pickle:
            raise ValueError(
                f"skmtl component {self.name!r}: the saved model {str(file)!r} is a pickle "
                "(joblib), written because skmtl.save cannot hold it; loading a pickle can run "
                "any code, so it is read only with allow_pickle=True. If you trust this "
                f"pipeline: {_pickle_hint(self.name)}."
            )
        self._use(_read_model(file, fmt == "joblib", self.name), f"{file}: ")

    def __repr__(self) -> str:
        model = "no model" if self._estimator is None else type(self.model).__name__
        return f"SkmtlComponent(name={self.name!r}, {model}, targets={self.targets})"


# ---------------------------------------------------------------------- helpers


def _skmtl_version() -> str:
    from .. import __version__

    return __version__


def _pickle_hint(name: str) -> str:
    override = {"components": {name: {"allow_pickle": True}}}
    return f"spacy.load(path, config={override!r})"


def _check_format(fmt, name: str) -> str:
    if fmt not in _MODEL_FILES:
        raise ValueError(f"skmtl component {name!r}: unknown saved model format {fmt!r}.")
    return fmt


def _read_model(path, allow_pickle: bool, name: str):
    """The object in a model file: :func:`skmtl.load`, or joblib when allowed."""
    from .. import load

    where = f"skmtl component {name!r}"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{where}: model must be a path (str), got {type(path).__name__}.")
    path = Path(path).expanduser()
    if not path.exists():
        raise ValueError(f"{where}: the model file {str(path)!r} does not exist.")
    if path.is_dir():
        raise ValueError(
            f"{where}: the model {str(path)!r} is a directory; give the file that "
            "skmtl.save(model, path) wrote."
        )
    try:
        return load(path)
    except ValueError as exc:
        reason = str(exc)
    if not allow_pickle:
        raise ValueError(
            f"{where}: {str(path)!r} is not an skmtl model file ({reason}) A pickle or joblib "
            "file of a model (e.g. a scikit-learn Pipeline ending in a skmtl estimator) is "
            "read only with allow_pickle=True, and only if you trust it: unpickling can run "
            "any code."
        )
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # joblib / pickle raise many types for a file of another kind
        raise ValueError(
            f"{where}: {str(path)!r} is neither an skmtl model file ({reason}) nor a "
            f"pickle / joblib file ({type(exc).__name__}: {exc})."
        ) from None


def _check_model(model, name: str, where: str = "") -> tuple[Any, Any, str]:
    """``(estimator, preprocessing or None, "tokens" | "text")``; a ValueError when the
    model is no fitted skmtl model that can read a Doc."""
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from ..base import BaseMultiTaskEstimator
    from ..estimators._tagger import MultiTaskTagger

    prefix = f"skmtl component {name!r}: {where}"
    estimator, pre = model, None
    if isinstance(model, Pipeline):
        estimator = model.steps[-1][1]
        pre = model[:-1] if len(model.steps) > 1 else None
    if not isinstance(estimator, BaseMultiTaskEstimator):
        raise ValueError(
            f"{prefix}the model must be a fitted skmtl estimator (MultiTaskTagger, "
            "MultiTaskClassifier, MultiTaskEstimator, ...) or a scikit-learn Pipeline ending in "
            f"one, got {_describe(model)}."
        )
    if not (hasattr(estimator, "module_") and hasattr(estimator, "tasks_")):
        raise ValueError(
            f"{prefix}the {type(estimator).__name__} is not fitted; fit it before using it in "
            "spaCy (and save the fitted model with skmtl.save)."
        )
    if pre is not None:
        for step_name, step in pre.steps:
            if step is None or step == "passthrough":
                continue
            try:
                check_is_fitted(step)
            except NotFittedError:
                raise ValueError(
                    f"{prefix}the Pipeline step {step_name!r} ({type(step).__name__}) is not "
                    "fitted."
                ) from None
    if isinstance(estimator, MultiTaskTagger):
        if pre is not None:
            raise ValueError(
                f"{prefix}a MultiTaskTagger reads the Doc's tokens itself; use it without a "
                "Pipeline in front."
            )
        return estimator, None, "tokens"
    if pre is None and not estimator._takes_text():
        raise ValueError(
            f"{prefix}this {type(estimator).__name__} reads a numeric feature matrix, not "
            "text; fit it with encoder=skmtl.encoders.TextEncoder(...), or in a scikit-learn "
            "Pipeline after a vectorizer (e.g. TfidfVectorizer), to use it on spaCy Docs."
        )
    return estimator, pre, "text"


def _describe(model) -> str:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return f"a Pipeline ending in a {type(model.steps[-1][1]).__name__}"
    return f"a {type(model).__name__}"


def _is_bio(task, is_bio_tagset) -> bool:
    return task.level == "token" and task.classes is not None and is_bio_tagset(task.classes)


def _bad_upos(classes) -> list:
    from spacy.parts_of_speech import IDS

    return [c for c in classes.tolist() if not isinstance(c, str) or c not in IDS or c == ""]


def _few(classes, n: int = 8) -> str:
    labels = classes.tolist()
    return repr(labels[:n])[:-1] + (", ...]" if len(labels) > n else "]")


def _ext_name(task: str) -> str:
    name = str(task)
    if name.isidentifier():
        return name
    return "skmtl_" + re.sub(r"\W", "_", name)


def _ensure_extension(owner, ext: str, where: str) -> None:
    """Register ``owner._.<ext>`` (``default=None``) unless it exists as a plain attribute."""
    kind = owner.__name__
    if owner.has_extension(ext):
        default, method, getter, setter = owner.get_extension(ext)
        if method is not None or (getter is not None and setter is None):
            raise ValueError(
                f"{where}: {kind}._.{ext} already exists as a "
                f"{'method' if method is not None else 'read-only property'}; map the task "
                "to another extension name in attrs."
            )
        return
    try:
        owner.set_extension(ext, default=None)
    except ValueError as exc:
        raise ValueError(f"{where}: cannot register {kind}._.{ext} ({exc}).") from None


def _cat_keys(task, prefix: bool) -> dict[int, str]:
    """``{column of the probabilities: doc.cats key}`` of a classification task."""
    labels = task.classes.tolist()
    if task.type == "binary" and _boolean_labels(labels):
        return {1: str(task.name)}
    head = f"{task.name}:" if prefix else ""
    return {j: f"{head}{label}" for j, label in enumerate(labels)}


def _boolean_labels(labels: list) -> bool:
    return all(isinstance(x, (bool, int)) for x in labels) and labels == [0, 1]


def _label_scores(task, decoded, columns: list) -> list:
    """1.0 for the predicted label(s), else 0.0, per row, for ``columns``."""
    labels = task.classes.tolist()
    if task.type == "multilabel":
        if task.block:  # a 0/1 row per document
            return [[float(row[j]) for j in columns] for row in decoded]
        return [[float(labels[j] in set(row)) for j in columns] for row in decoded]
    index = {label: j for j, label in enumerate(labels)}
    return [[float(index[_plain(v)] == j) for j in columns] for v in decoded]


def _plain(value):
    """A NumPy value (scalar or array) as plain Python; other values as they are."""
    return value.tolist() if hasattr(value, "tolist") else value


def _write_tokens(tokens: list, tags: list, target: str) -> None:
    if target == "pos":
        for token, tag in zip(tokens, tags, strict=True):
            token.pos_ = tag
    elif target == "tag":
        for token, tag in zip(tokens, tags, strict=True):
            token.tag_ = tag
    elif target == "lemma":
        for token, tag in zip(tokens, tags, strict=True):
            token.lemma_ = tag
    elif target == "morph":
        for token, tag in zip(tokens, tags, strict=True):
            token.set_morph(tag)
    else:  # "_.<name>"
        ext = target[2:]
        for token, tag in zip(tokens, tags, strict=True):
            token._.set(ext, tag)


def _budget_chunks(sorted_lengths: list, budget: int, cap: int) -> list[tuple[int, int]]:
    """``(start, stop)`` chunks of length-sorted sentences: each at most ``cap`` sentences
    and at most ``budget`` padded tokens (sentences x the chunk's longest), at least one."""
    chunks, a, n = [], 0, len(sorted_lengths)
    while a < n:
        b = a + 1
        while b < n and b - a < cap and (b + 1 - a) * max(sorted_lengths[b], 1) <= budget:
            b += 1
        chunks.append((a, b))
        a = b
    return chunks


def _spans(doc: Doc, entities: list, keep: list | None) -> list:
    """Spans of ``(label, start, end)`` over the fed tokens ``keep`` (None: all tokens)."""
    if keep is None:
        return [Span(doc, start, end, label=label) for label, start, end in entities]
    return [Span(doc, keep[a], keep[b - 1] + 1, label=label) for label, a, b in entities]
