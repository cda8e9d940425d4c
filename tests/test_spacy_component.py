"""The spaCy pipeline component (skmtl.integrations): nlp.add_pipe("skmtl", ...)."""

import copy
import os
import pickle
import subprocess
import sys
import warnings
from importlib.metadata import entry_points

import joblib
import numpy as np
import pytest
import spacy
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from spacy.tokens import Doc, Token

import skmtl
from skmtl._spans import spans
from skmtl.datasets import load_ewt, load_goemotions
from skmtl.encoders import TextEncoder
from skmtl.integrations import SkmtlComponent

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _genre(sent_id):
    return sent_id.split("-")[0]


@pytest.fixture(scope="module")
def ewt():
    train = load_ewt(split="train", tasks=("upos", "xpos", "ner"))
    test = load_ewt(split="test", tasks=("upos", "xpos", "ner"))
    Y = train.targets.copy()
    Y["genre"] = [_genre(s) for s in train.sent_ids]  # a document-level multiclass task
    Y["question"] = [t[-1] == "?" for t in train.tokens]  # a binary one (False / True)
    return train.tokens, Y, test.tokens


@pytest.fixture(scope="module")
def tagger(ewt):
    X, Y, _ = ewt
    return skmtl.MultiTaskTagger(
        TextEncoder(width=32, embed_dim=16, depth=1),
        learning_rate=2e-2,
        max_epochs=3,
        random_state=0,
    ).fit(X, Y)


@pytest.fixture(scope="module")
def tagger_path(tagger, tmp_path_factory):
    path = tmp_path_factory.mktemp("tagger") / "tagger.safetensors"
    skmtl.save(tagger, path)
    return str(path)


@pytest.fixture(scope="module")
def goemotions():
    data = load_goemotions()
    return data.text, data.targets


@pytest.fixture(scope="module")
def tfidf_pipeline(goemotions):
    X, Y = goemotions
    return make_pipeline(
        TfidfVectorizer(min_df=2),
        skmtl.MultiTaskClassifier(hidden_layer_sizes=(32,), max_epochs=5, random_state=0),
    ).fit(X, Y)


def _predict(model, X):
    """model.predict as a dict of lists (the tagger gives a DataFrame for a DataFrame Y)."""
    return {k: list(v) for k, v in model.predict(X).items()}


def _docs(nlp, sentences):
    return [Doc(nlp.vocab, words=list(words)) for words in sentences]


def _annotations(doc):
    return (
        [t.pos_ for t in doc],
        [t.tag_ for t in doc],
        [(e.label_, e.start, e.end) for e in doc.ents],
        dict(doc.cats),
    )


def _tagger_nlp(path, **config):
    nlp = spacy.blank("en")
    component = nlp.add_pipe("skmtl", config={"model": path, **config})
    return nlp, component


# --------------------------------------------------------------------- registration


def test_entry_point_makes_the_factory_known_to_spacy():
    found = [ep for ep in entry_points(group="spacy_factories") if ep.name == "skmtl"]
    if not found:
        pytest.skip("skmtl is not installed (pip install -e .): no spacy_factories entry point")
    assert found[0].value == "skmtl.integrations:make_skmtl_component"
    # A fresh interpreter that never imports skmtl: spaCy finds the factory by itself.
    code = (
        "import sys, spacy; nlp = spacy.blank('en'); "
        "c = nlp.add_pipe('skmtl'); "
        "print(type(c).__name__, 'skmtl.integrations' in sys.modules, nlp.pipe_names)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.stdout.split() == ["SkmtlComponent", "True", "['skmtl']"]


def test_default_targets_follow_the_task_names_and_types(tagger_path):
    _, component = _tagger_nlp(tagger_path)
    assert isinstance(component, SkmtlComponent)
    assert component.targets == {
        "upos": "pos",
        "xpos": "tag",
        "ner": "ents",
        "genre": "cats",
        "question": "cats",
    }


# --------------------------------------------------------------------- tagger


def test_token_attributes_and_entities_equal_predict(ewt, tagger, tagger_path):
    _, _, test = ewt
    nlp, _ = _tagger_nlp(tagger_path)
    docs = list(nlp.pipe(_docs(nlp, test), batch_size=40))
    pred = _predict(tagger, test)
    assert [[t.pos_ for t in d] for d in docs] == pred["upos"]
    assert [[t.tag_ for t in d] for d in docs] == pred["xpos"]
    ents = [[(e.label_, e.start, e.end) for e in d.ents] for d in docs]
    assert ents == [spans(tags) for tags in pred["ner"]]
    assert sum(map(len, ents)) > 10


def test_document_tasks_of_a_tagger_fill_doc_cats(ewt, tagger, tagger_path):
    _, _, test = ewt
    nlp, _ = _tagger_nlp(tagger_path)
    docs = list(nlp.pipe(_docs(nlp, test[:30])))
    genres = tagger.classes_["genre"].tolist()
    pred = _predict(tagger, test[:30])
    keys = [f"genre:{g}" for g in genres]  # two tasks in doc.cats: "<task>:<label>"
    for doc, genre, question in zip(docs, pred["genre"], pred["question"], strict=True):
        assert set(doc.cats) == {*keys, "question"}  # a False / True task: one score
        assert max(genres, key=lambda g: doc.cats[f"genre:{g}"]) == genre
        assert sum(doc.cats[k] for k in keys) == pytest.approx(1.0)
        assert (doc.cats["question"] >= 0.5) == question


def test_cats_labels_and_prefix_options(ewt, tagger, tagger_path):
    _, _, test = ewt
    nlp, _ = _tagger_nlp(tagger_path, cats_scores="labels", cats_prefix=False)
    doc = nlp(Doc(nlp.vocab, words=test[0]))
    pred = _predict(tagger, test[:1])
    assert set(doc.cats) == {*tagger.classes_["genre"], "question"}
    assert {k for k, v in doc.cats.items() if v == 1.0} - {"question"} == {pred["genre"][0]}
    assert doc.cats["question"] == float(pred["question"][0])
    assert set(doc.cats.values()) <= {0.0, 1.0}


def test_attrs_override_extensions_spans_and_dropped_tasks(ewt, tagger, tagger_path):
    _, _, test = ewt
    attrs = {"xpos": "_.ptb", "ner": "spans:entities", "upos": None, "genre": "_.genre"}
    nlp, component = _tagger_nlp(tagger_path, attrs=attrs)
    assert component.targets == {
        "xpos": "_.ptb",
        "ner": "spans:entities",
        "genre": "_.genre",
        "question": "cats",
    }
    docs = list(nlp.pipe(_docs(nlp, test[:20])))
    pred = _predict(tagger, test[:20])
    assert [[t._.ptb for t in d] for d in docs] == pred["xpos"]
    assert [d._.genre for d in docs] == pred["genre"]
    assert [[(s.label_, s.start, s.end) for s in d.spans["entities"]] for d in docs] == [
        spans(t) for t in pred["ner"]
    ]
    assert all(not d.ents and not d.has_annotation("POS") for d in docs)
    # the null of attrs survives the config file
    assert nlp.config["components"]["skmtl"]["attrs"]["upos"] is None


def test_whitespace_and_empty_docs(tagger, tagger_path):
    nlp, _ = _tagger_nlp(tagger_path)
    doc = nlp("Paris  is\nnice .")
    words = [t.text for t in doc if not t.is_space]
    assert len(words) < len(doc)
    pred = _predict(tagger, [words])
    assert [t.pos_ for t in doc if not t.is_space] == pred["upos"][0]
    assert all(t.pos_ == "" for t in doc if t.is_space)
    assert nlp("").cats == {}
    assert [len(d) for d in nlp.pipe(["", "  ", "Hello"])] == [0, 1, 1]


def test_ill_formed_iob2_is_read_strictly(tagger_path):
    nlp, component = _tagger_nlp(tagger_path, attrs={"xpos": None, "genre": None})
    doc = Doc(nlp.vocab, words=["a", "b", "c", "d", "e", "f"])
    prediction = component.predict([doc])
    prediction["decoded"]["ner"] = [["I-PER", "B-LOC", "I-LOC", "I-ORG", "O", "B-PER"]]
    component.set_annotations([doc], prediction)
    assert [(e.label_, e.start, e.end) for e in doc.ents] == [("LOC", 1, 3), ("PER", 5, 6)]


def test_pipe_calls_the_model_once_per_batch(ewt, tagger_path, monkeypatch):
    _, _, test = ewt
    nlp, component = _tagger_nlp(tagger_path)
    single = [_annotations(nlp(doc)) for doc in _docs(nlp, test[:25])]
    calls = []
    original = component._estimator._prepare_inputs

    def counted(X, *args, **kwargs):
        calls.append(len(X))
        return original(X, *args, **kwargs)

    monkeypatch.setattr(component._estimator, "_prepare_inputs", counted)
    batched = list(nlp.pipe(_docs(nlp, test[:25]), batch_size=10))
    assert calls == [10, 10, 5]  # the model reads each batch once
    for (pos, tag, ents, cats), doc in zip(single, batched, strict=True):
        b_pos, b_tag, b_ents, b_cats = _annotations(doc)
        assert (pos, tag, ents) == (b_pos, b_tag, b_ents)
        assert b_cats == pytest.approx(cats)


def test_forward_chunks_hold_a_token_budget(ewt, tagger, tagger_path):
    from skmtl.integrations._spacy import _budget_chunks

    assert _budget_chunks([1, 2, 2, 3, 50, 60], 8, 256) == [(0, 3), (3, 4), (4, 5), (5, 6)]
    assert _budget_chunks([1] * 10, 100, 4) == [(0, 4), (4, 8), (8, 10)]
    _, _, test = ewt
    nlp, component = _tagger_nlp(tagger_path)
    component.token_budget = 64  # many small forward passes: the same predictions
    docs = list(nlp.pipe(_docs(nlp, test), batch_size=1000))
    pred = _predict(tagger, test)
    assert [[t.pos_ for t in d] for d in docs] == pred["upos"]
    assert [d.cats["question"] >= 0.5 for d in docs] == pred["question"]


def test_to_disk_and_spacy_load_round_trip(ewt, tagger_path, tmp_path):
    _, _, test = ewt
    model = tmp_path / "model.safetensors"
    model.write_bytes(open(tagger_path, "rb").read())
    nlp, _ = _tagger_nlp(str(model), attrs={"xpos": "_.ptb"})
    only_genre = dict.fromkeys(["upos", "xpos", "ner", "question"]) | {"genre": "_.genre2"}
    nlp.add_pipe("skmtl", name="genre", config={"model": str(model), "attrs": only_genre})

    def annotations(docs):
        return [_annotations(d) + ([t._.ptb for t in d], d._.genre2) for d in docs]

    before = annotations(nlp.pipe(_docs(nlp, test)))
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "skmtl" / "model.safetensors").is_file()
    model.unlink()  # the loaded pipeline reads its own copies
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["skmtl", "genre"]
    assert loaded.get_pipe("skmtl").targets == nlp.get_pipe("skmtl").targets
    assert loaded.get_pipe("genre").targets == {"genre": "_.genre2"}
    after = annotations(loaded.pipe(_docs(loaded, test)))
    assert after == before
    # bytes: from_config with the model path overridden, then from_bytes
    config = nlp.config.copy()
    config["components"]["skmtl"]["model"] = config["components"]["genre"]["model"] = None
    fresh = spacy.blank("en").from_config(config)
    with pytest.raises(ValueError, match="has no model"):
        fresh("no model yet")
    fresh.from_bytes(nlp.to_bytes())
    assert annotations(fresh.pipe(_docs(fresh, test))) == before
    # and the component pickles (nlp.pipe(n_process=...))
    clone = pickle.loads(pickle.dumps(nlp.get_pipe("skmtl")))
    doc = clone(Doc(nlp.vocab, words=test[0]))
    assert _annotations(doc)[:3] == before[0][:3]


def test_the_users_model_is_not_modified(ewt, tagger):
    _, _, test = ewt
    state = {k: v.clone() for k, v in tagger.module_.state_dict().items()}
    params = tagger.get_params(deep=False)
    expected = _predict(tagger, test[:10])
    nlp = spacy.blank("en")
    component = nlp.add_pipe("skmtl")
    component.set_model(tagger)
    assert component.model is not tagger
    docs = list(nlp.pipe(_docs(nlp, test[:10])))
    assert [[t.pos_ for t in d] for d in docs] == expected["upos"]
    after = tagger.module_.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)
    assert tagger.get_params(deep=False).keys() == params.keys()
    assert _predict(tagger, test[:10]) == expected


# --------------------------------------------------------------------- sentence-level


def test_tfidf_pipeline_fills_doc_cats(goemotions, tfidf_pipeline, tmp_path):
    X, _ = goemotions
    path = tmp_path / "pipe.joblib"
    joblib.dump(tfidf_pipeline, path)
    with pytest.raises(ValueError, match="allow_pickle=True"):
        _tagger_nlp(str(path))
    nlp, component = _tagger_nlp(str(path), allow_pickle=True)
    assert component.targets == {"emotion": "cats", "ekman": "cats", "sentiment": "cats"}
    texts = X[:40]
    docs = list(nlp.pipe(texts, batch_size=16))
    proba = tfidf_pipeline.predict_proba(texts)
    final = tfidf_pipeline[-1]
    for i, doc in enumerate(docs):
        for task, p in zip(final.tasks_, proba, strict=True):
            labels = final.tasks_[task].classes.tolist()
            got = [doc.cats[f"{task}:{label}"] for label in labels]  # three tasks: prefixed
            np.testing.assert_allclose(got, p[i], rtol=1e-5, atol=1e-7)
    # saved with joblib (skmtl.save cannot hold a Pipeline); allow_pickle is in the config
    nlp.to_disk(tmp_path / "nlp")
    assert (tmp_path / "nlp" / "skmtl" / "model.joblib").is_file()
    loaded = spacy.load(tmp_path / "nlp")
    assert [d.cats for d in loaded.pipe(texts)] == [d.cats for d in docs]
    with pytest.raises(ValueError, match="allow_pickle"):
        spacy.load(tmp_path / "nlp", config={"components.skmtl.allow_pickle": False})


def test_pipeline_set_model_warns_that_it_is_pickled(tfidf_pipeline, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("skmtl").set_model(tfidf_pipeline)
    with pytest.warns(UserWarning, match="joblib"):
        nlp.to_disk(tmp_path / "nlp")


def test_text_encoder_classifier_saved_with_skmtl_save(goemotions, tmp_path):
    X, Y = goemotions
    clf = skmtl.MultiTaskClassifier(
        encoder=TextEncoder(width=16, embed_dim=8, depth=1),
        hidden_layer_sizes=(16,),
        max_epochs=1,
        random_state=0,
    ).fit(X[:300], Y[["sentiment"]].iloc[:300])
    path = tmp_path / "clf.safetensors"
    skmtl.save(clf, path)
    nlp, component = _tagger_nlp(str(path))
    assert component.targets == {"sentiment": "cats"}
    docs = list(nlp.pipe(X[:20]))
    proba = clf.predict_proba(X[:20])[0]
    labels = clf.tasks_["sentiment"].classes.tolist()
    for doc, p in zip(docs, proba, strict=True):
        assert list(doc.cats) == labels  # one task: the labels themselves
        np.testing.assert_allclose([doc.cats[k] for k in labels], p, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------- errors


def test_errors_name_the_problem(tagger, tagger_path, tmp_path):
    missing = str(tmp_path / "nope.safetensors")
    with pytest.raises(ValueError, match="does not exist"):
        _tagger_nlp(missing)
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not an skmtl model file"):
        _tagger_nlp(str(text))
    pickled = tmp_path / "tagger.pkl"
    pickled.write_bytes(pickle.dumps(tagger))
    with pytest.raises(ValueError, match="pickle"):
        _tagger_nlp(str(pickled))
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    with pytest.raises(ValueError, match="must be a fitted skmtl estimator"):
        _tagger_nlp(str(tmp_path / "dict.joblib"), allow_pickle=True)
    unfitted = tmp_path / "unfitted.safetensors"
    skmtl.save(skmtl.MultiTaskTagger(), unfitted)
    with pytest.raises(ValueError, match="not fitted"):
        _tagger_nlp(str(unfitted))
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['lemma'\]"):
        _tagger_nlp(tagger_path, attrs={"lemma": "lemma"})
    with pytest.raises(ValueError, match="no known target"):
        _tagger_nlp(tagger_path, attrs={"upos": "part_of_speech"})
    with pytest.raises(ValueError, match="UD UPOS tags only"):
        _tagger_nlp(tagger_path, attrs={"upos": "tag", "xpos": "pos"})
    with pytest.raises(ValueError, match="not IOB2"):
        _tagger_nlp(tagger_path, attrs={"upos": "ents"})
    with pytest.raises(ValueError, match="one prediction per document"):
        _tagger_nlp(tagger_path, attrs={"genre": "tag"})
    with pytest.raises(ValueError, match="both write to 'tag'"):
        _tagger_nlp(tagger_path, attrs={"upos": "tag", "xpos": "tag"})
    with pytest.raises(ValueError, match="cats_scores"):
        _tagger_nlp(tagger_path, cats_scores="logits")
    numeric = skmtl.MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(
        np.random.RandomState(0).normal(size=(20, 3)), np.arange(20) % 2
    )
    with pytest.raises(ValueError, match="numeric feature matrix"):
        spacy.blank("en").add_pipe("skmtl").set_model(numeric)
    with pytest.raises(ValueError, match="has no model"):
        nlp = spacy.blank("en")
        nlp.add_pipe("skmtl")
        nlp("A text.")


def test_a_getter_extension_is_not_overwritten(tagger_path):
    Token.set_extension("skmtl_test_ro", getter=lambda token: 1, force=True)
    try:
        with pytest.raises(ValueError, match="read-only property"):
            _tagger_nlp(tagger_path, attrs={"xpos": "_.skmtl_test_ro"})
    finally:
        Token.remove_extension("skmtl_test_ro")


def test_errors_leave_the_component_unchanged(tagger, tagger_path):
    nlp, component = _tagger_nlp(tagger_path)
    targets = copy.deepcopy(component.targets)
    bad = copy.deepcopy(tagger)
    del bad.module_
    with warnings.catch_warnings(), pytest.raises(ValueError, match="not fitted"):
        component.set_model(bad)
    assert component.targets == targets
    assert nlp("Paris is nice.").has_annotation("POS")
