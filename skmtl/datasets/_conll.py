"""Readers for CoNLL-U (Universal Dependencies) and IOB2 column files, and the
English Web Treebank loader that joins UD English-EWT with Universal NER.

Both readers open ``.gz`` files transparently (detected by content), and accept
the name without ``.gz`` when only the gzipped file exists.
"""

from __future__ import annotations

import gzip
import numbers
import os
import re
import warnings
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

from ._base import check_split, sample_dir

CONLLU_FIELDS = ["id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc"]
#: CoNLL-U fields that :func:`read_conllu` can return as targets.
CONLLU_TARGETS = ("upos", "xpos", "feats", "lemma", "deprel", "head")
#: Tasks of :func:`load_ewt`: the CoNLL-U targets plus ``ner`` (Universal NER).
EWT_TASKS = (*CONLLU_TARGETS, "ner")
UD_VERSIONS = ("r2.9", "r2.16")

#: Tags of the pre-release UNER English-EWT train draft that are not UNER v1 tags.
#: ``B-O`` marks one spurious token per document (the first sentence's final
#: punctuation) and ``OTH`` is an entity type dropped before the release.
DRAFT_TAG_MAP = {"B-O": "O", "B-OTH": "O", "I-OTH": "O"}

_INT_ID = re.compile(r"[1-9][0-9]*\Z")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*\Z")
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*\Z")
_IOB2_TAG = re.compile(r"(O|[BI]-\S+)\Z")


# --------------------------------------------------------------------------- #
# File access
# --------------------------------------------------------------------------- #
def _existing(path: str | os.PathLike) -> Path:
    """``path`` if it is a file, else ``path + '.gz'`` if that is; else FileNotFoundError."""
    path = Path(path).expanduser()
    if path.is_file():
        return path
    gz = path.with_name(path.name + ".gz")
    if path.suffix != ".gz" and gz.is_file():
        return gz
    also = "" if path.suffix == ".gz" else f" (nor {gz.name!r} next to it)"
    raise FileNotFoundError(f"file not found: {str(path)!r}{also}.")


def _read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file, gzipped or not, without line terminators."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def _sent_id(line: str) -> str | None:
    """The value of a ``# sent_id = ...`` comment line, else None."""
    body = line[1:].strip()
    if body.startswith("sent_id"):
        key, sep, value = body.partition("=")
        if sep and key.strip() == "sent_id":
            return value.strip()
    return None


# --------------------------------------------------------------------------- #
# CoNLL-U
# --------------------------------------------------------------------------- #
def read_conllu(
    path: str | os.PathLike, columns: tuple[str, ...] | list[str] = ("form", "upos", "xpos")
) -> Bunch:
    """Read a CoNLL-U file (Universal Dependencies) into sentences and tag lists.

    One row per sentence, one item per *syntactic word* (integer ID).
    Multi-word-token lines (IDs like ``3-4``, the surface form of e.g. "don't"
    whose words "do" and "n't" follow as their own lines) and empty nodes
    (IDs like ``8.1``) are skipped.

    Parameters
    ----------
    path : str or path-like
        The ``.conllu`` file, plain or gzipped (``path + ".gz"`` is used when
        only that exists).
    columns : sequence of str, default=("form", "upos", "xpos")
        Fields to return. ``"form"`` (the words, always returned as
        ``tokens``) may be listed or not; every other entry must be one of
        ``"upos"``, ``"xpos"``, ``"feats"``, ``"lemma"``, ``"deprel"``,
        ``"head"`` and becomes a column of ``targets``.

    Returns
    -------
    data : sklearn.utils.Bunch
        tokens : list of list of str
            The words of each sentence.
        sent_ids : list of str or None
            From the ``# sent_id = ...`` comments (None where a sentence has
            none).
        targets : pandas.DataFrame
            One column per requested field, one row per sentence; each cell is
            a list of str, one per word (``head`` values are kept as strings,
            ``"0"`` for the root; underscores ``"_"`` are kept as they are).
        n_multiword, n_empty : int
            Numbers of multi-word-token lines and empty-node lines skipped.

    Raises
    ------
    FileNotFoundError
        If the file does not exist (the message names it).
    ValueError
        If ``columns`` names an unknown field, or a line is malformed: not
        10 tab-separated fields, an invalid or out-of-sequence ID, or a
        ``# sent_id`` comment inside a sentence. The message names the file
        and the line number (1-based).

    Examples
    --------
    >>> from skmtl.datasets import read_conllu
    >>> from skmtl.datasets._base import sample_dir
    >>> data = read_conllu(sample_dir("ewt") / "en_ewt-ud-dev.conllu", columns=["upos"])
    >>> len(data.tokens), list(data.targets.columns)
    (100, ['upos'])
    """
    columns = list(columns)
    bad = [c for c in columns if c != "form" and c not in CONLLU_TARGETS]
    if bad:
        raise ValueError(
            f"unknown CoNLL-U column(s) {bad}; choose among ['form', *{list(CONLLU_TARGETS)}]."
        )
    targets = [c for c in dict.fromkeys(columns) if c != "form"]
    col_index = {c: CONLLU_FIELDS.index(c) for c in targets}
    path = _existing(path)

    tokens: list[list[str]] = []
    sent_ids: list[str | None] = []
    cells: dict[str, list[list[str]]] = {c: [] for c in targets}
    words: list[str] = []
    tags: dict[str, list[str]] = {c: [] for c in targets}
    sid: str | None = None
    n_multiword = n_empty = 0
    started = False  # a token line (of any kind) was seen in the current sentence

    def flush() -> None:
        nonlocal words, tags, sid, started
        if words:
            tokens.append(words)
            sent_ids.append(sid)
            for c in targets:
                cells[c].append(tags[c])
        words, tags, sid, started = [], {c: [] for c in targets}, None, False

    for lineno, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            value = _sent_id(line)
            if value is not None:
                if started:
                    raise ValueError(
                        f"{path}, line {lineno}: '# sent_id' comment inside a sentence "
                        "(missing blank line before it?)."
                    )
                sid = value
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise ValueError(
                f"{path}, line {lineno}: expected 10 tab-separated CoNLL-U fields, "
                f"got {len(fields)}: {line[:80]!r}."
            )
        started = True
        wid = fields[0]
        if _RANGE_ID.match(wid):
            n_multiword += 1  # multi-word token: surface form only, its words follow
            continue
        if _EMPTY_ID.match(wid):
            n_empty += 1  # empty node (enhanced dependencies): not a syntactic word
            continue
        if not _INT_ID.match(wid):
            raise ValueError(f"{path}, line {lineno}: invalid word ID {wid!r}.")
        if int(wid) != len(words) + 1:
            raise ValueError(
                f"{path}, line {lineno}: word ID {wid} out of sequence "
                f"(expected {len(words) + 1}; missing blank line between sentences?)."
            )
        words.append(fields[1])
        for c, j in col_index.items():
            tags[c].append(fields[j])
    flush()
    frame = pd.DataFrame({c: pd.Series(cells[c], dtype=object) for c in targets})
    frame.index = pd.RangeIndex(len(tokens))
    return Bunch(
        tokens=tokens,
        sent_ids=sent_ids,
        targets=frame,
        n_multiword=n_multiword,
        n_empty=n_empty,
    )


# --------------------------------------------------------------------------- #
# IOB2
# --------------------------------------------------------------------------- #
#: Column layouts that :func:`read_iob2` understands (its error messages list them).
IOB2_LAYOUTS = (
    "'index token tag [extra ...]' (Universal NER; the index counts 1, 2, ... per sentence)",
    "'token tag'",
    "'token col ... tag' with the same number of fields on every line and the tag last "
    "(CoNLL-2003: 'token POS chunk tag')",
)
_LAYOUTS_NOTE = (
    "understood layouts, tab- or space-separated: "
    + "; ".join(IOB2_LAYOUTS)
    + ". Blank (or whitespace-only) lines separate sentences, '-DOCSTART-' lines "
    "documents; before a sentence's first token, '# key = value' lines and other '# ...' "
    "lines that are no valid token line are comments."
)
# A CoNLL-U-style comment: '# key = value' (e.g. '# sent_id = x', '# newdoc id = d'),
# or a bare '# newdoc' / '# newpar'.
_KEY_VALUE_COMMENT = re.compile(r"# +[^\s=]+(?: +[^\s=]+)* *=|# +(?:newdoc|newpar) *\Z")
_HASH_SPACE = re.compile(r"#(?:\s|\Z)")
_INT = re.compile(r"[0-9]+\Z")


def _is_docstart(line: str) -> bool:
    """Whether a line is a CoNLL-2003 document separator (``-DOCSTART- -X- -X- O``)."""
    return line.split(maxsplit=1)[:1] == ["-DOCSTART-"]


def _iob2_fields(line: str, sep: str) -> list[str]:
    """A line's fields: split at tabs (``sep="\\t"``) or at runs of spaces."""
    line = line.rstrip(" \t")
    if sep == "\t":
        return line.split("\t")
    return [f for f in line.split(" ") if f]


def _iob2_layout(lines: list[str]) -> tuple[str, bool, int]:
    """The file's separator, whether it is index-first, and the width of its first token line.

    Decided from the first token line: the first line that is not blank, not
    ``-DOCSTART-`` and does not start with ``#`` (a file without one falls back to
    its first line that is neither blank nor ``-DOCSTART-``).
    """
    content = [i for i, ln in enumerate(lines) if ln.strip() and not _is_docstart(ln)]
    if not content:
        return "\t", False, 2
    first = next((i for i in content if not lines[i].startswith("#")), content[0])
    sep = "\t" if "\t" in lines[first] else " "
    fields = _iob2_fields(lines[first], sep)
    indexed = len(fields) >= 3 and fields[0] == "1" and not lines[first].startswith("#")
    if indexed and first + 1 < len(lines):
        after = _iob2_fields(lines[first + 1], sep)
        # A 'token POS chunk tag' file whose first token is "1": the next line is no "2 ...".
        if len(after) >= 3 and not _INT.match(after[0]):
            indexed = False
    return sep, indexed, len(fields)


def read_iob2(
    path: str | os.PathLike, map_draft_tags: bool = False, tag_column: int | None = None
) -> Bunch:
    """Read an IOB2 column file: Universal NER ``.iob2``, CoNLL-2003 and 2-column files.

    One token per line; blank lines (or lines of only spaces and tabs) separate
    sentences. The layout is detected per file from its first token line:

    - **Separator**: tab if that line contains a tab, else runs of spaces.
      Trailing spaces and tabs of a line are ignored.
    - **Index-first** (Universal NER): ``index token tag [extra ...]``. Chosen
      when the first token line has at least 3 fields and its first field is
      ``1`` (and the line after it, if it has 3 or more fields, also starts
      with an integer). Every token line then has at least 3 fields, its index
      counts 1, 2, ... within each sentence, the token is field 1 and the tag
      field 2 (0-based); further fields (UNER: ``-`` and the annotator) are
      ignored and their number may vary (the English-EWT train draft has only
      3 fields on ``O`` lines).
    - **Otherwise** ``token tag`` or ``token col ... tag`` (CoNLL-2003:
      ``token POS chunk tag``): every token line has as many fields as the
      first, at least 2; the token is field 0 and the tag the last field.

    ``-DOCSTART-`` lines (CoNLL-2003 document separators) end a sentence and
    are skipped. Comments exist only before a sentence's first token: there a
    line of the CoNLL-U form ``# key = value`` (``# sent_id = ...``,
    ``# text = ...``, ``# newdoc id = ...``, or a bare ``# newdoc`` /
    ``# newpar``) is a comment, and so is any other line that starts with
    ``#`` followed by whitespace (or is just ``#``) unless it is a valid token
    line of the file's layout. Every other line is a token line, wherever it
    starts with ``#``: ``#blessed<TAB>O``, ``#<TAB>O`` or
    ``1<TAB>#tag<TAB>B-PER`` are tokens (hashtags), also as a sentence's first
    token. A line that is neither a comment nor a valid token line is an
    error, never skipped.

    Tags must be ``O``, ``B-<type>`` or ``I-<type>``; they are returned as
    they are in the file (an IOB1 file such as the original CoNLL-2003 release
    keeps its tags; no scheme conversion).

    Parameters
    ----------
    path : str or path-like
        The file, plain or gzipped (``path + ".gz"`` is used when only that
        exists).
    map_draft_tags : bool, default=False
        Map ``B-O``, ``B-OTH`` and ``I-OTH`` to ``O`` (see ``DRAFT_TAG_MAP``).
        The only public UNER English-EWT *train* file is a pre-release draft
        (first commit, "DO NOT USE") that has a spurious ``B-O`` tag per
        document and an ``OTH`` type that UNER v1 dropped; mapping them gives
        the UNER v1 tag set (PER, ORG, LOC). The official dev/test files hold
        none of these tags, so the mapping does not change them.
    tag_column : int or None, default=None
        The field that holds the tag, 0-based; negative values count from the
        end of each line (``-1``: the last field). None (auto): field 2 in an
        index-first file, else the last field. The token stays field 1 in an
        index-first file and field 0 otherwise; ``tag_column`` may not select
        the token or the index field.

    Returns
    -------
    data : sklearn.utils.Bunch
        tokens : list of list of str
            The tokens of each sentence.
        sent_ids : list of str or None
            From ``# sent_id = ...`` comments (None where absent).
        targets : pandas.DataFrame
            Column ``ner``: one list of IOB2 tags per sentence.

    Raises
    ------
    FileNotFoundError
        If the file does not exist (the message names it).
    TypeError
        If ``tag_column`` is neither None nor an int.
    ValueError
        If a line is malformed: the wrong number of fields for the file's
        layout, an index that is not the next integer, a tag that is not
        ``O``/``B-<type>``/``I-<type>``, no field ``tag_column``, or a comment
        line inside a sentence. The message names the file, the line number
        (1-based) and the layouts understood.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmtl.datasets import read_iob2
    >>> path = Path(tempfile.mkdtemp()) / "eng.testa"
    >>> _ = path.write_text(
    ...     "-DOCSTART- -X- -X- O\\n\\nEU NNP B-NP B-ORG\\nrejects VBZ B-VP O\\n"
    ...     "#Brexit NN B-NP B-MISC\\n"
    ... )
    >>> data = read_iob2(path)
    >>> data.tokens, data.targets["ner"][0]
    ([['EU', 'rejects', '#Brexit']], ['B-ORG', 'O', 'B-MISC'])
    """
    if tag_column is not None and (
        isinstance(tag_column, bool) or not isinstance(tag_column, numbers.Integral)
    ):
        raise TypeError(f"tag_column must be None or an int, got {tag_column!r}.")
    path = _existing(path)
    lines = _read_lines(path)
    sep, indexed, width = _iob2_layout(lines)
    sep_name = "tab" if sep == "\t" else "space"
    if indexed:
        layout = "'index token tag [extra ...]'"
    elif width == 2:
        layout = "'token tag'"
    else:
        layout = f"'token col ... tag' ({width} fields)"
    token_col = 1 if indexed else 0

    tokens: list[list[str]] = []
    sent_ids: list[str | None] = []
    ner: list[list[str]] = []
    words: list[str] = []
    tags: list[str] = []
    sid: str | None = None

    def flush() -> None:
        nonlocal words, tags, sid
        if words:
            tokens.append(words)
            sent_ids.append(sid)
            ner.append(tags)
        words, tags, sid = [], [], None

    def parse(line: str) -> tuple[str, str] | str:
        """(token, tag) of a token line, or what is wrong with it."""
        fields = _iob2_fields(line, sep)
        n = len(fields)
        if (n < 3) if indexed else (n != width or n < 2):
            got = f"got {n} field(s): {line[:80]!r}"
            return f"expected {sep_name}-separated {layout}, {got}"
        if indexed and fields[0] != str(len(words) + 1):
            return (
                f"token index {fields[0]!r} out of sequence (expected {len(words) + 1}; "
                "a file whose tokens are numbers may need tag_column=-1)"
            )
        if tag_column is None:
            col = 2 if indexed else n - 1
        else:
            col = tag_column if tag_column >= 0 else n + tag_column
            if not 0 <= col < n:
                return f"no field tag_column={tag_column} in {n} field(s): {line[:80]!r}"
            if col <= token_col:
                what = "token" if col == token_col else "index"
                return f"tag_column={tag_column} selects the {what} field"
        tag = fields[col]
        if not _IOB2_TAG.match(tag):
            return f"invalid IOB2 tag {tag!r}"
        return fields[token_col], tag

    def fail(lineno: int, problem: str) -> ValueError:
        return ValueError(f"{path}, line {lineno}: {problem}; {_LAYOUTS_NOTE}")

    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            flush()
            continue
        if _is_docstart(line):
            flush()
            continue
        if line.startswith("#") and not words and _KEY_VALUE_COMMENT.match(line):
            value = _sent_id(line)
            if value is not None:
                sid = value
            continue
        parsed = parse(line)
        if isinstance(parsed, str):
            if line.startswith("#") and not words and _HASH_SPACE.match(line):
                continue  # a '# ...' comment before the sentence's first token
            if words and (_KEY_VALUE_COMMENT.match(line) or _HASH_SPACE.match(line)):
                what = "'# sent_id' comment" if _sent_id(line) is not None else "comment line"
                parsed = f"{what} inside a sentence (missing blank line before it?): {parsed}"
            raise fail(lineno, parsed)
        word, tag = parsed
        if map_draft_tags:
            tag = DRAFT_TAG_MAP.get(tag, tag)
        words.append(word)
        tags.append(tag)
    flush()
    frame = pd.DataFrame({"ner": pd.Series(ner, dtype=object)})
    frame.index = pd.RangeIndex(len(tokens))
    return Bunch(tokens=tokens, sent_ids=sent_ids, targets=frame)


# --------------------------------------------------------------------------- #
# English Web Treebank: UD English-EWT + Universal NER
# --------------------------------------------------------------------------- #
DESCR_TEMPLATE = """\
English Web Treebank: UD English-EWT {ud_version} + Universal NER (token tagging)
-------------------------------------------------------------------------------

Sources (both CC BY-SA 4.0):
- UD English-EWT (UniversalDependencies/UD_English-EWT, release {ud_version}).
  Silveira et al. (2014). A Gold Standard Dependency Corpus for English. LREC 2014.
- Universal NER v1, English-EWT (UniversalNER/UNER_English-EWT).
  Mayhew et al. (2024). Universal NER: A Gold-Standard Multilingual Named Entity
  Recognition Benchmark. NAACL 2024.

Loaded from: {origin}
Split: {split} ({n} sentences, {n_words} syntactic words; multi-word-token and
empty-node lines skipped)
Tasks: {tasks} (one tag per word; a cell is a list of tags, or None = missing)
{ner_block}"""

_NER_BLOCK = """\
NER source: {ner_file}
NER join by sent_id: {n_joined} sentences labelled; ner = None for {n_missing} UD
sentence(s) missing from UNER and {n_mismatch} whose tokens differ; {n_extra} UNER
sentence(s) not in UD.
{draft}"""

_DRAFT_NOTE = """\
WARNING: the official UNER train split is not available; the NER train labels come
from a pre-release DRAFT (UNER commit 0c7ce0d, "DO NOT USE") with B-O, B-OTH and
I-OTH mapped to O. Its full-train entity counts are close to, not equal to, the release
(PER 2,873 / LOC 2,698 / ORG 1,434 vs 2,874 / 2,712 / 1,436). Use it for
development only; never report scores trained on it as UNER results.
"""


def _ewt_files(path, split: str, ud_version: str, need_ner: bool) -> tuple[Path, Path | None, bool]:
    """Locate the UD and UNER files; return (conllu, iob2 or None, is_draft)."""
    name = f"en_ewt-ud-{split}"
    if path is None:
        if ud_version != "r2.9":
            raise ValueError(
                f"the sample shipped with skmtl holds UD r2.9 only (got ud_version="
                f"{ud_version!r}); pass path= for other releases."
            )
        root = sample_dir("ewt")
        ud_file = _existing(root / f"{name}.conllu")
        official = root / f"{name}.iob2"
        drafts = sorted(root.glob(f"{name}.draft-*.iob2*"))
    else:
        root = Path(path).expanduser()
        ud_file = _existing(root / "ud-english-ewt" / ud_version / f"{name}.conllu")
        official = root / "uner-english-ewt" / f"{name}.iob2"
        drafts = sorted((root / "uner-english-ewt" / "draft-train-not-official").glob(f"{name}.*"))
    if not need_ner:
        return ud_file, None, False
    try:
        return ud_file, _existing(official), False
    except FileNotFoundError:
        if split == "train" and drafts:
            return ud_file, drafts[0], True
        raise


def load_ewt(
    path: str | os.PathLike | None = None,
    split: str = "train",
    tasks: tuple[str, ...] | list[str] = ("upos", "xpos", "ner"),
    ud_version: str = "r2.9",
) -> Bunch:
    """Load one split of the English Web Treebank with POS (UD) and NER (UNER) tags.

    The words and the CoNLL-U tasks come from UD English-EWT; ``ner`` comes from
    Universal NER English-EWT, joined by ``sent_id``. A sentence gets NER tags
    only if UNER has it *and* its token sequence equals the UD one; otherwise its
    ``ner`` cell is None (a missing label) and it is listed in
    ``ner_missing`` / ``ner_mismatches`` (a warning is issued when any are).

    Parameters
    ----------
    path : str, path-like or None, default=None
        Data root holding ``ud-english-ewt/<ud_version>/en_ewt-ud-<split>.conllu[.gz]``
        and ``uner-english-ewt/en_ewt-ud-<split>.iob2[.gz]`` (for train, when
        the official file is absent: ``uner-english-ewt/draft-train-not-official/
        en_ewt-ud-train.draft-*.iob2[.gz]``). ``None`` loads the small sample
        shipped with skmtl (UD r2.9; 300 train / 100 dev / 100 test sentences,
        see ``skmtl/datasets/data/ATTRIBUTION.md``).
    split : {"train", "dev", "test"}, default="train"
        For ``"train"`` the NER tags come from the pre-release UNER *draft*
        (with ``B-O``, ``B-OTH``, ``I-OTH`` mapped to ``O``) unless the official
        train file is present; ``DESCR`` says which.
    tasks : sequence of str, default=("upos", "xpos", "ner")
        Columns of ``targets``, among ``"upos"``, ``"xpos"``, ``"feats"``,
        ``"lemma"``, ``"deprel"``, ``"head"`` and ``"ner"``. Without ``"ner"``
        no UNER file is read.
    ud_version : {"r2.9", "r2.16"}, default="r2.9"
        UD release. UNER was annotated on r2.9; with r2.16, 3 dev and 3 test
        sentences are tokenized differently and get ``ner = None``.

    Returns
    -------
    data : sklearn.utils.Bunch
        tokens : list of list of str
            The words of each sentence (UD order).
        sent_ids : list of str
            The ``sent_id`` of each sentence.
        targets : pandas.DataFrame
            One column per task; each cell is a list of tags (one per word) or
            None (missing label).
        ner_missing : list of str
            sent_ids of UD sentences absent from the UNER file.
        ner_mismatches : list of str
            sent_ids whose UD and UNER token sequences differ.
        ner_extra : list of str
            sent_ids of UNER sentences absent from the UD file.
        ner_draft : bool
            Whether the NER tags come from the pre-release train draft.
        DESCR : str
            Description of the data set, sources and the join.

        (The ``ner_*`` fields are empty / False when ``"ner"`` is not a task.)

    Raises
    ------
    ValueError
        If ``split``, ``tasks`` or ``ud_version`` is invalid, a file is
        malformed, or a file repeats a sent_id.
    FileNotFoundError
        If a needed file is missing (the message names it).

    Examples
    --------
    >>> from skmtl.datasets import load_ewt
    >>> data = load_ewt(split="dev")
    >>> data.targets.shape
    (100, 3)
    >>> list(data.targets.columns)
    ['upos', 'xpos', 'ner']
    >>> all(len(t) == len(u) for t, u in zip(data.tokens, data.targets["upos"]))
    True
    """
    split = check_split(split)
    if ud_version not in UD_VERSIONS:
        raise ValueError(f"ud_version must be one of {list(UD_VERSIONS)}, got {ud_version!r}.")
    if isinstance(tasks, str):
        tasks = [tasks]
    tasks = list(dict.fromkeys(tasks))
    bad = [t for t in tasks if t not in EWT_TASKS]
    if bad or not tasks:
        raise ValueError(f"tasks must be a non-empty subset of {list(EWT_TASKS)}, got {tasks!r}.")
    need_ner = "ner" in tasks
    ud_file, ner_file, draft = _ewt_files(path, split, ud_version, need_ner)

    ud = read_conllu(ud_file, columns=[t for t in tasks if t != "ner"])
    if None in ud.sent_ids:
        raise ValueError(f"{ud_file}: sentence {ud.sent_ids.index(None)} has no '# sent_id'.")
    _check_unique(ud.sent_ids, ud_file)
    columns = {t: list(ud.targets[t]) for t in tasks if t != "ner"}
    missing: list[str] = []
    mismatches: list[str] = []
    extra: list[str] = []
    ner_block = ""
    if need_ner:
        uner = read_iob2(ner_file, map_draft_tags=True)
        _check_unique(uner.sent_ids, ner_file)
        by_id = {
            s: (w, t)
            for s, w, t in zip(uner.sent_ids, uner.tokens, uner.targets["ner"], strict=True)
        }
        ner: list[list[str] | None] = []
        for sid, words in zip(ud.sent_ids, ud.tokens, strict=True):
            if sid not in by_id:
                missing.append(sid)
                ner.append(None)
            elif by_id[sid][0] != words:
                mismatches.append(sid)
                ner.append(None)
            else:
                ner.append(by_id[sid][1])
        ud_ids = set(ud.sent_ids)
        extra = [s for s in uner.sent_ids if s not in ud_ids]
        columns["ner"] = ner
        if missing or mismatches:
            warnings.warn(
                f"load_ewt({split!r}): {len(missing)} UD sentence(s) not in {ner_file.name} "
                f"and {len(mismatches)} with different tokens; their 'ner' cells are None. "
                "See the Bunch's ner_missing / ner_mismatches.",
                UserWarning,
            )
        ner_block = _NER_BLOCK.format(
            ner_file=ner_file if path is not None else f"sample {ner_file.name}",
            n_joined=len(ud.tokens) - len(missing) - len(mismatches),
            n_missing=len(missing),
            n_mismatch=len(mismatches),
            n_extra=len(extra),
            draft=_DRAFT_NOTE if draft else "",
        )
    targets = pd.DataFrame({t: pd.Series(columns[t], dtype=object) for t in tasks})
    targets.index = pd.RangeIndex(len(ud.tokens))
    origin = "sample shipped with skmtl" if path is None else str(ud_file)
    descr = DESCR_TEMPLATE.format(
        ud_version=ud_version,
        origin=origin,
        split=split,
        n=len(ud.tokens),
        n_words=sum(map(len, ud.tokens)),
        tasks=", ".join(tasks),
        ner_block=ner_block,
    )
    return Bunch(
        tokens=ud.tokens,
        sent_ids=ud.sent_ids,
        targets=targets,
        ner_missing=missing,
        ner_mismatches=mismatches,
        ner_extra=extra,
        ner_draft=draft,
        DESCR=descr,
    )


def _check_unique(sent_ids: list, path: Path) -> None:
    seen: set = set()
    for sid in sent_ids:
        if sid is not None and sid in seen:
            raise ValueError(f"{path}: sent_id {sid!r} occurs more than once.")
        seen.add(sid)
