"""Tests for the CoNLL-U / IOB2 readers and load_ewt (shipped sample and, when
present, the full UD English-EWT + UNER data)."""

import gzip
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from skmtl._spans import spans
from skmtl.datasets import load_ewt, read_conllu, read_iob2
from skmtl.datasets._base import sample_dir
from skmtl.datasets._conll import DRAFT_TAG_MAP

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("SKMTL_DATA", REPO.parent / "shared" / "data"))
UD_DIR = DATA_ROOT / "ud-english-ewt"
UNER_DIR = DATA_ROOT / "uner-english-ewt"
SAMPLE = sample_dir("ewt")

needs_full_ewt = pytest.mark.skipif(
    not ((UD_DIR / "r2.9").is_dir() and (UNER_DIR / "en_ewt-ud-dev.iob2").is_file()),
    reason=f"full UD English-EWT / UNER data not found under {DATA_ROOT} (set SKMTL_DATA)",
)

SAMPLE_SIZES = {"train": 300, "dev": 100, "test": 100}
UPOS = set("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())
NER_TAGS = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}

# A dev-sample sentence whose "haven't" is a multi-word token line (2-3) over the
# syntactic words "have" and "n't".
MWT_ID = "email-enronsent23_08-0005"
MWT_WORDS = ["they", "have", "n't", "heard", "from", "you", "in", "a", "while", "."]
# A dev-sample sentence with two empty nodes (lines "10.1  has ..." and "21.1  has ...").
EMPTY_ID = "answers-20111108072305AAPJTjj_ans-0005"

CONLLU = """\
# newdoc id = doc1
# sent_id = s1
# text = I don't know.
1\tI\tI\tPRON\tPRP\tCase=Nom\t3\tnsubj\t3:nsubj\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tMood=Ind\t4\taux\t4:aux\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_
4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\t_
4.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t4:conj\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

# sent_id = s2
# text = Paris .
1\tParis\tParis\tPROPN\tNNP\tNumber=Sing\t0\troot\t0:root\t_
2\t.\t.\tPUNCT\t.\t_\t1\tpunct\t1:punct\t_
"""

IOB2 = """\
# newdoc id = doc1
# sent_id = s1
# text = I do n't know .
1\tI\tO\t-\t-
2\tdo\tO
3\tn't\tB-O\t-\tann
4\tknow\tB-OTH\t-\tann
5\t.\tI-OTH\t-\tann

# sent_id = s2
# text = Paris .
1\tParis\tB-LOC\t-\tann
2\t.\tO\t-\t-
"""


def write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_root(tmp_path, conllu=CONLLU, iob2=IOB2, split="dev", version="r2.9"):
    """A data root in the upstream layout with one split."""
    ud = tmp_path / "ud-english-ewt" / version
    ud.mkdir(parents=True)
    (tmp_path / "uner-english-ewt").mkdir()
    write(ud / f"en_ewt-ud-{split}.conllu.gz", conllu, gz=True)
    write(tmp_path / "uner-english-ewt" / f"en_ewt-ud-{split}.iob2", iob2)
    return tmp_path


# ----------------------------------------------------------------------------
# read_conllu
# ----------------------------------------------------------------------------
def test_read_conllu_skips_multiword_tokens_and_empty_nodes(tmp_path):
    data = read_conllu(write(tmp_path / "x.conllu", CONLLU), columns=("form", "upos", "head"))
    assert data.tokens == [["I", "do", "n't", "know", "."], ["Paris", "."]]
    assert data.sent_ids == ["s1", "s2"]
    assert list(data.targets.columns) == ["upos", "head"]
    assert data.targets["upos"][0] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert data.targets["head"][1] == ["0", "1"]
    assert (data.n_multiword, data.n_empty) == (1, 1)


def test_read_conllu_all_columns_and_gzip(tmp_path):
    path = write(tmp_path / "x.conllu.gz", CONLLU, gz=True)
    cols = ["lemma", "upos", "xpos", "feats", "head", "deprel"]
    for p in [path, tmp_path / "x.conllu"]:  # name without .gz finds the .gz
        data = read_conllu(p, columns=cols)
        assert list(data.targets.columns) == cols
        row = data.targets.iloc[0]
        assert row["lemma"] == ["I", "do", "not", "know", "."]
        assert row["xpos"] == ["PRP", "VBP", "RB", "VB", "."]
        assert row["feats"] == ["Case=Nom", "Mood=Ind", "_", "VerbForm=Inf", "_"]
        assert row["deprel"] == ["nsubj", "aux", "advmod", "root", "punct"]


def test_read_conllu_no_trailing_blank_line_and_no_sent_id(tmp_path):
    text = "1\ta\ta\tX\tX\t_\t0\troot\t_\t_\n\n\n1\tb\tb\tX\tX\t_\t0\troot\t_\t_"
    data = read_conllu(write(tmp_path / "x.conllu", text), columns=["upos"])
    assert data.tokens == [["a"], ["b"]]
    assert data.sent_ids == [None, None]


def test_read_conllu_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.conllu"):
        read_conllu(tmp_path / "nope.conllu")
    with pytest.raises(ValueError, match="unknown CoNLL-U column"):
        read_conllu(write(tmp_path / "x.conllu", CONLLU), columns=["form", "pos"])
    lines = CONLLU.splitlines()
    bad = lines.copy()
    bad[6] = bad[6].replace("\t", " ", 2)  # line 7: too few tab-separated fields
    path = write(tmp_path / "bad.conllu", "\n".join(bad))
    with pytest.raises(ValueError, match=r"bad\.conllu, line 7: expected 10 tab-separated"):
        read_conllu(path)
    bad = lines.copy()
    bad[5] = bad[5].replace("2\tdo", "x\tdo")
    with pytest.raises(ValueError, match=r"line 6: invalid word ID 'x'"):
        read_conllu(write(tmp_path / "bad.conllu", "\n".join(bad)))
    bad = lines.copy()
    del bad[5]  # word 2 missing
    with pytest.raises(ValueError, match=r"line 6: word ID 3 out of sequence"):
        read_conllu(write(tmp_path / "bad.conllu", "\n".join(bad)))
    bad = [ln for ln in lines if ln != ""]  # the blank line between sentences lost
    with pytest.raises(ValueError, match=r"line 11: '# sent_id' comment inside a sentence"):
        read_conllu(write(tmp_path / "bad.conllu", "\n".join(bad)))


def test_read_conllu_sample_multiword_sentence():
    data = read_conllu(SAMPLE / "en_ewt-ud-dev.conllu", columns=["upos", "lemma"])
    assert len(data.tokens) == SAMPLE_SIZES["dev"]
    raw = gzip.decompress((SAMPLE / "en_ewt-ud-dev.conllu.gz").read_bytes()).decode()
    block = raw.split(f"# sent_id = {MWT_ID}\n")[1].split("\n\n")[0]
    assert "\n2-3\thaven't\t" in block  # the upstream line is there ...
    i = data.sent_ids.index(MWT_ID)
    assert data.tokens[i] == MWT_WORDS  # ... and skipped: words only
    assert data.targets["lemma"][i][1:3] == ["have", "not"]
    j = data.sent_ids.index(EMPTY_ID)
    block = raw.split(f"# sent_id = {EMPTY_ID}\n")[1].split("\n\n")[0]
    n_int = sum(ln.split("\t")[0].isdigit() for ln in block.splitlines() if ln[0] != "#")
    assert "\n10.1\t" in block and len(data.tokens[j]) == n_int
    assert data.n_multiword == len(re.findall(r"^\d+-\d+\t", raw, flags=re.M)) == 28
    assert data.n_empty == 3


# ----------------------------------------------------------------------------
# read_iob2
# ----------------------------------------------------------------------------
def test_read_iob2_and_draft_mapping(tmp_path):
    path = write(tmp_path / "x.iob2", IOB2)
    data = read_iob2(path)
    assert data.tokens == [["I", "do", "n't", "know", "."], ["Paris", "."]]
    assert data.sent_ids == ["s1", "s2"]
    assert list(data.targets.columns) == ["ner"]
    assert data.targets["ner"][0] == ["O", "O", "B-O", "B-OTH", "I-OTH"]
    mapped = read_iob2(path, map_draft_tags=True)
    assert mapped.targets["ner"][0] == ["O"] * 5
    assert mapped.targets["ner"][1] == ["B-LOC", "O"]
    assert set(DRAFT_TAG_MAP) == {"B-O", "B-OTH", "I-OTH"}


def test_read_iob2_two_columns(tmp_path):
    data = read_iob2(write(tmp_path / "x.txt", "EU\tB-ORG\nrejects\tO\n\nHi\tO\n"))
    assert data.tokens == [["EU", "rejects"], ["Hi"]]
    assert data.sent_ids == [None, None]


def test_read_iob2_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.iob2"):
        read_iob2(tmp_path / "missing.iob2")
    lines = IOB2.splitlines()
    for lineno, bad_line, msg in [
        (5, "2\tdo\tX-PER", "invalid IOB2 tag 'X-PER'"),
        (5, "7\tdo\tO", "token index '7' out of sequence"),
        (5, "do", "expected tab-separated"),
    ]:
        bad = lines.copy()
        bad[lineno - 1] = bad_line
        path = write(tmp_path / "bad.iob2", "\n".join(bad))
        with pytest.raises(ValueError, match=rf"bad\.iob2, line {lineno}: {msg}"):
            read_iob2(path)


# A CoNLL-2003-style file: space-separated 'token POS chunk tag', -DOCSTART- lines,
# numbers as tokens (also one of "1" that is no UNER index) and a hashtag entity.
CONLL2003 = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

1 CD B-NP O
Peter NNP I-NP B-PER
Blackburn NNP I-NP I-PER
-DOCSTART- -X- -X- O
#NewYork NNP B-NP B-LOC
1996 CD I-NP O
"""
CONLL2003_TOKENS = [
    ["EU", "rejects", "German", "call", "."],
    ["1", "Peter", "Blackburn"],
    ["#NewYork", "1996"],
]
CONLL2003_NER = [
    ["B-ORG", "O", "B-MISC", "O", "O"],
    ["O", "B-PER", "I-PER"],
    ["B-LOC", "O"],
]


def test_read_iob2_hashtag_tokens(tmp_path):
    # '#' lines after a sentence's first token, and '#word' lines anywhere, are tokens.
    text = (
        "# sent_id = t1\n# text = so #blessed in #NewYork #\n"
        "so\tO\n#blessed\tO\nin\tO\n#NewYork\tB-LOC\n#\tO\n\n"
        "#happy\tO\nday\tO\n\n"
        "#\tO\n#Obama\tB-PER\n"
    )
    data = read_iob2(write(tmp_path / "tweets.txt", text))
    assert data.tokens == [
        ["so", "#blessed", "in", "#NewYork", "#"],
        ["#happy", "day"],
        ["#", "#Obama"],
    ]
    assert data.sent_ids == ["t1", None, None]
    assert data.targets["ner"].tolist() == [
        ["O", "O", "O", "B-LOC", "O"],
        ["O", "O"],
        ["O", "B-PER"],
    ]
    assert sum(len(s) for s in data.tokens) == sum(len(t) for t in data.targets["ner"]) == 9
    assert spans(data.targets["ner"][0]) == [("LOC", 3, 4)]


def test_read_iob2_comments_only_before_a_sentence(tmp_path):
    text = (
        "# newdoc id = d1\n# newpar\n# sent_id = s1\n# text = Paris .\n# a free comment\n#\n"
        "Paris\tB-LOC\n.\tO\n"
    )
    data = read_iob2(write(tmp_path / "c.iob2", text))
    assert data.tokens == [["Paris", "."]] and data.sent_ids == ["s1"]
    # Inside a sentence a comment is an error (it was skipped before), never dropped.
    for bad, what in [
        ("# text = Paris .", "comment line"),
        ("# sent_id = s2", "'# sent_id' comment"),
    ]:
        path = write(tmp_path / "c.iob2", text.replace(".\tO\n", f".\tO\n{bad}\nx\tO\n"))
        with pytest.raises(ValueError, match=rf"c\.iob2, line 9: {what} inside a sentence"):
            read_iob2(path)


def test_read_iob2_uner_index_first(tmp_path):
    text = (
        "# sent_id = u1\n1\tI\tO\n2\t#\tO\t-\t-\n3\tlove\tO\n4\t#NYC\tB-LOC\t-\tann\n\n"
        "# sent_id = u2\n1\t#tag\tB-PER\t-\tann\n2\t1996\tO\n"
    )
    path = write(tmp_path / "u.iob2", text)
    auto, explicit = read_iob2(path), read_iob2(path, tag_column=2)
    assert auto.tokens == explicit.tokens == [["I", "#", "love", "#NYC"], ["#tag", "1996"]]
    assert auto.sent_ids == ["u1", "u2"]
    assert auto.targets.equals(explicit.targets)
    assert auto.targets["ner"].tolist() == [["O", "O", "O", "B-LOC"], ["B-PER", "O"]]


def test_read_iob2_conll2003(tmp_path):
    data = read_iob2(write(tmp_path / "eng.testa", CONLL2003))
    assert data.tokens == CONLL2003_TOKENS
    assert data.targets["ner"].tolist() == CONLL2003_NER
    assert data.sent_ids == [None, None, None]
    # The same file tab-separated reads the same.
    tabbed = read_iob2(write(tmp_path / "eng.tsv", CONLL2003.replace(" ", "\t")))
    assert tabbed.tokens == CONLL2003_TOKENS and tabbed.targets.equals(data.targets)


def test_read_iob2_two_columns_space_separated_and_blank_with_tabs(tmp_path):
    text = "EU B-ORG\nrejects  O \n\t\n#Brexit B-MISC\n \t \n\t\t\nHi O\n"
    data = read_iob2(write(tmp_path / "x.txt", text))
    assert data.tokens == [["EU", "rejects"], ["#Brexit"], ["Hi"]]
    assert data.targets["ner"].tolist() == [["B-ORG", "O"], ["B-MISC"], ["O"]]
    tabbed = read_iob2(write(tmp_path / "t.txt", "EU\tB-ORG\n\t\n\t\nHi\tO\n"))
    assert tabbed.tokens == [["EU"], ["Hi"]]


def test_read_iob2_tag_column(tmp_path):
    path = write(tmp_path / "eng.testa", CONLL2003)
    chunks = read_iob2(path, tag_column=2)
    assert chunks.tokens == CONLL2003_TOKENS
    assert chunks.targets["ner"][0] == ["B-NP", "B-VP", "B-NP", "I-NP", "O"]
    assert read_iob2(path, tag_column=-1).targets.equals(read_iob2(path).targets)
    assert read_iob2(path, tag_column=3).targets.equals(read_iob2(path).targets)
    with pytest.raises(ValueError, match=r"line 3: tag_column=0 selects the token field"):
        read_iob2(path, tag_column=0)
    with pytest.raises(ValueError, match=r"line 3: no field tag_column=4 in 4 field"):
        read_iob2(path, tag_column=4)
    with pytest.raises(ValueError, match=r"line 3: invalid IOB2 tag 'NNP'"):
        read_iob2(path, tag_column=1)
    for bad in ["2", 2.0, True]:
        with pytest.raises(TypeError, match="tag_column must be None or an int"):
            read_iob2(path, tag_column=bad)


@pytest.mark.parametrize(
    "lineno, bad_line, msg",
    [
        (
            4,
            "rejects VBZ O",
            r"expected space-separated 'token col \.\.\. tag' \(4 fields\), got 3",
        ),
        (4, "rejects VBZ B-VP X-PER", "invalid IOB2 tag 'X-PER'"),
        (4, "#happy", "expected space-separated"),  # a hashtag without its tag
        (3, "#oops NNP B-NP", "expected space-separated"),  # '#x' is no comment
        (10, "# text = 1 Peter Blackburn", "comment line inside a sentence"),
    ],
)
def test_read_iob2_malformed_lines_name_file_line_and_layouts(tmp_path, lineno, bad_line, msg):
    lines = CONLL2003.splitlines()
    lines[lineno - 1] = bad_line
    path = write(tmp_path / "bad.conll", "\n".join(lines))
    with pytest.raises(ValueError, match=rf"bad\.conll, line {lineno}: {msg}") as err:
        read_iob2(path)
    text = str(err.value)
    assert "understood layouts" in text and "'index token tag [extra ...]'" in text
    assert "'token tag'" in text and "'token POS chunk tag'" in text and "-DOCSTART-" in text


# ----------------------------------------------------------------------------
# load_ewt on the shipped sample
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_load_ewt_sample(split):
    data = load_ewt(split=split)
    n = SAMPLE_SIZES[split]
    assert len(data.tokens) == len(data.sent_ids) == len(set(data.sent_ids)) == n
    assert isinstance(data.targets, pd.DataFrame)
    assert list(data.targets.columns) == ["upos", "xpos", "ner"]
    assert data.targets.shape == (n, 3)
    for col in data.targets:
        for words, tags in zip(data.tokens, data.targets[col], strict=True):
            assert isinstance(tags, list) and len(tags) == len(words)
    assert {t for c in data.targets["upos"] for t in c} <= UPOS
    ner = Counter(t for c in data.targets["ner"] for t in c)
    assert set(ner) <= NER_TAGS  # draft tags mapped away for train
    assert all(ner[f"B-{t}"] >= 3 for t in ("PER", "ORG", "LOC"))
    assert data.ner_missing == data.ner_mismatches == data.ner_extra == []
    assert data.ner_draft == (split == "train")
    assert "UD English-EWT r2.9" in data.DESCR and "Universal NER" in data.DESCR
    assert ("DRAFT" in data.DESCR) == (split == "train")
    assert f"{n} sentences" in data.DESCR


def test_load_ewt_sample_train_draft_tags_were_there():
    raw = read_iob2(SAMPLE / "en_ewt-ud-train.draft-0c7ce0d.iob2")
    counts = Counter(t for c in raw.targets["ner"] for t in c)
    assert all(counts[t] > 0 for t in DRAFT_TAG_MAP)
    mapped = load_ewt(split="train", tasks=["ner"])
    for before, after in zip(raw.targets["ner"], mapped.targets["ner"], strict=True):
        assert after == [DRAFT_TAG_MAP.get(t, t) for t in before]


def test_load_ewt_sample_multiword_sentence():
    data = load_ewt(split="dev", tasks=("upos", "feats", "deprel", "ner"))
    assert list(data.targets.columns) == ["upos", "feats", "deprel", "ner"]
    i = data.sent_ids.index(MWT_ID)
    assert data.tokens[i] == MWT_WORDS
    assert data.targets["upos"][i][:3] == ["PRON", "AUX", "PART"]
    assert data.targets["ner"][i] == ["O"] * len(MWT_WORDS)


def test_load_ewt_tasks_without_ner_reads_no_uner():
    data = load_ewt(split="test", tasks="upos")
    assert list(data.targets.columns) == ["upos"]
    assert "NER source" not in data.DESCR and data.ner_draft is False


@pytest.mark.parametrize(
    "kwargs, exc, msg",
    [
        ({"split": "validation"}, ValueError, "split must be one of"),
        ({"tasks": ["pos"]}, ValueError, "tasks must be a non-empty subset"),
        ({"tasks": []}, ValueError, "tasks must be a non-empty subset"),
        ({"ud_version": "r2.10"}, ValueError, "ud_version must be one of"),
        ({"ud_version": "r2.16"}, ValueError, "sample shipped with skmtl holds UD r2.9 only"),
        ({"path": "/nonexistent/root"}, FileNotFoundError, "en_ewt-ud-train.conllu"),
    ],
)
def test_load_ewt_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        load_ewt(**kwargs)


# ----------------------------------------------------------------------------
# load_ewt: the join by sent_id (tiny data roots in the upstream layout)
# ----------------------------------------------------------------------------
def test_load_ewt_join_by_sent_id_in_any_order(tmp_path):
    s1, s2 = IOB2.split("\n\n")
    root = make_root(tmp_path, iob2=s2 + "\n\n" + s1)  # UNER order differs from UD
    data = load_ewt(root, split="dev", tasks=["ner", "upos"])
    assert list(data.targets.columns) == ["ner", "upos"]
    assert data.sent_ids == ["s1", "s2"]
    assert data.targets["ner"].tolist() == [["O", "O", "O", "O", "O"], ["B-LOC", "O"]]
    assert str(root) in data.DESCR


def test_load_ewt_missing_and_mismatched_sentences(tmp_path):
    s1, s2 = IOB2.split("\n\n")
    s2 = s2.replace("Paris", "Rome")
    extra = "# sent_id = s9\n1\tHi\tO\n"
    root = make_root(tmp_path, iob2=s2 + "\n\n" + extra)
    with pytest.warns(UserWarning, match="1 UD sentence.* not in .* and 1 with different tokens"):
        data = load_ewt(root, split="dev")
    assert data.targets["ner"].tolist() == [None, None]
    assert data.targets["upos"][1] == ["PROPN", "PUNCT"]  # other tasks are kept
    assert (data.ner_missing, data.ner_mismatches, data.ner_extra) == (["s1"], ["s2"], ["s9"])
    assert "0 sentences labelled" in data.DESCR


def test_load_ewt_train_prefers_official_file_over_draft(tmp_path):
    root = make_root(tmp_path, split="train")
    draft_dir = root / "uner-english-ewt" / "draft-train-not-official"
    draft_dir.mkdir()
    official = root / "uner-english-ewt" / "en_ewt-ud-train.iob2"
    shutil.move(official, draft_dir / "en_ewt-ud-train.draft-0c7ce0d.iob2")
    data = load_ewt(root, split="train")
    assert data.ner_draft and "DRAFT" in data.DESCR
    assert data.targets["ner"][0] == ["O"] * 5
    write(official, IOB2.replace("B-O\t", "O\t").replace("B-OTH", "O").replace("I-OTH", "O"))
    data = load_ewt(root, split="train")
    assert not data.ner_draft and "DRAFT" not in data.DESCR


def test_load_ewt_duplicate_sent_id(tmp_path):
    root = make_root(tmp_path, conllu=CONLLU.replace("sent_id = s2", "sent_id = s1"))
    with pytest.raises(ValueError, match="sent_id 's1' occurs more than once"):
        load_ewt(root, split="dev")


def test_load_ewt_missing_uner_file(tmp_path):
    root = make_root(tmp_path)
    (root / "uner-english-ewt" / "en_ewt-ud-dev.iob2").unlink()
    with pytest.raises(FileNotFoundError, match="en_ewt-ud-dev.iob2"):
        load_ewt(root, split="dev")
    assert load_ewt(root, split="dev", tasks=["xpos"]).targets.shape == (2, 1)


# ----------------------------------------------------------------------------
# Full data (skipped unless present)
# ----------------------------------------------------------------------------
# PROVENANCE.md: sentences / syntactic words / multi-word-token lines, UD r2.9
FULL_SIZES = {
    "train": (12543, 204579, 2616),
    "dev": (2001, 25149, 360),
    "test": (2077, 25097, 357),
}
UNER_TAG_COUNTS = {
    "dev": {"O": 23653, "B-PER": 343, "I-PER": 196, "B-ORG": 224, "I-ORG": 186, "B-LOC": 399,
            "I-LOC": 148},
    "test": {"O": 23418, "B-PER": 449, "I-PER": 243, "B-ORG": 322, "I-ORG": 276, "B-LOC": 317,
             "I-LOC": 72},
}  # fmt: skip


@needs_full_ewt
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_full_r29_sizes_and_join(split):
    n_sent, n_words, n_mwt = FULL_SIZES[split]
    ud = read_conllu(UD_DIR / "r2.9" / f"en_ewt-ud-{split}.conllu", columns=["upos"])
    assert (len(ud.tokens), sum(map(len, ud.tokens)), ud.n_multiword) == FULL_SIZES[split]
    data = load_ewt(DATA_ROOT, split=split, tasks=["upos", "ner"])
    assert len(data.tokens) == n_sent and sum(map(len, data.tokens)) == n_words
    # UNER matches UD r2.9 token for token (draft train included)
    assert data.ner_missing == data.ner_mismatches == data.ner_extra == []
    assert data.targets["ner"].notna().all()
    counts = Counter(t for c in data.targets["ner"] for t in c)
    if split == "train":
        assert data.ner_draft
        # PROVENANCE: after the mapping, PER 2,873 / LOC 2,698 / ORG 1,434
        ents = Counter(e[0] for c in data.targets["ner"] for e in spans(c))
        assert ents == {"PER": 2873, "LOC": 2698, "ORG": 1434}
        assert set(counts) == NER_TAGS
    else:
        assert not data.ner_draft
        assert counts == UNER_TAG_COUNTS[split]


@needs_full_ewt
def test_full_r216_dev_test_mismatches():
    if not (UD_DIR / "r2.16").is_dir():
        pytest.skip("UD r2.16 not present")
    for split in ["dev", "test"]:
        with pytest.warns(UserWarning, match="3 with different tokens"):
            data = load_ewt(DATA_ROOT, split=split, ud_version="r2.16", tasks=["ner"])
        assert len(data.ner_mismatches) == 3 and data.ner_missing == []
        assert data.targets["ner"].isna().sum() == 3


@needs_full_ewt
def test_sample_is_reproducible(tmp_path):
    from skmtl.datasets._make_ewt_sample import make_ewt_sample

    make_ewt_sample(DATA_ROOT, tmp_path)
    shipped = sorted(p.name for p in SAMPLE.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        new = gzip.decompress((tmp_path / name).read_bytes())
        assert new == gzip.decompress((SAMPLE / name).read_bytes()), name


def test_sample_is_small():
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 400_000
