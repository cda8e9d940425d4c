"""MultiTaskSeq2Seq: generation tasks on the engine, decoding, and the sklearn contract."""

from __future__ import annotations

import copy
import itertools
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skmtl
from skmtl import MultiTaskSeq2Seq
from skmtl.architectures import Hierarchical, MMoE
from skmtl.encoders import SubwordTokenizer
from skmtl.heads import GRUDecoder, Memory, TransformerDecoder, beam_search, greedy_search
from skmtl.tasks import GenerationTask
from skmtl.weighting import PCGrad, UncertaintyWeighting

pytest.importorskip("sentencepiece", reason="the seq2seq extra (sentencepiece) is a test need")

WORDS = "red blue green car house tree dog cat big small".split()


def _corpus(n=240, seed=0):
    """Two generation tasks from different "corpora": reverse the words (odd rows),
    give the first word (even rows); each row has only one task's target."""
    rng = np.random.RandomState(seed)
    X, rev, first = [], [], []
    for i in range(n):
        words = list(rng.choice(WORDS, rng.randint(2, 6)))
        X.append(" ".join(words))
        rev.append(" ".join(reversed(words)) if i % 2 else None)
        first.append(None if i % 2 else words[0])
    return X, {"rev": rev, "first": first}


TINY = dict(
    d_model=32,
    encoder_layers=1,
    decoder_layers=1,
    n_heads=2,
    ff_dim=64,
    vocab_size=300,
    max_epochs=2,
    batch_size=32,
    warmup_steps=10,
    random_state=0,
    beam_size=2,
)


@pytest.fixture(scope="module")
def data():
    return _corpus()


@pytest.fixture(scope="module")
def fitted(data):
    X, Y = data
    return MultiTaskSeq2Seq(**TINY).fit(X, Y)


# -- learning -----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["transformer", "gru"])
@pytest.mark.parametrize("decoder", ["per_task", "shared"])
def test_learns_two_generation_tasks_with_disjoint_rows(cell, decoder):
    X, Y = _corpus(600)
    model = MultiTaskSeq2Seq(
        cell=cell,
        decoder=decoder,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        n_heads=4,
        ff_dim=128,
        vocab_size=300,
        max_epochs=15,
        batch_size=32,
        warmup_steps=50,
        learning_rate=2e-3,
        dropout=0.0,
        beam_size=3,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, Y)
    pred = model.predict(X[:120])
    for task in ("rev", "first"):
        pairs = [(p, t) for p, t in zip(pred[task], Y[task][:120], strict=True) if t is not None]
        exact = np.mean([p == t for p, t in pairs])
        assert exact > 0.6, (task, exact)  # chance is ~0 for "rev"


def test_predict_layout_and_history(fitted, data):
    X, Y = data
    pred = fitted.predict(X[:5])
    assert isinstance(pred, dict) and list(pred) == ["rev", "first"]
    assert all(isinstance(s, str) for s in pred["rev"]) and len(pred["rev"]) == 5
    frame = MultiTaskSeq2Seq(**TINY).fit(X, pd.DataFrame(Y)).predict(X[:3])
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["rev", "first"]
    assert len(fitted.history_) == 2 and set(fitted.history_[-1]["task_loss"]) == {"rev", "first"}
    assert fitted.tasks_["rev"].type == "generation"


def test_row_level_task_beside_generation(data):
    X, Y = data
    Y = {**Y, "n_words": [str(len(x.split())) for x in X]}
    model = MultiTaskSeq2Seq(**{**TINY, "tasks": {"n_words": "multiclass"}}).fit(X, Y)
    assert model.tasks_["n_words"].type == "multiclass"
    pred = model.predict(X[:4])
    assert set(pred["n_words"]) <= {"2", "3", "4", "5"}
    assert 0 <= model.score(X, Y) <= 1


def test_missing_targets_do_not_train_the_task():
    """A row without a target for a task gives that task's loss nothing: the loss
    equals the loss over the labelled rows alone."""
    torch.manual_seed(0)
    task = GenerationTask("t", None, 20, bos_id=2, eos_id=3, max_length=5)
    dec = TransformerDecoder(20, 8, 1, 2, 16, 0.0)
    from skmtl.heads import GenerationHead

    head = GenerationHead(dec, 8).eval()
    mem = head(torch.randn(4, 3, 8), torch.ones(4, 3, dtype=torch.bool))
    target = torch.tensor([[5, 6, 3, -1, -1], [-1] * 5, [7, 3, -1, -1, -1], [-1] * 5])
    weight = torch.tensor([1.0, 0.0, 1.0, 0.0])
    full = task.loss(mem, target, weight, head=head)
    rows = torch.tensor([0, 2])
    sub = task.loss(head(mem.memory[rows], mem.mask[rows]), target[rows], weight[rows], head=head)
    assert torch.allclose(full, sub)
    none = task.loss(mem, target, torch.zeros(4), head=head)
    assert none.item() == 0.0


# -- decoding -----------------------------------------------------------------------


def _decoders():
    torch.manual_seed(0)
    return [TransformerDecoder(7, 8, 2, 2, 16, 0.0).eval(), GRUDecoder(7, 8, 2, 0.0).eval()]


@pytest.mark.parametrize("decoder", _decoders(), ids=["transformer", "gru"])
def test_incremental_steps_equal_teacher_forcing(decoder):
    """The cached one-step decoder gives the logits of the full teacher-forced pass."""
    mem = Memory(torch.randn(3, 4, 8), torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]]))
    inputs = torch.randint(0, 7, (3, 5))
    with torch.no_grad():
        full = decoder(mem, inputs)
        state = decoder.start(mem)
        steps = []
        for t in range(5):
            logits, state = decoder.step(state, inputs[:, t], t)
            steps.append(logits)
    assert torch.allclose(full, torch.stack(steps, 1), atol=1e-5)


def _sequence_logprob(decoder, mem, seq, bos):
    inputs = torch.tensor([[bos] + seq[:-1]])
    with torch.no_grad():
        logp = torch.log_softmax(decoder(mem, inputs), -1)[0]
    return float(sum(logp[i, s] for i, s in enumerate(seq)))


@pytest.mark.parametrize("decoder", _decoders(), ids=["transformer", "gru"])
def test_wide_beam_finds_the_exact_best_sequence(decoder):
    """With as many beams as hypotheses, beam search (alpha=0) is exhaustive: it
    returns the most probable sequence of at most 3 subwords (EOS included)."""
    bos, eos, vocab, max_new = 0, 1, 7, 3
    for seed in range(3):
        torch.manual_seed(seed)
        mem = Memory(torch.randn(1, 4, 8), torch.ones(1, 4, dtype=torch.bool))
        candidates = [
            list(p[:k]) + ([eos] if k < max_new or p[k - 1] != eos else [])
            for k in range(1, max_new + 1)
            for p in itertools.product(range(vocab), repeat=k)
        ]
        candidates = [c[: c.index(eos) + 1] if eos in c else c for c in candidates]
        candidates = [c for c in candidates if len(c) <= max_new]
        scores = {tuple(c): _sequence_logprob(decoder, mem, c, bos) for c in candidates}
        best = max(scores, key=scores.get)
        found = beam_search(
            decoder,
            mem,
            bos_id=bos,
            eos_id=eos,
            max_new_tokens=max_new,
            beam_size=vocab**max_new,
            length_penalty=0.0,
        )[0].tolist()
        found = [t for t in found if t >= 0]
        assert scores[tuple(found)] == pytest.approx(scores[best], abs=1e-5)


@pytest.mark.parametrize("decoder", _decoders(), ids=["transformer", "gru"])
@pytest.mark.parametrize("beam", [1, 3])
def test_batched_decoding_equals_row_by_row(decoder, beam):
    """Padding and batching change nothing: each row decodes as it would alone."""
    torch.manual_seed(1)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    mem = Memory(torch.randn(3, 4, 8), mask)
    kw = dict(bos_id=0, eos_id=1, max_new_tokens=6, beam_size=beam)
    batched = beam_search(decoder, mem, **kw)
    for i in range(3):
        n = int(mask[i].sum())
        alone = beam_search(decoder, Memory(mem.memory[i : i + 1, :n], mask[i : i + 1, :n]), **kw)
        row = [t for t in batched[i].tolist() if t >= 0]
        assert row == [t for t in alone[0].tolist() if t >= 0]


def test_beam_one_is_greedy():
    dec = _decoders()[0]
    mem = Memory(torch.randn(2, 3, 8), torch.ones(2, 3, dtype=torch.bool))
    kw = dict(bos_id=0, eos_id=1, max_new_tokens=5)
    assert torch.equal(beam_search(dec, mem, beam_size=1, **kw), greedy_search(dec, mem, **kw))


def test_decoding_settings_act_at_predict_without_refit(fitted, data):
    X, _ = data
    # set_params on a fitted copy: decoding parameters act at predict time.
    short = copy.deepcopy(fitted).set_params(max_length=1, beam_size=1)
    pred = short.predict(X[:10])
    assert all(len(fitted.tokenizer_.encode([s])[0]) <= 1 for s in pred["rev"])
    assert fitted.tasks_["rev"].beam_size == 1  # the fitted task is never changed


# -- subwords -----------------------------------------------------------------------


def test_tokenizer_is_learned_in_fit_and_handles_unseen_characters(fitted):
    tok = fitted.tokenizer_
    assert isinstance(tok, SubwordTokenizer) and 250 < tok.vocab_size <= 300
    text = "Zürich → 東京 ✓"
    assert tok.decode(tok.encode([text])) == [text]
    pred = fitted.predict(["Zürich → 東京 ✓ red car"])
    assert isinstance(pred["rev"][0], str)


# -- sklearn contract ---------------------------------------------------------------


def test_reproducible_with_random_state(data):
    X, Y = data
    a = MultiTaskSeq2Seq(**TINY).fit(X, Y)
    b = MultiTaskSeq2Seq(**TINY).fit(X, Y)
    assert [r["train_loss"] for r in a.history_] == [r["train_loss"] for r in b.history_]
    assert a.predict(X[:20]) == b.predict(X[:20])


def test_clone_params_and_per_task_weights(fitted):
    c = clone(fitted)
    assert not hasattr(c, "module_") and c.get_params() == fitted.get_params()
    c.set_params(task_weights__rev=2.0)
    assert c.task_weights["rev"] == 2.0


def test_pickle_and_save_load_roundtrip(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict(X[:10])
    assert pickle.loads(pickle.dumps(fitted)).predict(X[:10]) == expected
    path = tmp_path / "model.skmtl"
    skmtl.save(fitted, path)
    assert skmtl.load(path).predict(X[:10]) == expected


def test_inputs_are_not_mutated(data):
    X, Y = data
    X0, Y0 = copy.deepcopy(X), copy.deepcopy(Y)
    MultiTaskSeq2Seq(**TINY).fit(X, Y)
    assert X == X0 and Y == Y0


def test_pipeline_gridsearch_over_task_weights_and_cross_validate(data):
    X, Y = data
    frame = pd.DataFrame(Y)
    pipe = make_pipeline(
        FunctionTransformer(lambda xs: [x.lower() for x in xs]),
        MultiTaskSeq2Seq(**{**TINY, "max_epochs": 1}),
    )
    grid = GridSearchCV(pipe, {"multitaskseq2seq__task_weights__rev": [0.5, 2.0]}, cv=2)
    grid.fit(X, frame)
    assert len(grid.cv_results_["mean_test_score"]) == 2
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    cv = cross_validate(MultiTaskSeq2Seq(**{**TINY, "max_epochs": 1}), X, frame, cv=2)
    assert np.all((cv["test_score"] >= 0) & (cv["test_score"] <= 1))


def test_failed_refit_leaves_model_as_it_was(fitted, data):
    X, Y = data
    model = copy.deepcopy(fitted)
    before = model.predict(X[:5])
    with pytest.raises(ValueError, match="generation task"):
        model.fit(X, {**Y, "rev": [1] + Y["rev"][1:]})
    assert model.predict(X[:5]) == before


def test_warm_start_and_add_tasks(fitted, data):
    X, Y = data
    model = copy.deepcopy(fitted).set_params(warm_start=True, max_epochs=1)
    model.fit(X, Y)
    assert len(model.history_) == 3
    model = copy.deepcopy(fitted)
    upper = [x.upper() if i % 3 == 0 else None for i, x in enumerate(X)]
    model.add_tasks(X, {"upper": upper})
    assert list(model.predict(X[:2])) == ["rev", "first", "upper"]


@pytest.mark.parametrize(
    "extra",
    [
        {"architecture": MMoE(n_experts=2)},
        {"architecture": Hierarchical({"rev": 2, "first": 1}), "encoder_layers": 2},
        {"weighting": PCGrad(on="representation", random_state=0)},
        {"weighting": UncertaintyWeighting()},
        {"tie_embeddings": "all"},
        {"tie_embeddings": False, "cell": "gru"},
    ],
    ids=["mmoe", "hierarchical", "pcgrad-rep", "uncertainty", "tie-all", "untied-gru"],
)
def test_architectures_and_weighting_strategies(data, extra):
    X, Y = data
    model = MultiTaskSeq2Seq(**{**TINY, "max_epochs": 1, **extra}).fit(X, Y)
    assert np.isfinite(model.history_[-1]["train_loss"])
    assert len(model.predict(X[:3])["rev"]) == 3


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda X, Y: (X, {**Y, "rev": [5] + Y["rev"][1:]}), r"Y\['rev'\]\[0\] is a int"),
        (lambda X, Y: (["ok"] + [""] + X[2:], Y), r"X\[1\] is an empty source"),
        (lambda X, Y: ([1] + X[1:], Y), r"X\[0\] is a int"),
        (lambda X, Y: (X, {**Y, "rev": [None] * len(X)}), "no labelled rows"),
        (lambda X, Y: (X, Y["rev"]), "DataFrame or a dict"),
        (lambda X, Y: (X[:10], Y), "rows"),
        (lambda X, Y: ("one string", Y), "single string"),
    ],
    ids=[
        "target-not-str",
        "empty-source",
        "source-not-str",
        "no-targets",
        "list-Y",
        "rows",
        "str-X",
    ],
)
def test_bad_input_gets_a_clear_error(data, change, message):
    X, Y = change(*data)
    with pytest.raises(ValueError, match=message):
        MultiTaskSeq2Seq(**TINY).fit(X, Y)


@pytest.mark.parametrize(
    "params",
    [
        {"cell": "lstm"},
        {"decoder": "both"},
        {"d_model": 30, "n_heads": 4},
        {"beam_size": 0},
        {"vocab_size": 100},
        {"length_penalty": -1},
        {"tie_embeddings": "all", "weighting": PCGrad(on="representation")},
    ],
)
def test_bad_parameters_are_named(data, params):
    X, Y = data
    with pytest.raises(ValueError):
        MultiTaskSeq2Seq(**{**TINY, **params}).fit(X, Y)


def test_long_sources_are_cut_with_one_warning(data):
    X, Y = data
    X = [x + " tree" * 40 if i < 5 else x for i, x in enumerate(X)]
    with pytest.warns(UserWarning, match="5 source texts are longer") as record:
        MultiTaskSeq2Seq(**{**TINY, "max_source_length": 16, "max_epochs": 1}).fit(X, Y)
    assert sum("source texts are longer" in str(w.message) for w in record) == 1


def test_given_tokenizer_is_used_cloned_and_saved(data, tmp_path):
    X, Y = data
    tok = SubwordTokenizer.train(X[:50], vocab_size=300)
    model = MultiTaskSeq2Seq(**{**TINY, "tokenizer": tok, "max_epochs": 1}).fit(X, Y)
    assert model.tokenizer_.model == tok.model
    assert clone(model).tokenizer.model == tok.model
    skmtl.save(model, tmp_path / "m.skmtl")
    loaded = skmtl.load(tmp_path / "m.skmtl")
    assert loaded.tokenizer.model == tok.model
    assert loaded.predict(X[:5]) == model.predict(X[:5])
    with pytest.raises(ValueError, match="tokenizer must be"):
        MultiTaskSeq2Seq(tokenizer="spm.model").fit(X, Y)


def test_predict_a_subset_of_tasks(fitted, data):
    X, _ = data
    only = fitted.predict(X[:4], tasks=["first"])
    assert list(only) == ["first"] and only["first"] == fitted.predict(X[:4])["first"]
    with pytest.raises(ValueError, match="fitted task names"):
        fitted.predict(X[:4], tasks=["nope"])


def test_gridsearch_with_generation_scorers_refits_on_the_mean(data):
    from skmtl.metrics import multitask_scorers

    X, Y = data
    scoring = multitask_scorers({"rev": "bleu", "first": "chrf"})
    grid = GridSearchCV(
        MultiTaskSeq2Seq(**{**TINY, "max_epochs": 1}),
        {"task_weights__first": [0.5, 2.0]},
        scoring=scoring,
        refit="mean",
        cv=2,
    ).fit(X, pd.DataFrame(Y))
    for key in ("mean_test_rev_bleu", "mean_test_first_chrf", "mean_test_mean"):
        assert np.all(np.isfinite(grid.cv_results_[key]))
    assert grid.best_params_["task_weights__first"] in (0.5, 2.0)
    assert hasattr(grid.best_estimator_, "module_")


@pytest.mark.parametrize("decoder", _decoders(), ids=["transformer", "gru"])
def test_reorder_within_rows_keeps_the_source_cache(decoder):
    """Beam back-pointers stay within a row: keeping the cross-attention cache (or the
    GRU's memory) as it is gives the same next-step logits as re-indexing it."""
    torch.manual_seed(3)
    mem = Memory(torch.randn(2, 4, 8), torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])).repeat(3)
    state = decoder.start(mem)
    tokens = torch.randint(0, 7, (6,))
    _, state = decoder.step(state, tokens, 0)
    index = torch.tensor([2, 0, 0, 4, 5, 3])  # rows 0-2 and 3-5 are the beams of sources 0, 1
    a, _ = decoder.step(decoder.reorder(state, index), tokens, 1)
    b, _ = decoder.step(decoder.reorder(state, index, same_source=True), tokens, 1)
    assert torch.allclose(a, b, atol=1e-6)


def test_generation_task_round_trip_with_missing_cells():
    tok = SubwordTokenizer.train(["a red car", "ein rotes Auto", "der Hund"] * 30, vocab_size=300)
    column = ["ein rotes Auto", None, "der Hund", float("nan")]
    task = GenerationTask.from_column(
        "de", column, vocab_size=tok.vocab_size, bos_id=2, eos_id=3, max_length=40
    )
    enc = task.encode(column, tokenizer=tok)
    assert enc.labelled.tolist() == [True, False, True, False]
    assert (enc.target[1] == -1).all() and (enc.target[0] == 3).sum() == 1
    decoded = task.decode(enc.target, tokenizer=tok)
    assert decoded[0] == "ein rotes Auto" and decoded[2] == "der Hund"
    assert GenerationTask.from_dict(task.to_dict()).to_dict() == task.to_dict()
