"""Tokenization and hashing of raw texts into a compact, ragged batch of ids.

Texts are tokenized with a spaCy tokenizer; each token is described by a few
lexical attributes (``norm``, ``prefix``, ``suffix``, ``shape``, ...). spaCy
already stores every attribute value as a stable 64-bit hash of its string
(``token.norm`` and friends), so no vocabulary is built: each hash is mixed
with a few seeds (splitmix64 finalizer, vectorised in numpy) and reduced
modulo ``n_rows``, exactly like the hashed embeddings of spaCy/thinc
(``HashEmbed``), which sum the rows of several seeds. Unseen words therefore
get valid ids naturally, and ids are identical across runs and processes
(Python's salted ``hash()`` is never used).
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

__all__ = [
    "ATTRIBUTES",
    "N_CHAR_ROWS",
    "N_CHARS",
    "N_HASHES",
    "PREDICT_CHUNK_ROWS",
    "TokenizedTexts",
    "check_texts",
    "check_tokens",
    "chunked",
    "full_token_counts",
    "iter_text_chunks",
    "load_tokenizer",
    "tokenize",
    "tokenize_words",
]

#: Lexical attributes a token can be described by, and their spaCy attribute names.
ATTRIBUTES = ("orth", "lower", "norm", "prefix", "suffix", "shape")

#: Number of seeds each attribute value is hashed with; their embedding rows are summed.
N_HASHES = 4

#: Character features: the first and last ``N_CHARS // 2`` characters of a token.
N_CHARS = 8

#: Rows of the hashed character table; row 0 means "no character" (short tokens).
N_CHAR_ROWS = 2048

#: Documents tokenized at a time when a model predicts on raw text (streamed
#: prediction): the texts of a chunk are tokenized and run through the network,
#: and only the outputs are kept, so the memory beyond the outputs is that of one
#: chunk, whatever the number of documents.
PREDICT_CHUNK_ROWS = 4096

#: Whitespace-free runs longer than this are split into pieces of this many characters
#: before tokenization (spaCy's affix loop is quadratic on runs like "!!!!...").
MAX_RUN = 500

_U64 = np.uint64
_WS = re.compile(r"\s")
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN + 1},}}")
_LONG_SPACE = re.compile(rf"\s{{{MAX_RUN + 1},}}")
# Lone UTF-16 surrogates (U+D800..U+DFFF): a Python str may hold them, UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=_U64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


def _spacy_attr_ids(attrs: Sequence[str]) -> list[int]:
    import spacy.attrs

    return [int(getattr(spacy.attrs, name.upper())) for name in attrs]


def _seeds(attrs: Sequence[str]) -> np.ndarray:
    """uint64 seeds of shape (n_attrs, N_HASHES), fixed per attribute *name*."""
    ids = np.asarray(_spacy_attr_ids(attrs), dtype=_U64)
    raw = ids[:, None] * _U64(64) + np.arange(1, N_HASHES + 1, dtype=_U64)[None, :]
    return _mix64(raw)


def hash_ids(values: np.ndarray, attrs: Sequence[str], n_rows: int) -> np.ndarray:
    """Reduce spaCy's uint64 attribute hashes to table rows.

    Parameters
    ----------
    values : ndarray of uint64, shape (n_tokens, n_attrs)
        Output of ``Doc.to_array(attrs)``.
    attrs, n_rows
        Attribute names (fix the seeds) and the size of each attribute's table.

    Returns
    -------
    ndarray of int64, shape (n_tokens, n_attrs, N_HASHES), values in ``[0, n_rows)``.
    """
    values = np.asarray(values, dtype=_U64)
    with np.errstate(over="ignore"):
        mixed = _mix64(values[:, :, None] + _seeds(attrs)[None, :, :])
    return (mixed % _U64(n_rows)).astype(np.int64)


def _char_ids(codepoints: np.ndarray) -> np.ndarray:
    """Map unicode code points to rows ``1..N_CHAR_ROWS-1`` of the character table."""
    return (_mix64(codepoints.astype(_U64)) % _U64(N_CHAR_ROWS - 1)).astype(np.int64) + 1


class TokenizedTexts:
    """A ragged batch of tokenized documents, stored as flat arrays.

    Token strings are not stored, only their hashed attribute ids.

    Attributes
    ----------
    ids : ndarray of int64, shape (n_tokens, n_attrs, n_hashes)
        Row ids of every token's attributes in their hashed tables, in ``[0, n_rows)``.
        Tokens of document ``i`` are ``ids[offsets[i]:offsets[i + 1]]``.
    offsets : ndarray of int64, shape (n_docs + 1,)
        Start of every document in ``ids``; ``offsets[0] == 0``.
    chars : ndarray of int64, shape (n_tokens, N_CHARS) or None
        Hashed first/last characters of every token (0 = none), when requested.
    vector_rows : ndarray of int64, shape (n_tokens,) or None
        Row of every token in the spaCy pipeline's static vectors table
        (``nlp.vocab.vectors``), ``-1`` for a token without a vector, when requested.
    attrs : tuple of str
        The attributes, in the order of ``ids``'s second axis.
    n_rows : int
        Size of each attribute's hashed table.
    """

    __slots__ = ("ids", "offsets", "chars", "attrs", "n_rows", "vector_rows")

    def __init__(self, ids, offsets, chars=None, *, attrs, n_rows, vector_rows=None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.chars = None if chars is None else np.asarray(chars, dtype=np.int64)
        self.vector_rows = None if vector_rows is None else np.asarray(vector_rows, dtype=np.int64)
        self.attrs = tuple(attrs)
        self.n_rows = int(n_rows)
        if self.offsets.ndim != 1 or self.offsets.size == 0 or self.offsets[0] != 0:
            raise ValueError("offsets must be a 1-D array starting at 0.")
        if self.ids.ndim != 3 or self.ids.shape[0] != self.offsets[-1]:
            raise ValueError(
                f"ids must have shape (offsets[-1], n_attrs, n_hashes), got {self.ids.shape}."
            )
        if self.vector_rows is not None and self.vector_rows.shape != (self.ids.shape[0],):
            raise ValueError(
                f"vector_rows must have shape (offsets[-1],), got {self.vector_rows.shape}."
            )

    # -- pickling (``__slots__`` classes need explicit state) --------------------
    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name in self.__slots__:
            setattr(self, name, state.get(name))  # vector_rows: absent from older pickles

    def __len__(self) -> int:
        return self.offsets.size - 1

    def __repr__(self) -> str:
        return (
            f"TokenizedTexts(n_docs={len(self)}, n_tokens={self.n_tokens}, "
            f"attrs={self.attrs}, n_rows={self.n_rows}, chars={self.chars is not None}, "
            f"vectors={self.vector_rows is not None})"
        )

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def lengths(self) -> np.ndarray:
        """Number of tokens of every document."""
        return np.diff(self.offsets)

    def take(self, rows) -> TokenizedTexts:
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
        rows = rows % max(n, 1)
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # token i of the new batch comes from starts[doc] + (i - offsets[doc])
        index = np.arange(offsets[-1], dtype=np.int64) + np.repeat(starts - offsets[:-1], lengths)
        chars = None if self.chars is None else self.chars[index]
        vector_rows = None if self.vector_rows is None else self.vector_rows[index]
        return TokenizedTexts(
            self.ids[index],
            offsets,
            chars,
            attrs=self.attrs,
            n_rows=self.n_rows,
            vector_rows=vector_rows,
        )

    def __getitem__(self, key) -> TokenizedTexts:
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        if isinstance(key, numbers.Integral):
            return self.take([key])
        return self.take(key)

    def padded(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Documents ``start:stop`` padded to the longest of them (at least 1 position).

        Returns ``{"ids": (B, T, n_attrs, n_hashes) int64, "mask": (B, T) bool}``
        plus ``"chars": (B, T, N_CHARS)`` when character ids are stored and
        ``"vector_rows": (B, T)`` when static vector rows are stored. Padded
        positions hold id 0 (vector row -1) and ``mask == False``.
        """
        start, stop, _ = slice(start, stop).indices(len(self))
        stop = max(stop, start)
        lo, hi = self.offsets[start], self.offsets[stop]
        lengths = np.diff(self.offsets[start : stop + 1])
        n_docs = lengths.size
        width = max(int(lengths.max()) if n_docs else 0, 1)
        doc = np.repeat(np.arange(n_docs), lengths)
        pos = np.arange(hi - lo, dtype=np.int64) - np.repeat(self.offsets[start:stop] - lo, lengths)
        out = {}
        ids = np.zeros((n_docs, width) + self.ids.shape[1:], dtype=np.int64)
        ids[doc, pos] = self.ids[lo:hi]
        out["ids"] = ids
        mask = np.zeros((n_docs, width), dtype=bool)
        mask[doc, pos] = True
        out["mask"] = mask
        if self.chars is not None:
            chars = np.zeros((n_docs, width, self.chars.shape[1]), dtype=np.int64)
            chars[doc, pos] = self.chars[lo:hi]
            out["chars"] = chars
        if self.vector_rows is not None:
            vector_rows = np.full((n_docs, width), -1, dtype=np.int64)
            vector_rows[doc, pos] = self.vector_rows[lo:hi]
            out["vector_rows"] = vector_rows
        return out


# -- input validation ---------------------------------------------------------------


def _is_nan(value) -> bool:
    try:
        return bool(value != value)  # NaN, pandas.NA raises -> handled below
    except (TypeError, ValueError):
        return True


def _text_rows(X) -> Iterable:
    """X's documents as an iterable, after the checks of its structure (not of its items).

    A single string, a DataFrame of several columns, an array that is not 1-D
    (or one column) and a non-iterable raise; the iterable is X itself where it
    can be (a list, a 1-D array, a generator), so nothing is copied.
    """
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "X must be an iterable of strings (one per document), got a single "
            f"{type(X).__name__}; wrap it in a list: [text]."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"X must be a 1-D iterable of strings; got a DataFrame with {X.shape[1]} "
                "columns. Select the text column."
            )
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(f"X must be a 1-D array of strings, got shape {X.shape}.")
    if hasattr(X, "tolist") and not isinstance(X, np.ndarray):
        X = X.tolist()  # pandas Series / Index
    if not isinstance(X, Iterable):
        raise ValueError(
            f"X must be an iterable of strings (one per document), got {type(X).__name__}."
        )
    return X


def check_texts(X, *, offset: int = 0) -> list[str]:
    """Validate raw texts: an iterable (list, ndarray, Series, ...) of str.

    Raises ``ValueError`` for a single string, a non-iterable, no documents,
    or a missing / non-string item (naming its row index and type; ``offset``
    is added to the row index, for a chunk of a larger input).
    """
    texts = list(_text_rows(X))
    if not texts:
        raise ValueError("X contains no documents; at least one is required.")
    for i, text in enumerate(texts):
        if isinstance(text, str):
            continue
        row = offset + i
        if (
            text is None
            or (isinstance(text, float) and math.isnan(text))
            or (
                not isinstance(text, (bytes, numbers.Number, list, tuple, np.ndarray))
                and _is_nan(text)
            )
        ):
            raise ValueError(
                f"X[{row}] is missing ({text!r} of type {type(text).__name__}); every "
                "document must be a string. Use '' for an empty document."
            )
        raise ValueError(
            f"X[{row}] is a {type(text).__name__} ({text!r:.50}), not a str; every "
            "document must be a string."
        )
    texts = [str(text) for text in texts]  # numpy.str_ -> str
    for i, text in enumerate(texts):
        _check_surrogates(text, f"X[{offset + i}]")
    return texts


def chunked(rows: Iterable, size: int | None = None) -> Iterator[tuple[int, list]]:
    """``(offset, rows)`` of consecutive chunks of at most ``size`` rows of an iterable.

    ``size`` defaults to :data:`PREDICT_CHUNK_ROWS` (read at call time). Only one
    chunk is held at a time, so a generator is never materialised whole. An
    empty iterable gives no chunk.

    Examples
    --------
    >>> [(offset, rows) for offset, rows in chunked("abcde", 2)]
    [(0, ['a', 'b']), (2, ['c', 'd']), (4, ['e'])]
    """
    size = int(PREDICT_CHUNK_ROWS if size is None else size)
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}.")
    iterator, offset = iter(rows), 0
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield offset, chunk
        offset += len(chunk)


def iter_text_chunks(X, size: int | None = None) -> Iterator[list[str]]:
    """X's documents validated (as :func:`check_texts`) chunk by chunk, ``size`` at a time.

    For streamed prediction: X may be a list, a 1-D array, a Series, a
    one-column DataFrame or any iterable of str (a generator too); an error
    names the row of X, not of the chunk.
    """
    empty = True
    for offset, rows in chunked(_text_rows(X), size):
        empty = False
        yield check_texts(rows, offset=offset)
    if empty:
        raise ValueError("X contains no documents; at least one is required.")


def _check_surrogates(text: str, where: str) -> None:
    """ValueError naming ``where`` if ``text`` holds a lone surrogate code point."""
    match = _SURROGATE.search(text)
    if match is not None:
        raise ValueError(
            f"{where} contains a lone surrogate character (U+{ord(match.group()):04X} at "
            f"position {match.start()}), which is not valid Unicode text and cannot be "
            "encoded as UTF-8. Repair the text, e.g. "
            "text.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace')."
        )


def _is_token_sequence(row) -> bool:
    if isinstance(row, (list, tuple, np.ndarray)):
        return not (isinstance(row, np.ndarray) and row.ndim != 1)
    return hasattr(row, "tolist") and getattr(row, "ndim", None) == 1  # pandas Series


def check_tokens(rows, *, offset: int = 0) -> list[list[str]]:
    """Validate pre-tokenized sentences: a sequence of sequences of str tokens.

    Parameters
    ----------
    rows : sequence of sequence of str
        One list (tuple, 1-D array, Series) of tokens per sentence; a sentence
        may have no tokens.
    offset : int, default=0
        Added to the sentence index in error messages (for a chunk of a larger
        input: the index of its first sentence).

    Returns
    -------
    list of list of str
        The sentences as lists of plain ``str``.

    Raises
    ------
    ValueError
        For no sentences, a sentence that is a str or not a sequence
        (``X[i]``), and a token (``X[i][j]``) that is not a str, is empty or
        whitespace only, or holds a lone surrogate character.

    Examples
    --------
    >>> check_tokens([["A", "film"], ("Bad", "!")])
    [['A', 'film'], ['Bad', '!']]
    """
    rows = list(rows)
    if not rows:
        raise ValueError("X contains no sentences; at least one is required.")
    out = []
    for i, row in enumerate(rows, start=offset):
        if isinstance(row, str) or not _is_token_sequence(row):
            raise ValueError(
                f"X[{i}] is a {type(row).__name__} ({row!r:.50}); every sentence must be a "
                "list of str tokens (or every sentence a raw string), not a mix."
            )
        words = row.tolist() if hasattr(row, "tolist") else list(row)
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
        if _SURROGATE.search("".join(words)) is not None:  # one scan per sentence
            for j, word in enumerate(words):
                _check_surrogates(word, f"X[{i}][{j}]")
        out.append([str(w) for w in words])
    return out


# -- tokenization -------------------------------------------------------------------


def load_tokenizer(name: str):
    """A spaCy ``Language`` with only a tokenizer.

    ``"blank:<lang>"`` gives ``spacy.blank(lang)``; anything else is an installed
    pipeline package or path, loaded with every component excluded.
    """
    import spacy

    if not isinstance(name, str) or not name:
        raise ValueError(
            f"tokenizer must be 'blank:<lang>' or a spaCy pipeline name, got {name!r}."
        )
    if name.startswith("blank:"):
        lang = name.split(":", 1)[1]
        try:
            return spacy.blank(lang)
        except Exception as exc:  # spaCy raises ImportError / ValueError for unknown codes
            raise ValueError(
                f"tokenizer {name!r}: spaCy has no language {lang!r} ({exc})."
            ) from exc
    try:
        meta = spacy.util.get_model_meta(spacy.util.get_package_path(name))
        components = list(meta.get("components", meta.get("pipeline", [])))
    except Exception:
        components = None
    try:
        if components is not None:
            return spacy.load(name, exclude=components)
        return spacy.load(name)
    except OSError as exc:
        raise ValueError(
            f"tokenizer {name!r} is not an installed spaCy pipeline. Install it with "
            f"`python -m spacy download {name}`, or use tokenizer='blank:en' (a rule-based "
            "tokenizer that needs no download)."
        ) from exc


def _split_long_runs(text: str) -> str:
    """Split whitespace-free runs and shorten whitespace runs longer than ``MAX_RUN``."""
    if len(text) <= MAX_RUN:
        return text
    if _LONG_RUN.search(text) is not None:

        def split(match):
            run = match.group()
            return " ".join(run[i : i + MAX_RUN] for i in range(0, len(run), MAX_RUN))

        text = _LONG_RUN.sub(split, text)
    if _LONG_SPACE.search(text) is not None:
        text = _LONG_SPACE.sub(lambda match: match.group()[:MAX_RUN], text)
    return text


def _cut(text: str, budget: int) -> tuple[str, int]:
    """The first ``budget``-ish characters of ``text``, cut at whitespace when possible.

    Returns the prefix and where its last *complete* whitespace-delimited chunk
    ends (``len(prefix)`` when cut at whitespace): tokens that start before it
    are exactly the full text's tokens (spaCy splits on whitespace first).
    """
    if len(text) <= budget:
        return text, len(text)
    match = _WS.search(text, budget, 2 * budget)
    if match is not None:
        return text[: match.start()], match.start()
    prefix = text[: 2 * budget]
    last_ws = max(prefix.rfind(c) for c in (" ", "\n", "\t", "\r"))
    return prefix, max(last_ws, 0)


def tokenize(
    texts: Sequence[str],
    nlp,
    *,
    attrs: Sequence[str],
    n_rows: int,
    max_length: int,
    chars: bool = False,
    batch_size: int = 256,
    vectors=None,
) -> TokenizedTexts:
    """Tokenize ``texts`` with ``nlp`` and hash their attributes (see the module docstring).

    Documents longer than ``max_length`` tokens keep their first ``max_length``
    tokens. Long texts are cut before tokenization (at whitespace, growing the
    cut until enough tokens are found), so a 2M-character text costs about as
    much as a ``16 * max_length``-character one. Whitespace-free runs longer than
    ``MAX_RUN`` (500) characters are split into pieces of 500 characters first,
    and longer whitespace runs are shortened to 500 characters.

    When ``vectors`` (a spaCy ``Vectors`` table, e.g. ``nlp.vocab.vectors``) is
    given, the row of every token's ``ORTH`` key in it is stored too (``-1`` for
    a token without a vector), like ``token.vector`` looks it up.
    """
    from spacy.attrs import IDX, LENGTH, ORTH

    attr_ids = _spacy_attr_ids(attrs)
    # the last two columns are always IDX and LENGTH; ORTH (for vectors) comes before them
    columns = attr_ids + ([ORTH] if vectors is not None else []) + [IDX, LENGTH]
    budget = max(16 * max_length, 1024)
    texts = [_split_long_runs(text) for text in texts]
    cuts = [_cut(text, budget) for text in texts]
    longest = max((len(prefix) for prefix, _ in cuts), default=0)
    if nlp.max_length <= longest:
        nlp.max_length = longest + 1

    arrays = []
    for i, doc in enumerate(nlp.pipe((p for p, _ in cuts), batch_size=batch_size)):
        prefix, complete = cuts[i]
        array = doc.to_array(columns)
        grow = budget
        # A cut text must give more than max_length tokens that start inside its
        # complete chunks; otherwise cut it again, longer.
        while len(prefix) < len(texts[i]) and (
            np.count_nonzero(array[:, -2] < complete) <= max_length
        ):
            grow *= 4
            prefix, complete = _cut(texts[i], grow)
            if nlp.max_length <= len(prefix):
                nlp.max_length = len(prefix) + 1
            array = nlp.make_doc(prefix).to_array(columns)
        arrays.append(array[:max_length])

    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = (
        np.concatenate(arrays, axis=0) if offsets[-1] else np.zeros((0, len(columns)), dtype=_U64)
    )
    ids = hash_ids(flat[:, : len(attr_ids)], attrs, n_rows)

    char_ids = None
    if chars:
        char_ids = _first_last_chars(
            texts,
            flat[:, -2].astype(np.int64),
            flat[:, -1].astype(np.int64),
            lengths,
        )
    vector_rows = None
    if vectors is not None:
        keys = np.ascontiguousarray(flat[:, len(attr_ids)], dtype=_U64)
        vector_rows = np.asarray(vectors.find(keys=keys), dtype=np.int64).reshape(-1)
    return TokenizedTexts(
        ids, offsets, char_ids, attrs=attrs, n_rows=n_rows, vector_rows=vector_rows
    )


def _first_last_chars(texts, idx, length, lengths) -> np.ndarray:
    """Hashed first and last ``N_CHARS // 2`` characters of every token, vectorised."""
    half = N_CHARS // 2
    # Each token lies within the first ``end`` characters of its text.
    n_docs = lengths.size
    doc_of_token = np.repeat(np.arange(n_docs), lengths)
    ends = np.zeros(n_docs, dtype=np.int64)
    if idx.size:
        token_end = idx + length
        np.maximum.at(ends, doc_of_token, token_end)
    pieces = [texts[i][: ends[i]] for i in range(n_docs)]
    codepoints = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype=np.uint32)
    char_offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(ends, out=char_offsets[1:])
    start = char_offsets[doc_of_token] + idx
    j = np.arange(half, dtype=np.int64)[None, :]
    first_pos = start[:, None] + j
    first_ok = j < length[:, None]
    last_pos = start[:, None] + length[:, None] - half + j
    last_ok = (length[:, None] - half + j) >= 0
    pos = np.concatenate([first_pos, last_pos], axis=1)
    ok = np.concatenate([first_ok, last_ok], axis=1)
    out = np.zeros(pos.shape, dtype=np.int64)
    if codepoints.size:
        out[ok] = _char_ids(codepoints[pos[ok]])
    return out


def tokenize_words(encoder, sentences: Sequence[Sequence[str]]) -> TokenizedTexts:
    """:class:`TokenizedTexts` of pre-tokenized sentences, hashed like ``encoder.prepare``.

    Each sentence becomes ``Doc(nlp.vocab, words=words)`` (tokens kept as given,
    separated by one space, which only matters for ``idx``); the attribute hashes,
    character ids and static vector rows follow :func:`tokenize`. Sentences longer
    than ``encoder.max_length`` keep their first ``max_length`` tokens.

    Parameters
    ----------
    encoder : TextEncoder
        The spec whose tokenizer vocabulary, attributes, table sizes, character
        and static-vector settings are used.
    sentences : sequence of sequence of str
        Validated sentences (see :func:`check_tokens`).

    Returns
    -------
    TokenizedTexts
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
        np.concatenate(arrays, axis=0) if offsets[-1] else np.zeros((0, len(columns)), dtype=_U64)
    )
    ids = hash_ids(flat[:, : len(attr_ids)], attrs, encoder.n_rows)
    chars = None
    if encoder.char_dim > 0:
        chars = _first_last_chars(
            texts, flat[:, -2].astype(np.int64), flat[:, -1].astype(np.int64), lengths
        )
    vector_rows = None
    if vectors is not None:
        keys = np.ascontiguousarray(flat[:, len(attr_ids)], dtype=_U64)
        vector_rows = np.asarray(vectors.find(keys=keys), dtype=np.int64).reshape(-1)
    return TokenizedTexts(
        ids, offsets, chars, attrs=attrs, n_rows=encoder.n_rows, vector_rows=vector_rows
    )


def full_token_counts(encoder, texts: Sequence[str], lengths) -> np.ndarray:
    """Token counts of raw texts before the truncation to ``encoder.max_length``.

    Parameters
    ----------
    encoder : TextEncoder
        The spec that tokenized ``texts`` (its tokenizer and ``max_length``).
    texts : sequence of str
        The validated texts given to ``encoder.prepare``.
    lengths : array-like of int
        Their token counts after truncation (``TokenizedTexts.lengths``).

    Returns
    -------
    ndarray of int64
        ``lengths``, with every text cut at ``max_length`` tokens re-tokenized
        whole (long runs split as :func:`tokenize` does) and counted.
    """
    full = np.array(lengths, dtype=np.int64)
    long = np.flatnonzero(full >= encoder.max_length)
    if long.size:
        nlp = encoder._get_nlp()
        for i in long:
            text = _split_long_runs(texts[i])
            nlp.max_length = max(nlp.max_length, len(text) + 1)
            full[i] = len(nlp.make_doc(text))
    return full
