"""Weight-conditioned training: one fit serves every task weighting."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import skmtl
from skmtl import (
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    MultiTaskSeq2Seq,
    MultiTaskTagger,
)
from skmtl.architectures import CGC, PLE, CrossStitch, DSelectK, Hierarchical, MMoE
from skmtl.encoders import FeatureStack, TextEncoder
from skmtl.engine import Engine
from skmtl.weighting import EqualWeighting, WeightConditioned, conditioned
from skmtl.weighting._conditioned import Condition, ConditionedStack

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def conflicting(n=300, seed=0):
    """Two regression tasks that compete for a one-unit shared bottleneck."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    return X, np.column_stack([X[:, 0], X[:, 1]])


def conditioned_regressor(**params):
    base = dict(
        hidden_layer_sizes=(8, 1),
        activation="identity",
        batch_size=32,
        max_epochs=60,
        random_state=0,
        weighting=WeightConditioned(random_state=0),
    )
    return MultiTaskRegressor(**{**base, **params})


def task_mse(model, X, Y, weights):
    P = model.set_params(task_weights=list(weights)).predict(X)
    return ((P - Y) ** 2).mean(axis=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moving_weight_toward_a_task_lowers_its_training_loss_monotonically(seed):
    X, Y = conflicting(seed=seed)
    model = conditioned_regressor(random_state=seed).fit(X, Y)
    grid = np.linspace(0.05, 0.95, 7)
    losses = np.array([task_mse(model, X, Y, (a, 1 - a)) for a in grid])
    # Task 0's loss falls as its weight rises, task 1's rises: a real trade-off.
    assert np.all(np.diff(losses[:, 0]) < 0), losses
    assert np.all(np.diff(losses[:, 1]) > 0), losses
    assert losses[0, 0] - losses[-1, 0] > 0.5 and losses[-1, 1] - losses[0, 1] > 0.5


def test_task_weights_act_after_fit_and_nothing_else_before_fit():
    X, Y = conflicting(n=120)
    a = conditioned_regressor(max_epochs=5, task_weights=[0.9, 0.1]).fit(X, Y)
    b = conditioned_regressor(max_epochs=5, task_weights=[0.2, 0.8]).fit(X, Y)
    # The same network was trained whatever the weights given before fit ...
    for (ka, va), (kb, vb) in zip(
        a.module_.state_dict().items(), b.module_.state_dict().items(), strict=True
    ):
        assert ka == kb and torch.equal(va, vb)
    # ... and each serves its own weights; set after fit, they change the predictions.
    pa, pb = a.predict(X), b.predict(X)
    assert not np.allclose(pa, pb)
    np.testing.assert_array_equal(b.set_params(task_weights=[0.9, 0.1]).predict(X), pa)
    # Only the ratios matter.
    np.testing.assert_array_equal(b.set_params(task_weights=[9.0, 1.0]).predict(X), pa)
    np.testing.assert_array_equal(b.set_params(task_weights={"1": 1 / 9}).predict(X), pa)


def test_a_plain_model_ignores_task_weights_after_fit():
    X, Y = conflicting(n=80)
    model = conditioned_regressor(max_epochs=2, weighting=EqualWeighting()).fit(X, Y)
    before = model.predict(X)
    np.testing.assert_array_equal(model.set_params(task_weights=[5, 1]).predict(X), before)


def test_early_stopping_scores_at_equal_weights():
    X, Y = conflicting(n=150)
    params = dict(max_epochs=30, early_stopping=True, n_iter_no_change=3)
    a = conditioned_regressor(**params, task_weights=[0.95, 0.05]).fit(X, Y)
    b = conditioned_regressor(**params, task_weights=[0.05, 0.95]).fit(X, Y)
    assert a.best_epoch_ == b.best_epoch_
    np.testing.assert_array_equal(
        a.set_params(task_weights=None).predict(X), b.set_params(task_weights=None).predict(X)
    )


@pytest.mark.parametrize("distribution", ["dirichlet", "log_uniform"])
@pytest.mark.parametrize("conditioning", ["film", "input"])
def test_random_state_reproduces_and_varies(distribution, conditioning):
    X, Y = conflicting(n=80)

    def fit(seed, strategy_seed=None):
        w = WeightConditioned(distribution, conditioning=conditioning, random_state=strategy_seed)
        return conditioned_regressor(max_epochs=3, random_state=seed, weighting=w).fit(X, Y)

    w = [0.7, 0.3]
    one, two = fit(0), fit(0)
    np.testing.assert_array_equal(
        one.set_params(task_weights=w).predict(X), two.set_params(task_weights=w).predict(X)
    )
    assert not np.allclose(one.predict(X), fit(1).set_params(task_weights=w).predict(X))
    # The strategy's own seed changes only the draws.
    assert not np.allclose(one.predict(X), fit(0, 5).set_params(task_weights=w).predict(X))


def test_draws_follow_the_distribution():
    w = WeightConditioned(concentration=[4.0, 1.0, 1.0], random_state=0)
    w.init(["a", "b", "c"])
    draws = np.array([w.draw() for _ in range(4000)])
    np.testing.assert_allclose(draws.sum(axis=1), 1.0)
    np.testing.assert_allclose(draws.mean(axis=0), [4 / 6, 1 / 6, 1 / 6], atol=0.02)
    w = WeightConditioned("log_uniform", min_weight=0.1, random_state=0)
    w.init(["a", "b"])
    draws = np.array([w.draw() for _ in range(2000)])
    ratio = draws[:, 0] / draws[:, 1]
    assert ratio.min() >= 0.1 - 1e-9 and ratio.max() <= 10 + 1e-9
    assert ratio.min() < 0.15 and ratio.max() > 7


@pytest.mark.parametrize("sampling", ["row", "batch"])
def test_each_rows_losses_are_scaled_by_its_draw(sampling):
    """The step's loss is the mean over rows of n_tasks * sum_t lambda_rt L_rt."""
    X, Y = conflicting(n=12)
    Y[::4, 1] = np.nan
    model = conditioned_regressor(
        max_epochs=1, batch_size=12, weighting=WeightConditioned(sampling=sampling)
    ).fit(X, Y)
    data = model.prepare_data(X, Y)
    network = model.module_
    engine = Engine(
        network,
        list(model.tasks_.values()),
        weighting=model.weighting_,
        optimizer=torch.optim.SGD(network.parameters(), lr=0.0),
        sampler=None,
        max_epochs=1,
        device=torch.device("cpu"),
    )
    engine.prepare(data)
    batch = torch.from_numpy(X.astype(np.float32))
    targets = {t: v.rows(0, 12) for t, v in engine.tensors.items()}
    engine.owners = {t: v.owners(0, 12) for t, v in engine.tensors.items()}
    engine.batch_rows = 12
    network.train()
    losses, present, used = engine.train_step(batch, targets)
    lam = model.weighting_.last_weights_
    assert lam.shape == (12, 2)
    if sampling == "batch":
        assert np.allclose(lam, lam[0])
    else:
        assert not np.allclose(lam, lam[0])
    with torch.no_grad(), conditioned(network, lam):
        network.eval()
        pred = network(batch)
    labelled = ~np.isnan(Y)
    expected = []
    for j, name in enumerate(model.tasks_):
        encoded = engine.tensors[name].target.numpy().ravel()  # standardised targets
        err = (pred[name].numpy().ravel() - encoded) ** 2
        rows = labelled[:, j]
        expected.append((2 * lam[rows, j] * err[rows]).sum() / rows.sum())
    np.testing.assert_allclose(losses.detach().numpy(), expected, rtol=1e-4)
    np.testing.assert_allclose(
        used.numpy(), [2 * lam[labelled[:, j], j].mean() for j in range(2)], rtol=1e-5
    )


def test_history_reports_weights_averaging_one():
    X, Y = conflicting(n=200)
    model = conditioned_regressor(max_epochs=20, batch_size=8).fit(X, Y)
    weights = np.array([[e[t] for t in ("0", "1")] for e in model.history_[:, "task_weight"]])
    np.testing.assert_allclose(weights.mean(axis=0), [1.0, 1.0], atol=0.1)
    assert weights.std() > 0  # drawn afresh at every step


@pytest.mark.parametrize("conditioning", ["film", "input"])
def test_conditioned_blocks_start_as_the_plain_ones_for_film(conditioning):
    stack = FeatureStack(5, (8, 3))
    conditioned = ConditionedStack(stack, Condition(2, 4), conditioning)
    plain, blocks = [], []
    for i in range(2):
        torch.manual_seed(i)
        plain.append(stack.make_block(i))
        torch.manual_seed(i)
        blocks.append(conditioned.make_block(i))
    x = torch.randn(6, 5)
    h_plain, h = x, x
    for p, c in zip(plain, blocks, strict=True):
        h_plain, h = p(h_plain, None), c(h, None)
    if conditioning == "film":  # gamma = 1, beta = 0 until trained
        torch.testing.assert_close(h, h_plain)
    conditioned.state.set_condition([0.9, 0.1])
    assert conditioned.n_blocks == 2 and conditioned.out_features(1) == 3  # the stack's
    assert any(p.requires_grad for p in blocks[0].parameters())


@pytest.mark.parametrize("conditioning", ["film", "input"])
def test_clone_pickle_deepcopy_and_save_keep_the_served_weights(tmp_path, conditioning):
    X, Y = conflicting(n=80)
    model = conditioned_regressor(
        max_epochs=3, weighting=WeightConditioned(conditioning=conditioning, random_state=0)
    ).fit(X, Y)
    params = copy.deepcopy(model.get_params())
    assert clone(model).get_params()["weighting"].get_params() == params["weighting"].get_params()
    model.set_params(task_weights=[0.8, 0.2])
    expected = model.predict(X)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(other.predict(X), expected)
        other.set_params(task_weights=[0.2, 0.8])
        assert not np.allclose(other.predict(X), expected)
    path = tmp_path / "model.safetensors"
    skmtl.save(model, path)
    loaded = skmtl.load(path)
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        loaded.set_params(task_weights=[0.2, 0.8]).predict(X),
        model.set_params(task_weights=[0.2, 0.8]).predict(X),
        rtol=1e-6,
        atol=1e-6,
    )


def test_warm_start_continues_the_draws_reproducibly():
    X, Y = conflicting(n=80)

    def run():
        m = conditioned_regressor(max_epochs=2, warm_start=True).fit(X, Y)
        return m.fit(X, Y).set_params(task_weights=[0.6, 0.4]).predict(X)

    np.testing.assert_array_equal(run(), run())


def test_predict_leaves_the_training_draw_alone():
    X, Y = conflicting(n=60)
    model = conditioned_regressor(max_epochs=2).fit(X, Y)
    state = model.module_.weighting
    state.set_condition([0.3, 0.7])
    model.set_params(task_weights=[1, 0]).predict(X)
    np.testing.assert_array_equal(state.value, [0.3, 0.7])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"distribution": "normal"}, "distribution must be one of"),
        ({"conditioning": "hyper"}, "conditioning must be one of"),
        ({"concentration": 0.0}, "concentration must be > 0"),
        ({"concentration": [1.0, 2.0, 3.0]}, "one number per task"),
        ({"concentration": "x"}, "one number per task"),
        ({"min_weight": 1.0}, r"min_weight must be in \(0, 1\)"),
        ({"hidden_size": 0}, "hidden_size must be an int >= 1"),
        ({"sampling": "epoch"}, "sampling must be 'row' or 'batch'"),
    ],
)
def test_bad_parameters_get_clear_errors_at_fit(params, match):
    X, Y = conflicting(n=20)
    strategy = WeightConditioned(**params)  # __init__ only stores
    assert strategy.get_params()[next(iter(params))] is params[next(iter(params))]
    with pytest.raises(ValueError, match=match):
        conditioned_regressor(max_epochs=1, weighting=strategy).fit(X, Y)


def test_refit_that_fails_leaves_the_model_as_it_was():
    X, Y = conflicting(n=40)
    model = conditioned_regressor(max_epochs=2).fit(X, Y)
    before = model.predict(X)
    model.set_params(weighting=WeightConditioned(min_weight=2.0))
    with pytest.raises(ValueError, match="min_weight"):
        model.fit(X, Y)
    np.testing.assert_array_equal(model.predict(X), before)


def test_add_tasks_is_refused_with_the_reason():
    X, Y = conflicting(n=40)
    frame = pd.DataFrame(Y, columns=["a", "b"])
    model = conditioned_regressor(max_epochs=1).fit(X, frame)
    with pytest.raises(ValueError, match="conditioned on one weight per task"):
        model.add_tasks(X, pd.DataFrame({"c": Y[:, 0]}))


def test_missing_labels_train_and_inputs_are_not_mutated():
    X, Y = conflicting(n=100)
    Y[::3, 1] = np.nan
    X0, Y0 = X.copy(), Y.copy()
    model = conditioned_regressor(max_epochs=3).fit(X, Y)
    model.set_params(task_weights=[0.3, 0.7]).predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    assert np.isfinite(model.predict(X)).all()


# ------------------------------------------------------------------ every estimator


def _outputs(model, X):
    """The raw network outputs of every task under the current ``task_weights``."""
    inputs, _, _ = model._prepare_inputs(X, fitting=False)
    batch = inputs.batch(0, len(inputs))
    network = model.module_.eval()
    with torch.inference_mode(), conditioned(network, model._condition(model.weighting_)):
        out = network(batch)
    leaves = []
    for value in out.values():
        if not torch.is_tensor(value):  # a decoder's Memory, a CRF's emissions
            value = getattr(value, "memory", value)
        leaves += [value] if torch.is_tensor(value) else [v for v in value if torch.is_tensor(v)]
    return torch.cat([t.detach().float().reshape(-1) for t in leaves]).numpy()


def _every_estimator():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5))
    Yc = np.column_stack([(X[:, 0] > 0), (X[:, 0] + X[:, 1] > 0)]).astype(int)
    texts = ["good film", "bad movie", "great plot", "awful acting", "fine cast"] * 8
    Yt = {"s": [1, 0, 1, 0, 1] * 8, "r": rng.normal(size=40)}
    tokens = [["the", "cat", "sat"], ["a", "dog", "ran", "far"]] * 10
    Yg = {
        "pos": [["D", "N", "V"], ["D", "N", "V", "A"]] * 10,
        "ner": [["O", "B", "O"], ["O", "O", "O", "B"]] * 10,
    }
    src = ["ein hund", "eine katze", "der mann", "die frau"] * 30
    Ys = {
        "en": ["a dog", "a cat", "the man", "the woman"] * 30,
        "fr": ["un chien", "un chat", "l'homme", "la femme"] * 30,
    }
    small_s2s = dict(
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        n_heads=2,
        ff_dim=16,
        vocab_size=300,
        max_length=4,
    )
    return {
        "classifier": (MultiTaskClassifier(hidden_layer_sizes=(8,)), X, Yc),
        "mmoe": (
            MultiTaskClassifier(hidden_layer_sizes=(8,), architecture=MMoE(n_experts=2)),
            X,
            Yc,
        ),
        "ple": (MultiTaskClassifier(hidden_layer_sizes=(8, 8), architecture=PLE()), X, Yc),
        "cgc": (MultiTaskClassifier(hidden_layer_sizes=(8,), architecture=CGC()), X, Yc),
        "cross_stitch": (
            MultiTaskClassifier(hidden_layer_sizes=(8, 8), architecture=CrossStitch()),
            X,
            Yc,
        ),
        "dselect_k": (
            MultiTaskClassifier(hidden_layer_sizes=(8,), architecture=DSelectK(n_experts=3, k=2)),
            X,
            Yc,
        ),
        "hierarchical": (
            MultiTaskClassifier(
                hidden_layer_sizes=(8, 8), architecture=Hierarchical(layers={"0": 1, "1": 2})
            ),
            X,
            Yc,
        ),
        "text": (
            MultiTaskEstimator(encoder=TextEncoder(width=16), hidden_layer_sizes=(8,)),
            texts,
            Yt,
        ),
        "text_transformer": (
            MultiTaskEstimator(
                encoder=TextEncoder(architecture="transformer", width=16, n_heads=2),
                hidden_layer_sizes=(8,),
            ),
            texts,
            Yt,
        ),
        "text_bilstm": (
            MultiTaskEstimator(encoder=TextEncoder(architecture="bilstm", width=16)),
            texts,
            Yt,
        ),
        "tagger": (MultiTaskTagger(), tokens, Yg),
        "tagger_crf": (MultiTaskTagger(crf="auto"), tokens, Yg),
        "seq2seq": (MultiTaskSeq2Seq(**small_s2s), src, Ys),
        "seq2seq_gru": (MultiTaskSeq2Seq(**small_s2s, cell="gru"), src, Ys),
    }


@pytest.mark.parametrize("name", list(_every_estimator()))
@pytest.mark.parametrize("conditioning", ["film", "input"])
def test_every_estimator_serves_any_weighting_after_one_fit(name, conditioning):
    model, X, Y = _every_estimator()[name]
    model.set_params(
        max_epochs=2,
        random_state=0,
        weighting=WeightConditioned(conditioning=conditioning, random_state=0),
    ).fit(X, Y)
    a = _outputs(model.set_params(task_weights=[0.9, 0.1]), X)
    b = _outputs(model.set_params(task_weights=[0.1, 0.9]), X)
    assert a.shape == b.shape and not np.allclose(a, b)
    model.predict(X)  # labels in the fitted layout, under the current weights


def test_contextual_layers_condition_their_norms_and_dense_ones_their_pre_activation():
    texts = ["good film", "bad movie", "great plot", "awful acting"] * 5
    model = MultiTaskEstimator(
        encoder=TextEncoder(architecture="cnn", width=16, depth=2),
        hidden_layer_sizes=(8,),
        max_epochs=1,
        weighting=WeightConditioned(random_state=0),
        random_state=0,
    ).fit(texts, {"s": [1, 0, 1, 0] * 5, "r": np.arange(20.0)})
    kinds = {type(m).__name__ for m in model.module_.modules()}
    assert {"_FiLMNorm", "_FiLMLinear"} <= kinds and "_FiLMBlock" not in kinds
    norms = [m for m in model.module_.modules() if type(m).__name__ == "_FiLMNorm"]
    assert len(norms) == 2  # one inside each residual convolution's branch


def test_train_step_outside_run_epoch_needs_the_row_owners():
    X, Y = conflicting(n=12)
    model = conditioned_regressor(max_epochs=1, batch_size=12).fit(X, Y)
    network = model.module_
    engine = Engine(
        network,
        list(model.tasks_.values()),
        weighting=model.weighting_,
        optimizer=torch.optim.SGD(network.parameters(), lr=0.0),
        sampler=None,
        max_epochs=1,
        device=torch.device("cpu"),
    )
    engine.prepare(model.prepare_data(X, Y))
    targets = {t: v.rows(0, 12) for t, v in engine.tensors.items()}
    with pytest.raises(RuntimeError, match="weights rows: call train_step through run_epoch"):
        engine.train_step(torch.from_numpy(X.astype(np.float32)), targets)
