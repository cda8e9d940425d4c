"""Hashed lexical features from a spaCy tokenizer, as a scikit-learn transformer."""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
import scipy.sparse as sp
import spacy
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

__all__ = ["SpacyFeaturizer"]

#: Lexical attributes a user may ask for, mapped to the spaCy ``Token`` attribute read.
_ATTRS: dict[str, str] = {
    "norm": "norm_",
    "lower": "lower_",
    "prefix": "prefix_",
    "suffix": "suffix_",
    "shape": "shape_",
    "lemma": "lemma_",
}
_BLANK = "blank:"
_NAME = "SpacyFeaturizer"


@dataclass(frozen=True)
class _Spec:
    """The validated parameters that ``fit`` saw (``transform`` uses these)."""

    model: str
    attrs: tuple[str, ...]
    ngram_range: tuple[int, int]
    n_features: int
    binary: bool
    norm: str | None
    sublinear_tf: bool
    vectors: bool
    batch_size: int
    n_process: int


class SpacyFeaturizer(TransformerMixin, BaseEstimator):
    """Hashed lexical features of texts, tokenized by a spaCy pipeline.

    Each document is tokenized by spaCy (streamed with ``nlp.pipe``); every
    non-whitespace token contributes one ``"<attr>=<value>"`` string per
    lexical attribute in `attrs` (``"norm=cats"``, ``"suffix=ats"``,
    ``"shape=xxxx"``...), and word n-grams of the token norms contribute
    ``"ngram=<a> <b>"`` strings. The strings are counted into a fixed hashing
    space with :class:`~sklearn.feature_extraction.FeatureHasher` (signed
    32-bit MurmurHash3, ``alternate_sign=False`` so all counts are >= 0),
    then optionally made binary or sublinear and row-normalised, like
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer` without idf.

    Hashing is stateless: ``fit`` only validates the parameters and loads
    the spaCy pipeline, and nothing is learned from the texts.

    Parameters
    ----------
    model : str, default="blank:en"
        The spaCy pipeline. ``"blank:<lang>"`` builds ``spacy.blank(lang)``
        (a rule-based tokenizer only; no download and no network needed).
        Any other string is the name (or path) of an installed pipeline,
        loaded with ``spacy.load``; components that the requested features
        do not need are disabled (lexical attributes need only the
        tokenizer; ``"lemma"`` keeps the pipeline up to its last component
        that sets lemmas; static vectors need only the vectors table).
    attrs : sequence of str, default=("norm", "prefix", "suffix", "shape")
        Lexical token attributes to hash, among ``"norm"``, ``"lower"``,
        ``"prefix"``, ``"suffix"``, ``"shape"`` (spaCy's ``token.norm_``,
        ...) and ``"lemma"`` (only with a pipeline that has a lemmatizer).
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        Word n-grams of the token norms with ``min_n <= n <= max_n`` are
        hashed as ``"ngram=<norm_1> ... <norm_n>"``. Unigrams are not
        repeated here: they are the ``"norm=..."`` features (include
        ``"norm"`` in `attrs` for them), so the default adds no n-gram.
    n_features : int, default=2**20
        Number of hashed columns.
    binary : bool, default=False
        If True, every non-zero count is set to 1.
    norm : {"l2", "l1"} or None, default="l2"
        Normalisation of each row of hashed features; ``None`` keeps counts.
        Empty documents stay all-zero rows. The vector columns (see
        `vectors`) are not normalised.
    sublinear_tf : bool, default=False
        If True, counts ``tf`` become ``1 + log(tf)`` (before `norm`).
    vectors : bool, default=False
        If True, append the mean of the pipeline's static word vectors over
        the non-whitespace tokens of each document (zeros for
        out-of-vocabulary tokens and for empty documents) as extra columns.
        The pipeline must have a vectors table (e.g. ``en_core_web_md``);
        ``fit`` raises a ``ValueError`` otherwise.
    batch_size : int, default=256
        Number of texts per batch in ``nlp.pipe``.
    n_process : int, default=1
        Number of processes of ``nlp.pipe`` (``-1``: all CPUs).

    Attributes
    ----------
    n_features_out_ : int
        Number of output columns: `n_features` plus `vector_size_`.
    vector_size_ : int
        Width of the appended static vectors (0 when ``vectors=False``).

    Notes
    -----
    Input is one document per row: a list, a 1-D numpy array or a pandas
    Series of strings (a one-column DataFrame or 2-D array is accepted and
    flattened, so ``ColumnTransformer`` may select ``"text"`` or
    ``["text"]``). ``None``, NaN and other non-strings raise a ``ValueError``
    naming the row; empty strings give all-zero rows. A single string
    raises a ``ValueError`` (wrap it in a list).

    The output is a float32 CSR sparse matrix of shape
    ``(n_documents, n_features_out_)``.

    When only the tokenizer runs, spaCy's ``nlp.max_length`` limit (1,000,000
    characters by default, a memory guard for the parser and NER) is lifted,
    so texts of any length work. When other components run (``"lemma"``
    with an installed pipeline), longer texts raise a ``ValueError`` naming
    the row: split them first.

    The spaCy ``Language`` object is not pickled (nor deep-copied): it is
    kept in a private cache and reloaded by name on first use after
    unpickling, so the pipeline must be installed where the model is
    loaded. Parameters changed with ``set_params`` take effect at the next
    ``fit``.

    :meth:`get_feature_names_out` returns generic names ``hash_0``, ...,
    ``hash_<n_features - 1>`` then ``vector_0``, ...: hashing cannot be
    inverted into the strings behind a column.

    Examples
    --------
    >>> from skmtl.features import SpacyFeaturizer
    >>> featurizer = SpacyFeaturizer(ngram_range=(1, 2), n_features=2**10)
    >>> X = featurizer.fit_transform(["The cats sat.", "A dog barked!", ""])
    >>> X.shape, X.dtype
    ((3, 1024), dtype('float32'))
    >>> X.getnnz(axis=1).tolist()  # 4 tokens x 4 attrs + 3 bigrams; "" -> empty row
    [19, 19, 0]
    >>> featurizer.get_feature_names_out()[:2]
    array(['hash_0', 'hash_1'], dtype=object)
    """

    def __init__(
        self,
        model: str = "blank:en",
        attrs: Iterable[str] = ("norm", "prefix", "suffix", "shape"),
        ngram_range: tuple[int, int] = (1, 1),
        n_features: int = 2**20,
        binary: bool = False,
        norm: str | None = "l2",
        sublinear_tf: bool = False,
        vectors: bool = False,
        batch_size: int = 256,
        n_process: int = 1,
    ) -> None:
        self.model = model
        self.attrs = attrs
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.binary = binary
        self.norm = norm
        self.sublinear_tf = sublinear_tf
        self.vectors = vectors
        self.batch_size = batch_size
        self.n_process = n_process

    # ------------------------------------------------------------------ API

    def fit(self, X: Iterable[str], y: Any = None) -> SpacyFeaturizer:
        """Validate the parameters and `X`, and load the spaCy pipeline.

        Parameters
        ----------
        X : iterable of str
            Documents, one per row (see the class Notes).
        y : None
            Ignored.

        Returns
        -------
        self : SpacyFeaturizer
            The fitted transformer.
        """
        spec = self._validate_params()
        if not isinstance(X, Iterator):  # a one-shot iterator is left for transform to read
            self._as_texts(X)  # validate the input like transform will
        nlp = self._load(spec)
        vector_size = 0
        if spec.vectors:
            vector_size = _vector_width(nlp)
            if vector_size == 0:
                raise ValueError(
                    f"{_NAME}: vectors=True but the spaCy pipeline {spec.model!r} has no "
                    "static word vectors (nlp.vocab.vectors is empty). Use a pipeline with "
                    "vectors (e.g. en_core_web_md or en_core_web_lg) or set vectors=False."
                )
        self._spec = spec
        self.vector_size_ = vector_size
        self.n_features_out_ = spec.n_features + vector_size
        return self

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        """Turn documents into a sparse matrix of hashed lexical features.

        Parameters
        ----------
        X : iterable of str
            Documents, one per row (see the class Notes).

        Returns
        -------
        Xt : scipy.sparse.csr_matrix of shape ``(n_documents, n_features_out_)``
            float32 features (a ``csr_array`` when scikit-learn's
            ``sparse_interface`` configuration is ``"sparray"``).
        """
        check_is_fitted(self, "n_features_out_")
        spec = self._spec
        texts = self._as_texts(X)
        nlp = self._get_nlp()
        if nlp.pipe_names:  # components besides the tokenizer: spaCy's length limit holds
            for i, text in enumerate(texts):
                if len(text) > nlp.max_length:
                    raise ValueError(
                        f"{_NAME}: X[{i}] has {len(text)} characters, more than the "
                        f"pipeline's nlp.max_length={nlp.max_length} (the components "
                        f"{nlp.pipe_names} run on it). Split long texts into parts first."
                    )
        pooled: list[np.ndarray] = []
        if texts:
            hasher = FeatureHasher(
                n_features=spec.n_features,
                input_type="string",
                alternate_sign=False,
                dtype=np.float32,
            )
            docs = nlp.pipe(texts, batch_size=spec.batch_size, n_process=spec.n_process)
            Xt = sp.csr_matrix(hasher.transform(self._doc_features(docs, nlp, pooled)))
        else:
            Xt = sp.csr_matrix((0, spec.n_features), dtype=np.float32)
        if spec.binary:
            Xt.data[:] = 1.0
        elif spec.sublinear_tf:
            np.log(Xt.data, out=Xt.data)
            Xt.data += 1.0
        if spec.norm is not None and Xt.shape[0]:
            Xt = normalize(Xt, norm=spec.norm, copy=False)
        if spec.vectors:
            dense = np.zeros((len(texts), self.vector_size_), dtype=np.float32)
            if pooled:
                dense[:] = pooled
            Xt = sp.hstack([Xt, sp.csr_matrix(dense)], format="csr", dtype=np.float32)
        Xt = sp.csr_matrix(Xt, dtype=np.float32)
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(Xt)
        return Xt

    def fit_transform(self, X: Iterable[str], y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        """Fit, then transform `X` (read once, so a generator of texts works).

        Parameters
        ----------
        X : iterable of str
            Documents, one per row (see the class Notes).
        y : None
            Ignored.
        **fit_params : dict
            Ignored.

        Returns
        -------
        Xt : scipy.sparse.csr_matrix of shape ``(n_documents, n_features_out_)``
            float32 features, as :meth:`transform` returns them.
        """
        texts = self._as_texts(X)
        return self.fit(texts, y).transform(texts)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Generic output column names: ``hash_<i>`` then ``vector_<j>``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is raw text).

        Returns
        -------
        feature_names_out : ndarray of str objects of shape ``(n_features_out_,)``
            ``hash_0`` ... ``hash_<n_features - 1>`` for the hashed columns,
            then ``vector_0`` ... for the static vector columns, if any.
        """
        check_is_fitted(self, "n_features_out_")
        names = [f"hash_{i}" for i in range(self._spec.n_features)]
        names += [f"vector_{j}" for j in range(self.vector_size_)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -------------------------------------------------------------- pickling

    def __getstate__(self) -> dict[str, Any]:
        # Copy: on Python >= 3.11, object.__getstate__ returns the live __dict__.
        state = dict(super().__getstate__())
        state.pop("_nlp", None)
        state.pop("_nlp_key", None)
        return state

    # -------------------------------------------------------------- helpers

    def _validate_params(self) -> _Spec:
        model = self.model
        if not isinstance(model, str) or not model.strip():
            raise ValueError(
                f"{_NAME}: model must be a spaCy pipeline name such as 'blank:en' or "
                f"'en_core_web_sm', got {model!r}."
            )
        if model.startswith(_BLANK) and not model[len(_BLANK) :].strip():
            raise ValueError(f"{_NAME}: model={model!r} lacks a language code, e.g. 'blank:en'.")

        attrs = self.attrs
        if isinstance(attrs, str) or not isinstance(attrs, Iterable):
            raise ValueError(
                f"{_NAME}: attrs must be a sequence of attribute names such as "
                f"('norm', 'shape'), got {attrs!r}."
            )
        attrs = tuple(attrs)
        unknown = [a for a in attrs if a not in _ATTRS]
        if unknown:
            raise ValueError(f"{_NAME}: unknown attrs {unknown}; the choices are {sorted(_ATTRS)}.")
        if len(set(attrs)) != len(attrs):
            raise ValueError(f"{_NAME}: attrs has duplicates: {attrs!r}.")

        ngram_range = self.ngram_range
        if (
            not isinstance(ngram_range, (tuple, list))
            or len(ngram_range) != 2
            or not all(_is_int(n) for n in ngram_range)
            or not 1 <= ngram_range[0] <= ngram_range[1]
        ):
            raise ValueError(
                f"{_NAME}: ngram_range must be a pair of integers (min_n, max_n) with "
                f"1 <= min_n <= max_n, got {ngram_range!r}."
            )
        ngram_range = (int(ngram_range[0]), int(ngram_range[1]))

        if not _is_int(self.n_features) or not 1 <= self.n_features <= np.iinfo(np.int32).max:
            raise ValueError(
                f"{_NAME}: n_features must be an integer in [1, 2**31 - 1], "
                f"got {self.n_features!r}."
            )
        for name in ("binary", "sublinear_tf", "vectors"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{_NAME}: {name} must be a bool, got {getattr(self, name)!r}.")
        if self.norm not in ("l1", "l2", None):
            raise ValueError(f"{_NAME}: norm must be 'l1', 'l2' or None, got {self.norm!r}.")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ValueError(
                f"{_NAME}: batch_size must be a positive integer, got {self.batch_size!r}."
            )
        if not _is_int(self.n_process) or not (self.n_process >= 1 or self.n_process == -1):
            raise ValueError(
                f"{_NAME}: n_process must be a positive integer or -1, got {self.n_process!r}."
            )
        if not attrs and ngram_range[1] < 2 and not self.vectors:
            raise ValueError(
                f"{_NAME}: nothing to extract: attrs is empty, ngram_range={ngram_range} "
                "adds no n-gram of length >= 2 and vectors=False."
            )
        return _Spec(
            model=model,
            attrs=attrs,
            ngram_range=ngram_range,
            n_features=int(self.n_features),
            binary=bool(self.binary),
            norm=self.norm,
            sublinear_tf=bool(self.sublinear_tf),
            vectors=bool(self.vectors),
            batch_size=int(self.batch_size),
            n_process=int(self.n_process),
        )

    @staticmethod
    def _as_texts(X: Any) -> list[str]:
        """Validate `X` and return its documents as a list of str (X is not modified)."""
        if isinstance(X, (str, bytes)):
            raise ValueError(
                f"{_NAME}: expected an iterable of texts (one document per row), got a single "
                f"{type(X).__name__}; wrap it in a list: [text]."
            )
        if X is None or sp.issparse(X):
            raise ValueError(
                f"{_NAME}: expected an iterable of texts (one document per row), "
                f"got {type(X).__name__}."
            )
        ndim = getattr(X, "ndim", None)
        if ndim is not None and ndim != 1:
            shape = getattr(X, "shape", ())
            if ndim == 2 and shape[1] == 1:  # a one-column DataFrame or 2-D array
                X = X.iloc[:, 0] if hasattr(X, "iloc") else X[:, 0]
            else:
                raise ValueError(
                    f"{_NAME}: expected a 1-D sequence of texts (or a single column), "
                    f"got an input of shape {shape}."
                )
        if not isinstance(X, Iterable):
            raise ValueError(
                f"{_NAME}: expected an iterable of texts (one document per row), "
                f"got {type(X).__name__}."
            )
        texts = list(X)
        for i, text in enumerate(texts):
            if type(text) is str:
                continue
            if isinstance(text, str):  # numpy.str_ and other subclasses
                texts[i] = str(text)
                continue
            raise ValueError(f"{_NAME}: X[{i}] {_describe(text)}; expected a string.")
        return texts

    def _load(self, spec: _Spec):
        """Load (or reuse) the pipeline for `spec` and cache it on the instance."""
        key = (spec.model, "lemma" in spec.attrs)
        if self.__dict__.get("_nlp_key") == key and self.__dict__.get("_nlp") is not None:
            return self._nlp
        nlp = _load_pipeline(spec.model)
        keep: set[str] = set()
        if "lemma" in spec.attrs:
            names = nlp.pipe_names
            setters = [
                i
                for i, name in enumerate(names)
                if "token.lemma" in nlp.get_pipe_meta(name).assigns
            ]
            if not setters:
                raise ValueError(
                    f"{_NAME}: attrs contains 'lemma' but the spaCy pipeline {spec.model!r} has "
                    f"no component that sets lemmas (its components: {names}). Use a pipeline "
                    "with a lemmatizer (e.g. en_core_web_sm) or drop 'lemma'."
                )
            keep = set(names[: setters[-1] + 1])
        disable = [name for name in nlp.pipe_names if name not in keep]
        if disable:
            nlp.select_pipes(disable=disable)
        if not nlp.pipe_names:
            # Only the tokenizer runs: the max_length guard (for parser/NER memory) is moot.
            nlp.max_length = sys.maxsize
        self._nlp = nlp
        self._nlp_key = key
        return nlp

    def _get_nlp(self):
        """The cached pipeline, reloaded by name after unpickling."""
        nlp = self.__dict__.get("_nlp")
        if nlp is None:
            nlp = self._load(self._spec)
            if self._spec.vectors and _vector_width(nlp) != self.vector_size_:
                raise ValueError(
                    f"{_NAME}: the reloaded spaCy pipeline {self._spec.model!r} has vectors "
                    f"of width {_vector_width(nlp)}, but it had width {self.vector_size_} "
                    "when fitted."
                )
        return nlp

    def _doc_features(self, docs: Iterable, nlp, pooled: list) -> Iterator[list[str]]:
        """Yield the feature strings of each doc; append pooled vectors to `pooled`."""
        spec = self._spec
        getters = [(attr, attrgetter(_ATTRS[attr])) for attr in spec.attrs]
        min_n, max_n = max(spec.ngram_range[0], 2), spec.ngram_range[1]
        get_vector = nlp.vocab.get_vector
        width = self.vector_size_
        for doc in docs:
            tokens = [token for token in doc if not token.is_space]
            features = [f"{attr}={get(token)}" for token in tokens for attr, get in getters]
            if max_n >= min_n:
                norms = [token.norm_ for token in tokens]
                for n in range(min_n, max_n + 1):
                    features.extend(
                        "ngram=" + " ".join(norms[i : i + n]) for i in range(len(norms) - n + 1)
                    )
            if spec.vectors:
                if tokens:
                    rows = np.asarray([get_vector(token.orth) for token in tokens], np.float32)
                    pooled.append(rows.mean(axis=0))
                else:
                    pooled.append(np.zeros(width, dtype=np.float32))
            yield features


def _load_pipeline(model: str):
    """Build ``spacy.blank(lang)`` for ``"blank:<lang>"``, else ``spacy.load(model)``."""
    if model.startswith(_BLANK):
        lang = model[len(_BLANK) :].strip()
        try:
            return spacy.blank(lang)
        except (ImportError, KeyError, ValueError) as err:
            raise ValueError(
                f"{_NAME}: cannot build a blank spaCy pipeline for language {lang!r} "
                f"(model={model!r}): {err}"
            ) from err
    try:
        return spacy.load(model)
    except OSError as err:
        raise OSError(
            f"{_NAME}: could not load the spaCy pipeline {model!r}: {err}\n"
            f"If it is not installed, install it with `python -m spacy download {model}` "
            "(this needs network access), or use a blank tokenizer-only pipeline such as "
            "model='blank:en', which needs no download and no network."
        ) from err


def _vector_width(nlp) -> int:
    """Width of the pipeline's static vectors, 0 when it has none."""
    vectors = nlp.vocab.vectors
    n_rows, width = vectors.shape
    return int(width) if n_rows and width else 0


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _describe(value: Any) -> str:
    """How an invalid row is named in the error message."""
    if value is None:
        return "is None"
    if isinstance(value, float) and np.isnan(value):
        return f"is NaN ({type(value).__name__})"
    type_name = type(value).__name__
    if type_name in {"NAType", "NaTType"}:
        return f"is missing ({type_name})"
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"has type {type_name} ({shown})"
