"""MultiTaskTagger: token-level multi-task learning (UPOS + NER, document heads)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate

from skmtl import MultiTaskTagger
from skmtl._spans import token_accuracy
from skmtl.datasets import load_ewt
from skmtl.encoders import TextEncoder
from skmtl.encoders import tokenize_words as _tokenize_words
from skmtl.metrics import multitask_scorers, task_score


def small_encoder(**kw):
    return TextEncoder(width=32, embed_dim=32, depth=1, **kw)


@pytest.fixture(scope="module")
def ewt():
    data = load_ewt()
    return data.tokens, data.targets[["upos", "ner"]]


@pytest.fixture(scope="module")
def fitted(ewt):
    X, Y = ewt
    return MultiTaskTagger(small_encoder(), max_epochs=3, random_state=0).fit(X, Y)


TOY_X = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"]]
TOY_Y = {
    "pos": [["PRON", "VERB", "PROPN"], ["PRON", "VERB", "ADV", "PUNCT"], ["VERB"]],
    "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"]],
}


def toy(**kw):
    params = {"encoder": small_encoder(), "max_epochs": 2, "random_state": 0}
    params.update(kw)
    return MultiTaskTagger(**params)


def test_fit_ewt_learns_upos_and_ner(ewt, fitted):
    X, Y = ewt
    pred = fitted.predict(X)
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == ["upos", "ner"]
    assert len(pred) == len(X)
    for words, tags, ents in zip(X, pred["upos"], pred["ner"], strict=True):
        assert isinstance(tags, list) and len(tags) == len(words) == len(ents)
    assert set(np.concatenate(pred["upos"].tolist())) <= set(fitted.classes_["upos"])
    assert fitted.task_types_ == {"upos": "token", "ner": "token"}
    upos = token_accuracy(Y["upos"], pred["upos"])
    flat = np.concatenate(Y["upos"].tolist())
    majority = pd.Series(flat).value_counts(normalize=True).iloc[0]
    # measured: 0.58 after 3 epochs (majority tag NOUN: ~0.17)
    assert upos > 0.5 > 2 * majority
    assert token_accuracy(Y["ner"], pred["ner"]) > 0.9  # measured 0.94
    assert fitted.score(X, Y) == pytest.approx(
        np.mean([upos, token_accuracy(Y["ner"], pred["ner"])])
    )
    assert len(fitted.history_) == fitted.n_iter_ == 3
    losses = fitted.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_pretokenized_hashing_matches_raw_strings():
    X = [["A", "good", "film", "."], ["Bad", "!"], ["Hello", "world"], []]
    raw = [" ".join(words) for words in X]
    enc = TextEncoder(char_dim=4, n_rows=997)
    from_raw = enc.prepare(raw)
    from_words = _tokenize_words(enc, X)
    assert from_raw.lengths.tolist() == [4, 2, 2, 0]
    np.testing.assert_array_equal(from_raw.offsets, from_words.offsets)
    np.testing.assert_array_equal(from_raw.ids, from_words.ids)
    np.testing.assert_array_equal(from_raw.chars, from_words.chars)


def test_pretokenized_and_raw_predictions_agree():
    model = toy().fit(TOY_X, TOY_Y)
    raw = [" ".join(words) for words in TOY_X]
    assert model.predict(TOY_X) == model.predict(raw)
    # a raw-string model trains on spaCy's tokens (here the same)
    model_raw = toy().fit(raw, TOY_Y)
    assert model_raw.predict(raw) == model.predict(TOY_X)


def test_pretokenized_keeps_tokens_spacy_would_split():
    X = [["don't", "New-York"], ["x"]]
    Y = {"pos": [["VERB", "PROPN"], ["X"]]}
    pred = toy().fit(X, Y).predict(X)
    assert [len(t) for t in pred["pos"]] == [2, 1]


def test_length_mismatch_names_row():
    Y = {"pos": [TOY_Y["pos"][0], ["PRON", "VERB"], ["VERB"]]}
    with pytest.raises(ValueError, match=r"Y\['pos'\]\[1\] has 2 tags .*X\[1\] has 4 tokens"):
        toy().fit(TOY_X, Y)


def test_empty_sentence():
    X = TOY_X + [[]]
    Y = {k: v + [[]] for k, v in TOY_Y.items()}
    model = toy().fit(X, Y)
    pred = model.predict([[], ["Go"], []])
    assert pred["pos"][0] == [] and pred["pos"][2] == []
    assert len(pred["pos"][1]) == 1
    assert model.predict([""])["ner"] == [[]]  # raw empty string


@pytest.mark.parametrize(
    "X, match",
    [
        ([["a"], ["b", 3]], r"X\[1\]\[1\] is a int"),
        ([["a"], "b"], r"X\[1\] is a str"),
        ([["a"], ["b", ""]], r"X\[1\]\[1\] is an empty"),
        ("a b", "single str"),
    ],
)
def test_bad_tokens_name_the_row(X, match):
    Y = {"pos": [["A"], ["B", "C"]]}
    with pytest.raises(ValueError, match=match):
        toy().fit(X, Y)


def test_unknown_tag_at_score():
    model = toy().fit(TOY_X, TOY_Y)
    Y = {"pos": [["PRON", "VERB", "NOUN"], None, None], "ner": [None, None, ["O"]]}
    with pytest.warns(UserWarning, match=r"'pos'.*NOUN"):
        score = model.score(TOY_X, Y)
    # the unseen tag counts as an error, as in the token/span scorers
    assert score == pytest.approx(
        np.mean(
            [
                task_score(Y["pos"], model.predict(TOY_X)["pos"], "token_accuracy"),
                task_score(Y["ner"], model.predict(TOY_X)["ner"], "token_accuracy"),
            ]
        )
    )
    Y["pos"] = [None, None, ["VERB"]]
    assert 0 <= model.score(TOY_X, Y) <= 1


def test_missing_cells_are_masked(ewt):
    X, Y = ewt
    n = len(X) // 2
    # upos labelled on the first half only, ner on the second half only
    Y_part = pd.DataFrame(
        {
            "upos": Y["upos"].tolist()[:n] + [None] * (len(X) - n),
            "ner": [None] * n + Y["ner"].tolist()[n:],
        }
    )
    model = MultiTaskTagger(small_encoder(), max_epochs=3, random_state=0).fit(X, Y_part)
    pred = model.predict(X[:n])
    assert token_accuracy(Y["upos"][:n], pred["upos"]) > 0.4  # measured 0.51
    assert all(np.isfinite(v) for v in model.history_[-1, "task_loss"].values())
    # score skips the missing cells
    sub = Y_part.iloc[:n][["upos"]]
    assert model.score(X[:n], sub) == pytest.approx(token_accuracy(sub["upos"], pred["upos"]))


def test_document_task_with_token_tasks(ewt):
    X, Y = ewt
    X, Y = X[:120], Y.iloc[:120].reset_index(drop=True)
    Y = Y.assign(long=["long" if len(w) > 15 else "short" for w in X])
    Y.loc[3, "long"] = None
    model = MultiTaskTagger(small_encoder(), max_epochs=2, random_state=0).fit(X, Y)
    assert model.task_types_ == {"upos": "token", "ner": "token", "long": "document"}
    pred = model.predict(X)
    assert list(pred.columns) == ["upos", "ner", "long"]
    assert set(pred["long"]) <= {"long", "short"}
    assert 0 <= model.score(X, Y) <= 1


def test_dict_in_dict_out():
    model = toy().fit(TOY_X, TOY_Y)
    pred = model.predict(TOY_X)
    assert isinstance(pred, dict) and list(pred) == ["pos", "ner"]
    assert [len(t) for t in pred["pos"]] == [3, 4, 1]


def test_pickle_round_trip(fitted, ewt):
    X = ewt[0][:50]
    clone_ = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(clone_.predict(X), fitted.predict(X))


def test_clone_and_set_params():
    model = toy(task_weights={"pos": 2.0})
    model.fit(TOY_X, TOY_Y)
    fresh = clone(model)
    assert not hasattr(fresh, "module_")
    assert fresh.get_params()["task_weights"] == {"pos": 2.0}
    original = model.task_weights
    model.set_params(task_weights__ner=0.5)
    assert model.task_weights == {"pos": 2.0, "ner": 0.5}
    assert original == {"pos": 2.0}  # not mutated
    with pytest.raises(ValueError, match="unknown tasks"):
        toy(task_weights={"nope": 1.0}).fit(TOY_X, TOY_Y)


def test_deterministic_with_random_state():
    a = toy().fit(TOY_X, TOY_Y)
    b = toy().fit(TOY_X, TOY_Y)
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]


def test_early_stopping(ewt):
    X, Y = ewt
    model = MultiTaskTagger(
        small_encoder(), max_epochs=3, early_stopping=True, n_iter_no_change=1, random_state=0
    ).fit(X[:100], Y.iloc[:100])
    assert "valid_score" in model.history_[0]
    assert model.best_epoch_ is not None


def test_grid_search_task_weights(ewt):
    X, Y = ewt
    # score raises on tags never seen in fit: both folds (KFold, no shuffle) hold
    # the same 30 sentences, so every tag of a test fold is seen in its train fold
    X = X[:30] + X[:30]
    Y = pd.concat([Y.iloc[:30], Y.iloc[:30]], ignore_index=True)
    search = GridSearchCV(
        MultiTaskTagger(small_encoder(), max_epochs=1, random_state=0),
        {"task_weights__ner": [0.5, 2.0]},
        cv=2,
    ).fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["task_weights__ner"] in (0.5, 2.0)
    assert search.best_estimator_.task_weights["ner"] == search.best_params_["task_weights__ner"]
    res = cross_validate(MultiTaskTagger(small_encoder(), max_epochs=1, random_state=0), X, Y, cv=2)
    assert np.all((res["test_score"] >= 0) & (res["test_score"] <= 1))


def test_grid_search_with_span_f1_scorers(ewt):
    X, Y = ewt
    X, Y = X[:80], Y.iloc[:80]
    scoring = multitask_scorers({"upos": "token_accuracy", "ner": ["span_f1", "token_accuracy"]})
    search = GridSearchCV(
        MultiTaskTagger(small_encoder(), crf="auto", max_epochs=2, random_state=0),
        {"task_weights__ner": [0.5, 2.0]},
        scoring=scoring,
        refit="mean",
        cv=2,
    ).fit(X, Y)
    results = search.cv_results_
    for key in ("upos_token_accuracy", "ner_span_f1", "ner_token_accuracy", "mean"):
        assert np.all((results[f"mean_test_{key}"] >= 0) & (results[f"mean_test_{key}"] <= 1))
    # the scorers compute what the metrics say on the refitted model's predictions
    pred = search.best_estimator_.predict(X)
    expected = np.mean(
        [
            task_score(Y["upos"], pred["upos"], "token_accuracy"),
            task_score(Y["ner"], pred["ner"], "span_f1"),
            task_score(Y["ner"], pred["ner"], "token_accuracy"),
        ]
    )
    assert scoring["mean"](search.best_estimator_, X, Y) == pytest.approx(expected)


@pytest.mark.parametrize("raw", [False, True])
def test_sentences_longer_than_max_length(raw):
    X = [["I", "like", "Paris", "a", "b", "c"], ["You", "run"]]
    Y = {"pos": [list("ABCDEF"), ["A", "B"]]}
    if raw:
        X = [" ".join(words) for words in X]
    model = toy(encoder=small_encoder(max_length=4))
    with pytest.warns(UserWarning, match="max_length=4"):
        model.fit(X, Y)
    with pytest.warns(UserWarning, match="max_length=4"):
        pred = model.predict(X)
    assert [len(t) for t in pred["pos"]] == [6, 2]
    with pytest.raises(ValueError, match=r"Y\['pos'\]\[0\] has 5 tags .* has 6 tokens"):
        model.fit(X, {"pos": [list("ABCDE"), ["A", "B"]]})


def test_weight_averaging_keeps_the_moving_average(ewt, monkeypatch):
    """The weights left after fit are the EMA of the per-step weights (with warm-up)."""
    import torch

    X, Y = ewt
    X, Y = X[:64], Y.iloc[:64]
    decay = 0.9
    snapshots = []
    real_step = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):
        out = real_step(self, *args, **kwargs)
        params = [p for group in self.param_groups for p in group["params"]]
        snapshots.append([p.detach().clone() for p in params])
        return out

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    model = MultiTaskTagger(
        small_encoder(), weight_averaging=decay, max_epochs=2, batch_size=16, random_state=0
    )
    # the initial weights: those of a 0-step fit with the same seed
    init = MultiTaskTagger(small_encoder(), max_epochs=1, batch_size=16, random_state=0)
    monkeypatch.setattr(torch.optim.AdamW, "step", lambda self, *a, **k: None)
    init.fit(X, Y)
    start = [p.detach().clone() for p in init.module_.parameters()]
    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    model.fit(X, Y)
    assert len(snapshots) == 8  # 64 sentences / 16, 2 epochs
    expected = start
    for t, weights in enumerate(snapshots, start=1):
        rate = 1.0 - min(decay, (1.0 + t) / (10.0 + t))
        expected = [e + rate * (w - e) for e, w in zip(expected, weights, strict=True)]
    final = list(model.module_.parameters())
    for e, f in zip(expected, final, strict=True):
        torch.testing.assert_close(f.detach(), e, rtol=1e-5, atol=1e-6)
    # and they are not the raw weights of the last step
    assert any(not torch.equal(f.detach(), w) for f, w in zip(final, snapshots[-1], strict=True))


@pytest.mark.parametrize("value", [1.0, -0.1, "0.9", True])
def test_weight_averaging_bad_values(value):
    with pytest.raises(ValueError, match="weight_averaging must be a float in"):
        toy(weight_averaging=value).fit(TOY_X, TOY_Y)


def test_weight_averaging_with_early_stopping(ewt):
    X, Y = ewt
    model = MultiTaskTagger(
        small_encoder(),
        weight_averaging=0.99,
        max_epochs=3,
        early_stopping=True,
        n_iter_no_change=1,
        random_state=0,
    ).fit(X[:100], Y.iloc[:100])
    assert model.best_epoch_ is not None
    assert np.isfinite(model.history_[-1, "valid_score"])


def _lowercase(sentences):
    return [[w.lower() for w in words] for words in sentences]


def test_in_a_pipeline_with_grid_search(ewt):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, Y = ewt
    X, Y = X[:60] + X[:60], pd.concat([Y.iloc[:60], Y.iloc[:60]], ignore_index=True)
    pipe = make_pipeline(
        FunctionTransformer(_lowercase), MultiTaskTagger(small_encoder(), max_epochs=1)
    )
    search = GridSearchCV(
        pipe, {"multitasktagger__task_weights__ner": [0.5, 2.0]}, cv=2, error_score="raise"
    ).fit(X, Y)
    assert search.best_params_["multitasktagger__task_weights__ner"] in (0.5, 2.0)
    pred = search.predict(X[:5])
    assert list(pred.columns) == ["upos", "ner"]
    assert [len(t) for t in pred["upos"]] == [len(w) for w in X[:5]]
    # the pipeline's tagger saw lower-cased tokens; the user's X is untouched
    assert any(w != w.lower() for words in X for w in words)
