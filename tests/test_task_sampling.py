"""Task sampling (skmtl.sampling): schedules, draws, and the engine and estimators using them."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

import skmtl
from skmtl import (
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    MultiTaskTagger,
)
from skmtl.encoders import TextEncoder
from skmtl.engine import Engine
from skmtl.sampling import (
    SAMPLING_NAMES,
    AnnealedSampling,
    ProportionalSampling,
    TaskSampler,
    TemperatureSampling,
    UniformSampling,
    resolve_task_sampling,
)
from skmtl.sampling._base import largest_remainder

pytestmark = pytest.mark.filterwarnings("ignore:Training stopped at max_epochs")

SIZES = [30000, 2000, 500]


# --------------------------------------------------------------------------- schedules


def test_counts_follow_each_schedule_and_sum_to_the_epoch_length():
    n = np.array(SIZES, dtype=float)
    cases = {
        "proportional": (ProportionalSampling(), n / n.sum()),
        "uniform": (UniformSampling(), np.full(3, 1 / 3)),
        "temperature": (TemperatureSampling(temperature=2.0), np.sqrt(n) / np.sqrt(n).sum()),
        "temperature5": (TemperatureSampling(temperature=5.0), n**0.2 / (n**0.2).sum()),
    }
    for name, (sampler, p) in cases.items():
        m = sampler.counts(SIZES, 1, 10)
        assert m.sum() == n.sum(), name  # default epoch: sum of the pool sizes
        np.testing.assert_allclose(m / m.sum(), p, atol=1 / n.sum(), err_msg=name)
    # T = 1 is proportional, a huge T is uniform.
    np.testing.assert_array_equal(
        TemperatureSampling(temperature=1.0).counts(SIZES, 1, 10),
        ProportionalSampling().counts(SIZES, 1, 10),
    )
    np.testing.assert_allclose(
        TemperatureSampling(temperature=1e9).counts(SIZES, 1, 10),
        UniformSampling().counts(SIZES, 1, 10),
        atol=1,
    )


def test_the_cap_limits_each_pool_in_p_and_in_the_epoch_length():
    m = ProportionalSampling(max_examples_per_task=1000).counts(SIZES, 1, 5)
    assert m.tolist() == [1000, 1000, 500]
    m = TemperatureSampling(max_examples_per_task=1000, temperature=1e9).counts(SIZES, 1, 5)
    assert m.sum() == 2500 and abs(m[0] - m[2]) <= 1
    m = UniformSampling(epoch_size=99).counts(SIZES, 1, 5)
    assert m.tolist() == [33, 33, 33]


def test_annealed_sampling_goes_from_proportional_towards_uniform():
    s = AnnealedSampling(decay=0.8)
    first, last = s.counts([9000, 1000], 1, 5), s.counts([9000, 1000], 5, 5)
    assert first.tolist() == [9000, 1000]
    alpha = 0.2
    expected = 10000 * 1000**alpha / (9000**alpha + 1000**alpha)
    assert abs(last[1] - expected) <= 1
    shares = [s.counts([9000, 1000], e, 5)[1] for e in range(1, 6)]
    assert shares == sorted(shares) and shares[0] < shares[-1]
    assert s.counts([9000, 1000], 1, 1).tolist() == [9000, 1000]  # one epoch: alpha = 1
    assert AnnealedSampling(decay=0.0).counts([9000, 1000], 5, 5).tolist() == [9000, 1000]


def test_an_empty_pool_gets_no_draws_and_largest_remainder_is_exact():
    assert UniformSampling().counts([10, 0, 20], 1, 3).tolist() == [15, 0, 15]
    assert UniformSampling().counts([0, 0], 1, 3).tolist() == [0, 0]
    for total in (0, 1, 7, 100):
        c = largest_remainder(total, np.array([0.5, 0.3, 0.2]))
        assert c.sum() == total and np.all(np.abs(c - total * np.array([0.5, 0.3, 0.2])) < 1)


def test_draws_come_from_each_pool_and_a_small_pool_is_repeated_whole():
    rng = np.random.RandomState(0)
    pools = [np.arange(0, 100), np.arange(100, 110)]
    rows, tasks = UniformSampling().draw(pools, 1, 3, rng)
    assert rows.size == 110 and np.bincount(tasks).tolist() == [55, 55]
    big, small = rows[tasks == 0], rows[tasks == 1]
    assert set(big) <= set(pools[0]) and len(set(big)) == 55  # without replacement
    assert set(small) == set(pools[1])
    counts = np.bincount(small - 100)
    assert counts.min() >= 5 and counts.max() <= 6  # the whole pool 5 times, plus 5 more
    again, _ = UniformSampling().draw(pools, 1, 3, np.random.RandomState(0))
    np.testing.assert_array_equal(rows, again)


@pytest.mark.parametrize(
    "sampler, match",
    [
        (TemperatureSampling(temperature=0), "TemperatureSampling temperature"),
        (TemperatureSampling(temperature=float("nan")), "temperature"),
        (AnnealedSampling(decay=1.5), "AnnealedSampling decay"),
        (UniformSampling(max_examples_per_task=0), "max_examples_per_task"),
        (UniformSampling(epoch_size=2.5), "epoch_size"),
        (UniformSampling(batches="by_task"), "batches must be one of"),
        (ProportionalSampling(labels="some"), "labels must be one of"),
    ],
)
def test_bad_parameters_are_refused_by_name(sampler, match):
    with pytest.raises(ValueError, match=match):
        resolve_task_sampling(sampler)


def test_resolve_names_objects_and_errors():
    assert resolve_task_sampling(None) is None and resolve_task_sampling("natural") is None
    for name, cls in SAMPLING_NAMES.items():
        assert type(resolve_task_sampling(name)) is cls
    mine = TemperatureSampling(temperature=3.0)
    got = resolve_task_sampling(mine)
    assert got is not mine and got.get_params() == mine.get_params()
    assert isinstance(got, TaskSampler)
    with pytest.raises(ValueError, match="task_sampling must be"):
        resolve_task_sampling("square-root")
    with pytest.raises(ValueError, match="task_sampling must be"):
        resolve_task_sampling(3)


# --------------------------------------------------------------------------- in the engine


def two_corpora(n_big=400, n_small=40, seed=0):
    """Two tasks whose rows are disjoint (one label per row), of very different sizes."""
    rng = np.random.RandomState(seed)
    n = n_big + n_small
    X = rng.normal(size=(n, 4))
    Y = np.full((n, 2), np.nan)
    Y[:n_big, 0] = X[:n_big, 0] > 0
    Y[n_big:, 1] = X[n_big:, 1] + X[n_big:, 2] > 0
    return X, Y


def record_steps(monkeypatch):
    """Patch Engine.train_step to record, per step, each task's number of training rows."""
    steps = []
    original = Engine.train_step

    def spy(self, batch, targets):
        rows = {}
        for j, name in enumerate(self.names):
            _, weight = targets[name]
            rows[j] = int((weight.reshape(len(weight), -1).sum(1) > 0).sum())
        steps.append(rows)
        return original(self, batch, targets)

    monkeypatch.setattr(Engine, "train_step", spy)
    return steps


FAST = {"hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 16, "random_state": 0}


def test_the_natural_order_trains_every_row_once(monkeypatch):
    X, Y = two_corpora()
    steps = record_steps(monkeypatch)
    model = MultiTaskClassifier(**FAST).fit(X, Y)
    per_epoch = len(steps) // 2
    trained = [sum(s[j] for s in steps[:per_epoch]) for j in (0, 1)]
    assert trained == [400, 40]
    assert model.history_[-1]["task_draws"] == {"0": 400, "1": 40}  # each labelled row once
    natural = MultiTaskClassifier(**FAST, task_sampling="natural").fit(X, Y)
    np.testing.assert_array_equal(natural.predict_proba(X)[1], model.predict_proba(X)[1])


@pytest.mark.parametrize("name, expected", [("uniform", [220, 220]), ("proportional", [400, 40])])
def test_each_task_trains_on_exactly_its_draws(monkeypatch, name, expected):
    X, Y = two_corpora()
    steps = record_steps(monkeypatch)
    model = MultiTaskClassifier(**FAST, task_sampling=name).fit(X, Y)
    per_epoch = len(steps) // 2
    trained = [sum(s[j] for s in steps[:per_epoch]) for j in (0, 1)]
    assert trained == expected
    assert model.history_[0]["task_draws"] == {"0": expected[0], "1": expected[1]}


def test_drawn_labels_train_only_the_drawn_task_and_all_keeps_every_label(monkeypatch):
    X, Y = two_corpora()
    Y[:200, 1] = X[:200, 1] > 0  # half the big corpus carries both labels
    steps = record_steps(monkeypatch)
    MultiTaskClassifier(**{**FAST, "max_epochs": 1}, task_sampling=UniformSampling()).fit(X, Y)
    drawn = [sum(s[j] for s in steps) for j in (0, 1)]
    steps.clear()
    MultiTaskClassifier(
        **{**FAST, "max_epochs": 1}, task_sampling=UniformSampling(labels="all")
    ).fit(X, Y)
    everything = [sum(s[j] for s in steps) for j in (0, 1)]
    # Pools: task 0 has 400 rows, task 1 has 240: 640 draws, 320 each.
    assert drawn == [320, 320]
    assert everything[0] > 320 and everything[1] > 320  # the other label comes along


def test_per_task_batches_hold_one_task_each(monkeypatch):
    X, Y = two_corpora()
    Y[:200, 1] = X[:200, 1] > 0
    steps = record_steps(monkeypatch)
    MultiTaskClassifier(
        **{**FAST, "max_epochs": 1}, task_sampling=TemperatureSampling(batches="per_task")
    ).fit(X, Y)
    assert all(sum(1 for v in s.values() if v) == 1 for s in steps)
    assert {next(j for j, v in s.items() if v) for s in steps} == {0, 1}
    mixed = []
    steps.clear()
    MultiTaskClassifier(**{**FAST, "max_epochs": 1}, task_sampling=TemperatureSampling()).fit(X, Y)
    mixed = [sum(1 for v in s.values() if v) for s in steps]
    assert max(mixed) == 2


def test_a_sampler_of_ones_own_follows_the_protocol(monkeypatch):
    class OnlyFirstTask:
        batches, labels = "mixed", "drawn"

        def draw(self, pools, epoch, max_epochs, rng):
            return pools[0][: 10 * epoch], np.zeros(10 * epoch, dtype=np.int64)

    X, Y = two_corpora()
    steps = record_steps(monkeypatch)
    model = MultiTaskClassifier(**FAST, task_sampling=OnlyFirstTask()).fit(X, Y)
    assert sum(s[0] for s in steps) == 30 and sum(s[1] for s in steps) == 0
    assert [r["task_draws"]["0"] for r in model.history_] == [10, 20]


def test_sample_weight_zero_rows_are_left_out_of_the_pools(monkeypatch):
    X, Y = two_corpora()
    w = np.ones(len(X))
    w[400:420] = 0.0
    steps = record_steps(monkeypatch)
    model = MultiTaskClassifier(**{**FAST, "max_epochs": 1}, task_sampling="proportional")
    model.fit(X, Y, sample_weight=w)
    assert model.history_[0]["task_draws"] == {"0": 400, "1": 20}
    assert [sum(s[j] for s in steps) for j in (0, 1)] == [400, 20]


# --------------------------------------------------------------------------- estimators


SCHEDULES = [
    "proportional",
    "uniform",
    TemperatureSampling(temperature=3.0, max_examples_per_task=100),
    AnnealedSampling(batches="per_task"),
]


def texts_and_targets(n=60, seed=0):
    rng = np.random.RandomState(seed)
    words = ["good", "bad", "fine", "awful", "nice", "poor", "ok", "great"]
    X = [" ".join(rng.choice(words, size=rng.randint(2, 6))) for _ in range(n)]
    Y = np.full((n, 2), np.nan)
    Y[: n * 3 // 4, 0] = [("good" in x) or ("great" in x) for x in X[: n * 3 // 4]]
    Y[n * 3 // 4 :, 1] = [len(x.split()) > 3 for x in X[n * 3 // 4 :]]
    return X, Y


def tagged(n=40, seed=0):
    rng = np.random.RandomState(seed)
    vocab = {"the": "DET", "a": "DET", "cat": "NOUN", "dog": "NOUN", "runs": "VERB"}
    X, pos, ner = [], [], []
    for i in range(n):
        words = list(rng.choice(list(vocab), size=rng.randint(2, 6)))
        X.append(words)
        pos.append([vocab[w] for w in words] if i < n // 2 else None)
        ner.append(["B-ANI" if vocab[w] == "NOUN" else "O" for w in words] if i >= n // 2 else None)
    return X, {"pos": pos, "ner": ner}


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: str(s)[:24])
@pytest.mark.parametrize(
    "make, data",
    [
        (lambda ts: MultiTaskClassifier(**FAST, task_sampling=ts), two_corpora),
        (lambda ts: MultiTaskRegressor(**FAST, task_sampling=ts), None),
        (lambda ts: MultiTaskEstimator(**FAST, task_sampling=ts), None),
        (
            lambda ts: MultiTaskClassifier(
                encoder=TextEncoder(embed_dim=8, width=8, depth=1, max_length=16),
                hidden_layer_sizes=(),
                max_epochs=2,
                batch_size=8,
                random_state=0,
                task_sampling=ts,
            ),
            texts_and_targets,
        ),
    ],
    ids=["classifier", "regressor", "estimator", "text"],
)
def test_every_feature_and_text_estimator_samples_reproducibly(make, data, schedule):
    if data is None:
        X, Y = two_corpora()
        Y = np.where(np.isnan(Y), np.nan, Y * 2.0 - 0.5)
    else:
        X, Y = data()
    model = make(schedule).fit(X, Y)
    assert sum(model.history_[-1]["task_draws"].values()) > 0
    pred = model.predict(X)
    again = make(schedule).fit(X, Y).predict(X)
    np.testing.assert_array_equal(pred, again)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), pred)


@pytest.mark.parametrize("schedule", ["uniform", TemperatureSampling(batches="per_task")])
def test_the_tagger_samples_token_tasks(monkeypatch, schedule):
    X, Y = tagged()
    steps = record_steps(monkeypatch)
    model = MultiTaskTagger(max_epochs=2, batch_size=8, random_state=0, task_sampling=schedule)
    model.fit(X, Y)
    assert sum(s[0] for s in steps) > 0 and sum(s[1] for s in steps) > 0
    assert model.history_[0]["task_draws"] == {"pos": 20, "ner": 20}
    assert len(model.predict(X)["pos"]) == len(X)


def test_seq2seq_samples_its_tasks():
    pytest.importorskip("sentencepiece")
    src = [f"item {i} costs {i % 7} euros" for i in range(40)]
    de = [f"artikel {i} kostet {i % 7} euro" if i < 30 else None for i in range(40)]
    fr = [f"article {i} coute {i % 7} euros" if i >= 30 else None for i in range(40)]
    model = skmtl.MultiTaskSeq2Seq(
        max_epochs=1,
        batch_size=8,
        random_state=0,
        task_sampling="uniform",
        d_model=16,
        n_heads=2,
        encoder_layers=1,
        decoder_layers=1,
        ff_dim=16,
        vocab_size=300,
        warmup_steps=5,
        beam_size=1,
    ).fit(src, {"de": de, "fr": fr})
    assert model.history_[0]["task_draws"] == {"de": 20, "fr": 20}


def test_task_sampling_is_grid_searchable_and_clones():
    X, Y = two_corpora()
    base = MultiTaskClassifier(**FAST, task_sampling=TemperatureSampling())
    search = GridSearchCV(
        base,
        {"task_sampling__temperature": [1.0, 5.0], "task_sampling__batches": ["mixed", "per_task"]},
        cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.task_sampling.temperature in (1.0, 5.0)
    search = GridSearchCV(
        MultiTaskClassifier(**FAST),
        {"task_sampling": [None, "uniform", UniformSampling(max_examples_per_task=50)]},
        cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, Y)
    assert len(search.cv_results_["params"]) == 3
    copy_ = clone(base)
    assert copy_.task_sampling is not base.task_sampling
    assert copy_.get_params()["task_sampling__temperature"] == 2.0


def test_the_users_sampler_is_not_mutated_and_a_bad_one_fails_before_training():
    sampler = TemperatureSampling(temperature=2.0)
    before = copy.deepcopy(sampler.__dict__)
    X, Y = two_corpora()
    MultiTaskClassifier(**FAST, task_sampling=sampler).fit(X, Y)
    assert sampler.__dict__ == before
    model = MultiTaskClassifier(**FAST).fit(X, Y)
    fitted = model.predict_proba(X)[0]
    with pytest.raises(ValueError, match="TemperatureSampling temperature"):
        model.set_params(task_sampling=TemperatureSampling(temperature=-1)).fit(X, Y)
    np.testing.assert_array_equal(model.predict_proba(X)[0], fitted)  # the old model stays
    with pytest.raises(ValueError, match="task_sampling must be"):
        MultiTaskClassifier(**FAST, task_sampling="sqrt").fit(X, Y)


def test_a_model_with_a_sampler_saves_and_loads(tmp_path):
    X, Y = two_corpora()
    model = MultiTaskClassifier(**FAST, task_sampling=TemperatureSampling(temperature=3.0))
    model.fit(X, Y)
    skmtl.save(model, tmp_path / "m.safetensors")
    back = skmtl.load(tmp_path / "m.safetensors")
    assert back.task_sampling.get_params() == model.task_sampling.get_params()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def _strategies():
    from skmtl import weighting

    skip = {"WeightingStrategy", "GradientAggregation", "conditioned"}
    return [getattr(weighting, n) for n in weighting.__all__ if n not in skip]


@pytest.mark.parametrize("strategy", _strategies(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("batches", ["mixed", "per_task"])
def test_every_weighting_strategy_trains_with_task_sampling(strategy, batches):
    X, Y = two_corpora(n_big=120, n_small=24)
    model = MultiTaskClassifier(
        **FAST, weighting=strategy(), task_sampling=TemperatureSampling(batches=batches)
    ).fit(X, Y)
    record = model.history_[-1]
    held_out = round(strategy().holdout_share() * 144)  # AutoLambda's rows for its own step
    assert sum(record["task_draws"].values()) == 144 - held_out
    assert np.isfinite(record["train_loss"])
    assert all(np.isfinite(v) and v > 0 for v in record["task_weight"].values())
    assert np.all(np.isfinite(model.predict_proba(X)[1]))


def test_add_tasks_samples_the_new_tasks():
    X, Y = two_corpora()
    frame = pd.DataFrame({"a": Y[:, 0], "b": Y[:, 1]})
    model = MultiTaskClassifier(**FAST).fit(X, frame[["a"]].fillna(0))
    model.set_params(task_sampling=UniformSampling()).add_tasks(X, frame[["b"]])
    assert model.history_[-1]["task_draws"] == {"b": 40}
    assert list(model.tasks_) == ["a", "b"]


def test_task_draws_are_recorded_in_every_epoch_across_warm_starts():
    X, Y = two_corpora()
    model = MultiTaskClassifier(**FAST, task_sampling="uniform").fit(X, Y)
    model.set_params(warm_start=True, task_sampling=None).fit(X, Y)
    assert model.history_[:, "task_draws"] == [{"0": 220, "1": 220}] * 2 + [{"0": 400, "1": 40}] * 2
