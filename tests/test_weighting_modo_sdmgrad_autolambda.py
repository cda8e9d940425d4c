"""MoDo, SDMGrad (gradient aggregation) and Auto-Lambda (bilevel task weights)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from _toy_nets import TrunkNet, flat, regression_data
from _toy_nets import rand_G as _rand_G
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskRegressor, MultiTaskTagger
from skmtl.encoders import TextEncoder
from skmtl.weighting import MGDA, AutoLambda, MoDo, SDMGrad
from skmtl.weighting._gradients import simplex_minimize
from skmtl.weighting._simplex import project_simplex


def rand_G(seed, k=3, n=6):
    return _rand_G(seed, k=k, n=n)


def on_simplex(w, tol=1e-9):
    w = np.asarray(w, dtype=np.float64)
    return bool(np.all(w >= -tol) and abs(w.sum() - 1.0) < tol)


# --------------------------------------------------------------------------- the projection


@pytest.mark.parametrize("seed", range(10))
def test_project_simplex_is_the_euclidean_projection(seed):
    v = np.random.RandomState(seed).normal(size=5) * 2
    p = project_simplex(v)
    assert on_simplex(p)
    # Optimality (KKT): v - p = tau on the support, <= tau off it.
    tau = (v - p)[p > 0]
    assert np.allclose(tau, tau[0])
    assert np.all((v - p)[p == 0] <= tau[0] + 1e-12)
    np.testing.assert_allclose(project_simplex(p), p, atol=1e-15)


# --------------------------------------------------------------------------- MoDo


@pytest.mark.parametrize("seed", range(10))
def test_modo_steps_on_a_fixed_G_reach_the_min_norm_point(seed):
    G = rand_G(seed)
    M = (G @ G.T).numpy()
    gamma = 1.0 / np.linalg.eigvalsh(M).max()
    modo = MoDo(gamma=gamma, rho=0.0)
    modo.init(["a", "b", "c"])
    for _ in range(300):
        d, alpha = modo.aggregate(G)
        assert on_simplex(alpha.numpy()) and on_simplex(modo.weights_)
    _, mgda = MGDA().aggregate(G)
    torch.testing.assert_close(alpha, mgda, atol=1e-5, rtol=0)
    torch.testing.assert_close(d, alpha @ G)
    # With rho > 0: the minimiser of ||G^T l||^2 / 2 + rho ||l||^2 / 2 on the simplex.
    rho = 0.5 * float(np.trace(M)) / 3
    modo = MoDo(gamma=1.0 / (np.linalg.eigvalsh(M).max() + rho), rho=rho)
    modo.init(["a", "b", "c"])
    for _ in range(300):
        _, alpha = modo.aggregate(G)
    R = M + rho * np.eye(3)
    want = simplex_minimize(lambda w: 0.5 * w @ R @ w, lambda w: R @ w, 3)
    np.testing.assert_allclose(alpha.numpy(), want, atol=1e-5)


def test_modo_first_step_is_one_projected_step_from_uniform():
    G = rand_G(3)
    M = G @ G.T
    modo = MoDo(gamma=0.05, rho=0.2)
    modo.init(["a", "b", "c"])
    d, alpha = modo.aggregate(G)
    lam = torch.full((3,), 1 / 3, dtype=G.dtype)
    want = torch.from_numpy(project_simplex((lam - 0.05 * (M @ lam + 0.2 * lam)).numpy()))
    torch.testing.assert_close(alpha, want)
    torch.testing.assert_close(d, want @ G)
    np.testing.assert_allclose(modo.weights_, want.numpy())


# --------------------------------------------------------------------------- SDMGrad


def sdmgrad_optimum(G, lamda):
    """argmin_{w in simplex} ||G^T (w + lamda w0)||^2 / 2, by SLSQP."""
    M = (G @ G.T).numpy()
    k = len(M)
    w0 = np.full(k, 1.0 / k)
    return simplex_minimize(
        lambda w: 0.5 * (w + lamda * w0) @ M @ (w + lamda * w0),
        lambda w: M @ (w + lamda * w0),
        k,
    )


@pytest.mark.parametrize("seed", range(10))
def test_sdmgrad_steps_on_a_fixed_G_reach_the_regularised_optimum(seed):
    G = rand_G(seed)
    for lamda in (0.0, 0.3, 2.0):
        sdm = SDMGrad(lamda=lamda, learning_rate=0.5, momentum=0.5, niter=20)
        sdm.init(["a", "b", "c"])
        for _ in range(50):
            d, alpha = sdm.aggregate(G)
            assert on_simplex(sdm.weights_) and on_simplex(alpha.numpy())
        w = sdmgrad_optimum(G, lamda)
        np.testing.assert_allclose(sdm.weights_, w, atol=1e-5)
        # alpha = (w + lamda / k) / (1 + lamda) and d = G^T alpha.
        np.testing.assert_allclose(alpha.numpy(), (w + lamda / 3) / (1 + lamda), atol=1e-5)
        torch.testing.assert_close(d, alpha @ G)
        if lamda == 0.0:  # MGDA's min-norm point
            torch.testing.assert_close(alpha, MGDA().aggregate(G)[1], atol=1e-5, rtol=0)
    # A large lamda: close to the mean gradient.
    sdm = SDMGrad(lamda=1e4)
    sdm.init(["a", "b", "c"])
    torch.testing.assert_close(sdm.aggregate(G)[0], G.mean(0), atol=1e-3, rtol=0)


@pytest.mark.parametrize("seed", range(5))
def test_sdmgrad_default_steps_stay_on_the_simplex_and_scale_free(seed):
    G = rand_G(seed, k=4, n=9)
    a, b = SDMGrad(), SDMGrad()
    a.init(list("abcd"))
    b.init(list("abcd"))
    for _ in range(10):
        _, alpha = a.aggregate(G)
        _, beta = b.aggregate(1e3 * G)  # the Gram matrix is rescaled: the same weights
        assert on_simplex(a.weights_) and on_simplex(alpha.numpy())
        torch.testing.assert_close(alpha, beta, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- TorchJD


def test_against_torchjd_on_a_shared_sequence_of_gradients():
    aggregation = pytest.importorskip("torchjd.aggregation")
    g = torch.Generator().manual_seed(0)
    Gs = [torch.randn(3, 7, generator=g, dtype=torch.float64) * (i % 3 + 1) for i in range(25)]
    for gamma, rho in ((0.05, 0.1), (0.2, 0.0), (1e-3, 0.1)):
        ours, theirs = MoDo(gamma=gamma, rho=rho), aggregation.MoDoWeighting(gamma=gamma, rho=rho)
        ours.init(["a", "b", "c"])
        for G in Gs:  # the single-sample variant: TorchJD's MoDo on G G^T
            d, alpha = ours.aggregate(G)
            want = theirs(G @ G.T)
            torch.testing.assert_close(alpha, want, atol=1e-10, rtol=0)
            torch.testing.assert_close(d, want @ G, atol=1e-10, rtol=0)
    for params in (
        {},
        {"lamda": 0.0, "learning_rate": 0.5},
        {"lamda": 1.0, "niter": 5, "momentum": 0.0, "learning_rate": 2.0},
    ):
        ours = SDMGrad(**params)
        theirs = aggregation.SDMGradWeighting(
            lr=ours.learning_rate, momentum=ours.momentum, n_iter=ours.niter, lambda_=ours.lamda
        )
        ours.init(["a", "b", "c"])
        for G in Gs:
            d, alpha = ours.aggregate(G)
            want = theirs(G @ G.T)
            torch.testing.assert_close(alpha, want, atol=1e-9, rtol=0)
            torch.testing.assert_close(d, want @ G, atol=1e-9, rtol=0)


# --------------------------------------------------------------------------- as strategies

AGGREGATORS = {
    "modo": (lambda: MoDo(gamma=0.05), "gamma", [1e-3, 0.1]),
    "sdmgrad": (lambda: SDMGrad(learning_rate=0.5), "lamda", [0.0, 0.5]),
}


class Net(TrunkNet):
    def __init__(self, n_tasks=3, seed=0):
        super().__init__(n_tasks=n_tasks, seed=seed)


def toy_xy(n=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3], x[:, 4].abs()])
    return x, y


def losses_of(net, present, x=None, y=None):
    if x is None:
        x, y = toy_xy()
    return torch.stack(
        [((o - t).pow(2).mean()) * float(p) for o, t, p in zip(net(x), y, present, strict=True)]
    )


@pytest.mark.parametrize("name", list(AGGREGATORS))
def test_backward_writes_the_aggregate_and_the_heads_own_gradients(name):
    make = AGGREGATORS[name][0]
    present = torch.tensor([True, False, True])
    tw = torch.tensor([1.0, 3.0, 2.0])
    net = Net()
    strategy = make()
    assert strategy.init(["a", "b", "c"]) is None
    used = strategy.backward(losses_of(net, present), present, tw, None, net)

    ref = Net()
    losses = losses_of(ref, present)
    shared = ref.shared_parameters()
    G = torch.stack(
        [flat(torch.autograd.grad(tw[i] * losses[i], shared, retain_graph=True)) for i in (0, 2)]
    )
    again = make()
    again.init(["a", "c"])  # the same start: uniform over the present tasks
    d, alpha = again.aggregate(G)
    got = flat([p.grad for p in net.shared_parameters()])
    torch.testing.assert_close(got, d)
    torch.testing.assert_close(got, alpha @ G)  # d = sum_i alpha_i G_i
    torch.testing.assert_close(used, torch.stack([alpha[0] * 1.0, torch.tensor(0.0), alpha[1] * 2]))
    for i in range(3):
        want = torch.autograd.grad(
            tw[i] * losses[i], list(ref.heads[i].parameters()), retain_graph=True
        )
        for p, w in zip(net.heads[i].parameters(), want, strict=True):
            torch.testing.assert_close(p.grad, w)


@pytest.mark.parametrize("name", list(AGGREGATORS))
def test_absent_task_gets_no_weight_and_keeps_its_state(name):
    strategy = AGGREGATORS[name][0]()
    strategy.init(["a", "b", "c"])
    net = Net()
    all_on = torch.ones(3, dtype=torch.bool)
    for _ in range(4):
        net.zero_grad()
        strategy.backward(losses_of(net, all_on), all_on, torch.ones(3), None, net)
    before = strategy.weights_.copy()
    assert on_simplex(before)
    on = torch.tensor([True, False, True])
    for _ in range(3):
        net.zero_grad()
        used = strategy.backward(losses_of(net, on), on, torch.ones(3), None, net)
        assert float(used[1]) == 0.0 and float(used[0]) > 0 and float(used[2]) > 0
        assert abs(float(used.sum()) - 1.0) < 1e-6  # the present tasks' weights sum to 1
    after = strategy.weights_
    assert after[1] == before[1]  # untouched, bit for bit
    assert not np.allclose(after[[0, 2]], before[[0, 2]])  # the present tasks' moved
    assert on_simplex(after)  # stored back at their previous total
    assert after[[0, 2]].sum() == pytest.approx(before[[0, 2]].sum(), abs=1e-12)
    assert all(p.grad is None or not p.grad.abs().any() for p in net.heads[1].parameters())


PARAMS = {
    "modo": {"gamma": 0.5, "rho": 0.0, "on": "representation"},
    "sdmgrad": {"lamda": 1.0, "niter": 3, "learning_rate": 0.5, "momentum": 0.0},
    "autolambda": {
        "weight_init": 1.0,
        "meta_learning_rate": 0.01,
        "primary_tasks": ["0"],
        "holdout_fraction": 0.2,
        "meta_every": 2,
    },
}
MAKERS = {"modo": MoDo, "sdmgrad": SDMGrad, "autolambda": AutoLambda}


@pytest.mark.parametrize("name", list(MAKERS))
def test_clone_get_params_set_params_round_trip(name):
    strategy = MAKERS[name]()
    params = strategy.get_params()
    twin = clone(strategy)
    assert twin is not strategy and twin.get_params() == params
    changed = clone(strategy).set_params(**PARAMS[name])
    assert changed.get_params() == {**params, **PARAMS[name]}
    assert type(strategy)(**changed.get_params()).get_params() == changed.get_params()
    assert copy.deepcopy(changed).get_params() == changed.get_params()
    strategy.init(["0", "1"])
    assert not hasattr(clone(strategy), "task_names_")


BAD = [
    (MoDo, {"gamma": 0.0}, "MoDo gamma"),
    (MoDo, {"gamma": "big"}, "MoDo gamma"),
    (MoDo, {"rho": -1.0}, "MoDo rho"),
    (MoDo, {"on": "bogus"}, "MoDo on"),
    (SDMGrad, {"lamda": -0.1}, "SDMGrad lamda"),
    (SDMGrad, {"niter": 0}, "SDMGrad niter"),
    (SDMGrad, {"niter": 2.5}, "SDMGrad niter"),
    (SDMGrad, {"learning_rate": 0.0}, "SDMGrad learning_rate"),
    (SDMGrad, {"momentum": 1.0}, "SDMGrad momentum"),
    (AutoLambda, {"weight_init": float("nan")}, "AutoLambda weight_init"),
    (AutoLambda, {"meta_learning_rate": 0.0}, "AutoLambda meta_learning_rate"),
    (AutoLambda, {"holdout_fraction": 0.0}, "AutoLambda holdout_fraction"),
    (AutoLambda, {"holdout_fraction": 1.0}, "AutoLambda holdout_fraction"),
    (AutoLambda, {"meta_every": 0}, "AutoLambda meta_every"),
    (AutoLambda, {"meta_every": True}, "AutoLambda meta_every"),
    (AutoLambda, {"primary_tasks": ["0", "nope"]}, r"primary_tasks \['nope'\] are not"),
    (AutoLambda, {"primary_tasks": "0"}, "primary_tasks must be None or a list"),
    (AutoLambda, {"primary_tasks": []}, "primary_tasks must name at least one"),
]


@pytest.mark.parametrize("make, params, match", BAD, ids=[f"{m.__name__}-{p}" for m, p, _ in BAD])
def test_bad_parameters_are_refused_at_fit_naming_the_parameter(make, params, match):
    strategy = make(**params)  # __init__ only stores them
    assert strategy.get_params()[next(iter(params))] is next(iter(params.values()))
    X, Y = regression_data(n=24)
    with pytest.raises(ValueError, match=match):
        MultiTaskRegressor(hidden_layer_sizes=(4,), max_epochs=1, weighting=strategy).fit(X, Y)


# --------------------------------------------------------------------------- inside estimators

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 8, "random_state": 0}
ESTIMATOR_STRATEGIES = {
    "modo": (lambda: MoDo(gamma=0.05), "rho", [0.0, 0.5]),
    "modo-representation": (lambda: MoDo(gamma=0.05, on="representation"), "gamma", [1e-3, 0.1]),
    "sdmgrad": (lambda: SDMGrad(niter=5), "lamda", [0.0, 0.5]),
    "sdmgrad-representation": (lambda: SDMGrad(on="representation"), "niter", [1, 5]),
    "autolambda": (lambda: AutoLambda(meta_learning_rate=1e-2), "weight_init", [0.1, 1.0]),
}


def classification_data(n=48):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5]).astype(float)
    Y[np.arange(n) % 4 != 0, 2] = np.nan  # task "2" is absent from many batches
    return X, Y


def check_trains(make_model, X, Y, names, predict="predict"):
    model = make_model().fit(X, Y)
    assert len(model.history_) == FAST["max_epochs"]
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    weights = np.array([[e[t] for t in names] for e in model.history_[:, "task_weight"]])
    assert np.all(np.isfinite(weights))
    pred = getattr(model, predict)(X)
    assert np.all(np.isfinite(pred))
    assert model.module_.representation is None
    np.testing.assert_array_equal(getattr(pickle.loads(pickle.dumps(model)), predict)(X), pred)
    again = make_model().fit(X, Y)  # the same random_state: the same run
    np.testing.assert_array_equal(getattr(again, predict)(X), pred)
    return model


@pytest.mark.parametrize("name", list(ESTIMATOR_STRATEGIES))
def test_each_strategy_trains_a_regressor_and_is_searched(name):
    make, param, values = ESTIMATOR_STRATEGIES[name]
    X, Y = regression_data()
    model = check_trains(lambda: MultiTaskRegressor(**FAST, weighting=make()), X, Y, ["0", "1"])
    if name == "autolambda":
        lam = model.module_.weighting.lambdas
        assert not torch.equal(lam, torch.full_like(lam, 0.1))  # the weights moved
    else:
        assert on_simplex(model.weighting_.weights_)
    search = GridSearchCV(
        MultiTaskRegressor(**{**FAST, "max_epochs": 1}, weighting=make()),
        {f"weighting__{param}": values},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_[f"weighting__{param}"] in values
    assert getattr(search.best_estimator_.weighting, param) in values
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("name", list(ESTIMATOR_STRATEGIES))
def test_each_strategy_trains_a_classifier(name):
    make = ESTIMATOR_STRATEGIES[name][0]
    X, Y = classification_data()
    check_trains(
        lambda: MultiTaskClassifier(**FAST, weighting=make()),
        X,
        Y,
        ["0", "1", "2"],
        predict="predict_proba",
    )


TAG_X = [
    ["I", "like", "Paris"],
    ["You", "run", "fast", "."],
    ["Go"],
    ["We", "see", "Rome"],
    ["They", "walk", "slowly", "."],
    ["Stop"],
] * 2
TAG_Y = {
    "pos": [
        ["PRON", "VERB", "PROPN"],
        ["PRON", "VERB", "ADV", "PUNCT"],
        ["VERB"],
        ["PRON", "VERB", "PROPN"],
        ["PRON", "VERB", "ADV", "PUNCT"],
        ["VERB"],
    ]
    * 2,
    "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]]
    + [["O", "O", "O", "O"], ["O"]]
    + [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]]
    + [["O", "O", "O", "O"], ["O"]],
}


def test_autolambda_trains_a_tagger():
    def make():
        return MultiTaskTagger(
            TextEncoder(width=16, embed_dim=16, depth=1),
            max_epochs=3,
            batch_size=4,
            random_state=0,
            weighting=AutoLambda(meta_learning_rate=1e-2, primary_tasks=["pos"]),
        )

    model = make().fit(TAG_X, TAG_Y)
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    lam = model.module_.weighting.lambdas
    assert torch.all(torch.isfinite(lam)) and not torch.equal(lam, torch.full_like(lam, 0.1))
    pred = model.predict(TAG_X)
    assert [len(t) for t in pred["pos"]] == [len(s) for s in TAG_X]
    assert pickle.loads(pickle.dumps(model)).predict(TAG_X) == pred
    assert make().fit(TAG_X, TAG_Y).predict(TAG_X) == pred


# --------------------------------------------------------------------------- Auto-Lambda


class LambdaNet(Net):
    """Net with the strategy's state registered as ``weighting``, as MultiTaskNetwork."""

    def __init__(self, state, n_tasks=3, seed=0, dtype=torch.float32):
        super().__init__(n_tasks, seed)
        self.to(dtype)
        self.weighting = state


class FakeEngine:
    """The part of the engine meta_step uses: network, optimizer, task_weights, task_losses."""

    def __init__(self, network, optimizer, task_weights):
        self.network, self.optimizer, self.task_weights = network, optimizer, task_weights

    def task_losses(self, batch, targets):
        x = batch
        y, present = targets
        out = self.network(x)
        losses = torch.stack(
            [(o - t).pow(2).mean() * float(p) for o, t, p in zip(out, y, present, strict=True)]
        )
        return losses, torch.tensor(present)


def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def exact_hypergradient(
    net, engine, batch, targets, meta_batch, meta_targets, primary, c, rng=None
):
    """-lr c_i grad L_i(w) . grad L_pri(w') by autograd, w' the optimiser's virtual step.

    ``rng``: the random state each forward pass starts from (the same dropout masks).
    """
    group = engine.optimizer.param_groups[0]
    lr, wd, mom = group["lr"], group["weight_decay"], group.get("momentum", 0.0)
    lam = net.weighting.lambdas.to(c.dtype)
    net.representation = None  # (a graph; deepcopy refuses it)
    ref = copy.deepcopy(net)
    params = [p for p in ref.parameters() if p.requires_grad]
    fake = FakeEngine(ref, engine.optimizer, c)
    if rng is not None:
        torch.set_rng_state(rng)
    losses, present = fake.task_losses(batch, targets)
    per_task = [
        torch.autograd.grad(losses[i], params, retain_graph=True, allow_unused=True)
        for i in range(len(losses))
    ]
    total = sum(c[i] * lam[i] * losses[i] for i in range(len(losses)) if present[i])
    grads = torch.autograd.grad(total, params, allow_unused=True)
    with torch.no_grad():
        for p, q, g in zip(params, net.parameters(), grads, strict=True):
            step = wd * p + (0 if g is None else g)
            if mom:
                step = step + mom * engine.optimizer.state[q]["momentum_buffer"]
            p.sub_(lr * step)
    if rng is not None:
        torch.set_rng_state(rng)
    meta_losses, _ = fake.task_losses(meta_batch, meta_targets)
    dw = torch.autograd.grad(sum(c[i] * meta_losses[i] for i in primary), params, allow_unused=True)
    out = []
    for i, g_i in enumerate(per_task):
        dot = sum(
            (a * b).sum() for a, b in zip(g_i, dw, strict=True) if a is not None and b is not None
        )
        out.append(-lr * c[i] * dot if present[i] else torch.tensor(0.0, dtype=c.dtype))
    return torch.stack(out)


def sgd_with_momentum(net):
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    x, y = toy_xy(seed=7)
    opt.zero_grad()
    losses_of(net, (True, True, True), x.to(net.trunk[0].weight.dtype), y).sum().backward()
    opt.step()  # a momentum buffer for every parameter
    return opt


def test_autolambda_meta_step_is_the_finite_difference_hypergradient():
    strategy = AutoLambda(primary_tasks=["a"], meta_learning_rate=1e-3)
    state = strategy.init(["a", "b", "c"])
    state.lambdas.copy_(torch.tensor([0.3, 0.7, 1.2]))
    net = LambdaNet(state, dtype=torch.float64)
    opt = sgd_with_momentum(net)
    c = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    engine = FakeEngine(net, opt, c)
    x, y = toy_xy(seed=1)
    mx, my = toy_xy(seed=2)
    batch, targets = x.double(), (y.double(), (True, True, True))
    meta_batch, meta_targets = mx.double(), (my.double(), (True, True, True))
    want = exact_hypergradient(net, engine, batch, targets, meta_batch, meta_targets, [0], c)
    for p in net.parameters():
        p.grad = None
    before = state_of(net)
    lam0 = state.lambdas.clone()
    strategy.meta_step(engine, batch, targets, meta_batch, meta_targets)
    # Adam's first moment after one step is (1 - beta1) g: the hypergradient used.
    got = state.adam_m.double() / 0.1
    torch.testing.assert_close(got, want, rtol=2e-3, atol=1e-9)
    assert torch.all(want[1:] != 0)  # the auxiliary tasks' weights do get a gradient
    # One Adam step: lambda moved by about meta_learning_rate against the gradient's sign.
    step = state.lambdas - lam0
    torch.testing.assert_close(step, -1e-3 * torch.sign(want).float(), rtol=1e-4, atol=1e-7)
    # The network's weights and buffers are restored bit for bit; no .grad is left.
    after = state_of(net)
    for key, value in before.items():
        if key.startswith("weighting."):
            continue
        assert torch.equal(after[key], value), key
    assert not torch.equal(after["weighting.lambdas"], before["weighting.lambdas"])
    assert all(p.grad is None for p in net.parameters())
    assert net.representation is None
    assert strategy.meta_calls_ == 1


def test_autolambda_meta_step_restores_batch_norm_and_replays_dropout():
    strategy = AutoLambda(meta_learning_rate=1e-3)
    state = strategy.init(["a", "b"])
    net = LambdaNet(state, n_tasks=2, dtype=torch.float64)
    torch.manual_seed(0)
    net.trunk = nn.Sequential(
        nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8)
    ).double()
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=0.01)
    c = torch.ones(2, dtype=torch.float64)
    engine = FakeEngine(net, opt, c)
    x, y = toy_xy(seed=1)
    mx, my = toy_xy(seed=2)
    batch, targets = x.double(), (y[:2].double(), (True, True))
    meta_batch, meta_targets = mx.double(), (my[:2].double(), (True, True))
    rng = torch.get_rng_state()
    want = exact_hypergradient(
        net, engine, batch, targets, meta_batch, meta_targets, [0, 1], c, rng=rng
    )
    torch.set_rng_state(rng)
    before = state_of(net)
    strategy.meta_step(engine, batch, targets, meta_batch, meta_targets)
    after = state_of(net)
    for key, value in before.items():
        if not key.startswith("weighting."):
            assert torch.equal(after[key], value), key  # running_mean/var included
    # The passes over the training batch use one random state (the same dropout
    # masks, those of the step's own training pass): the finite difference is the
    # derivative of one function. With fresh masks it would be off by orders of magnitude.
    torch.testing.assert_close(state.adam_m.double() / 0.1, want, rtol=5e-3, atol=1e-9)


def test_autolambda_absent_task_keeps_its_weight_and_state():
    strategy = AutoLambda(meta_learning_rate=1e-2)
    state = strategy.init(["a", "b", "c"])
    net = LambdaNet(state)
    engine = FakeEngine(net, torch.optim.AdamW(net.parameters(), lr=0.01), torch.ones(3))
    x, y = toy_xy(seed=1)
    mx, my = toy_xy(seed=2)
    for _ in range(3):
        strategy.meta_step(engine, x, (y, (True, True, True)), mx, (my, (True, True, True)))
    before = state_of(state)
    for _ in range(3):
        strategy.meta_step(engine, x, (y, (True, False, True)), mx, (my, (True, True, True)))
    after = state_of(state)
    for key, value in before.items():
        assert torch.equal(after[key][1], value[1]), key
        assert not torch.equal(after[key][[0, 2]], value[[0, 2]]), key
    losses = losses_of(net, (True, False, True), x, y)
    present = torch.tensor([True, False, True])
    net.zero_grad()
    used = strategy.backward(losses, present, torch.ones(3), state, net)
    assert float(used[1]) == 0.0 and float(used[0]) > 0 and float(used[2]) > 0
    assert all(p.grad is None or not p.grad.abs().any() for p in net.heads[1].parameters())
    # A held-out batch without a primary task: no update at all.
    other = AutoLambda(primary_tasks=["b"])
    state = other.init(["a", "b", "c"])
    net = LambdaNet(state)
    engine = FakeEngine(net, torch.optim.AdamW(net.parameters(), lr=0.01), torch.ones(3))
    before = state_of(state)
    other.meta_step(engine, x, (y, (True, True, True)), mx, (my, (True, False, True)))
    assert all(torch.equal(v, state_of(state)[k]) for k, v in before.items())
    assert other.meta_calls_ == 1


def test_autolambda_reported_weights_are_the_weights_used():
    strategy = AutoLambda()
    state = strategy.init(["a", "b", "c"])
    state.lambdas.copy_(torch.tensor([0.2, 1.5, 0.7]))
    net = LambdaNet(state)
    tw = torch.tensor([1.0, 0.5, 2.0])
    x, y = toy_xy()
    present = torch.tensor([True, True, False])
    used = strategy.backward(losses_of(net, present, x, y), present, tw, state, net)
    assert net.representation is None  # released after the backward pass
    torch.testing.assert_close(used, torch.tensor([0.2, 0.75, 0.0]))
    got = [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in net.parameters()]
    net.zero_grad()
    (used * losses_of(net, present, x, y)).sum().backward()
    for a, p in zip(got, net.parameters(), strict=True):
        torch.testing.assert_close(a, p.grad if p.grad is not None else torch.zeros_like(p))


class Recorder(AutoLambda):
    """AutoLambda that records what the engine hands it and checks the restore."""

    def init(self, task_names):
        self.log = {"train": [], "meta": [], "held_out": [], "steps": 0}
        return super().init(task_names)

    def meta_step(self, engine, batch, targets, meta_batch, meta_targets):
        self.log["train"].append(batch[:, 0].numpy().astype(int).tolist())
        self.log["meta"].append(meta_batch[:, 0].numpy().astype(int).tolist())
        self.log["held_out"].append(len(engine.held_out.data))
        for p in engine.network.parameters():
            p.grad = None
        before = state_of(engine.network)
        super().meta_step(engine, batch, targets, meta_batch, meta_targets)
        after = state_of(engine.network)
        changed = {k for k in before if not torch.equal(before[k], after[k])}
        assert changed <= {f"weighting.{b}" for b in ("lambdas", "adam_m", "adam_v", "adam_steps")}
        assert "weighting.lambdas" in changed
        assert all(p.grad is None for p in engine.network.parameters())
        assert engine.network.representation is None

    def backward(self, losses, present, task_weights, state, network):
        self.log["steps"] += 1
        return super().backward(losses, present, task_weights, state, network)


def test_the_engine_holds_rows_out_and_calls_meta_step_before_every_step():
    n = 50
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    X[:, 0] = np.arange(n)  # the row's id, exact in float32
    Y = np.column_stack([X[:, 1] + X[:, 2], X[:, 3]])
    strategy = Recorder(holdout_fraction=0.2, meta_learning_rate=1e-2)
    model = MultiTaskRegressor(
        hidden_layer_sizes=(4,), max_epochs=2, batch_size=8, random_state=0, weighting=strategy
    ).fit(X, Y)
    log = model.weighting_.log
    assert log["steps"] == len(log["train"]) == len(log["meta"]) == 2 * int(np.ceil(40 / 8))
    assert set(log["held_out"]) == {round(0.2 * n)}
    trained = {i for rows in log["train"] for i in rows}
    held = {i for rows in log["meta"] for i in rows}
    assert len(held) == round(0.2 * n)  # every held-out row was met
    assert not trained & held  # ... and none of them trained the network
    assert trained | held == set(range(n))
    assert all(0 < len(rows) <= 8 for rows in log["meta"])


def test_autolambda_meta_every_skips_updates():
    X, Y = regression_data()
    Y = Y[:, :1]
    model = MultiTaskRegressor(
        **{**FAST, "max_epochs": 2}, weighting=AutoLambda(meta_every=3, meta_learning_rate=1e-2)
    ).fit(X, Y)
    steps = 2 * int(np.ceil((48 - round(0.1 * 48)) / 8))
    assert model.weighting_.meta_calls_ == steps
    assert int(model.module_.weighting.adam_steps[0]) == len(range(0, steps, 3))


@pytest.mark.parametrize("seed", range(3))
def test_autolambda_favours_the_auxiliary_task_that_helps_the_primary_one(seed):
    """Primary A; B has A's labels and (tied at the start) A's head; C has random labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(320, 5, generator=g)
    a = x @ torch.randn(5, generator=g)
    y = torch.stack([a, a.clone(), torch.randn(320, generator=g) * a.std()])
    strategy = AutoLambda(primary_tasks=["A"], meta_learning_rate=1e-2)
    state = strategy.init(["A", "B", "C"])
    net = LambdaNet(state, seed=seed)
    net.heads[1].load_state_dict(net.heads[0].state_dict())
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    engine = FakeEngine(net, opt, torch.ones(3))
    on = (True, True, True)
    for step in range(60):  # the engine's loop: meta_step, then the training step
        rows = slice((step * 16) % 256, (step * 16) % 256 + 16)
        held = slice(256 + (step * 16) % 64, 256 + (step * 16) % 64 + 16)
        strategy.meta_step(engine, x[rows], (y[:, rows], on), x[held], (y[:, held], on))
        losses, present = engine.task_losses(x[rows], (y[:, rows], on))
        opt.zero_grad()
        strategy.backward(losses, present, engine.task_weights, state, net)
        opt.step()
    lam_a, lam_b, lam_c = state.lambdas.tolist()
    assert lam_b > lam_c + 0.1 and lam_b > 0.3 and lam_a > 0.3, (lam_a, lam_b, lam_c)


def test_autolambda_inside_the_estimator_favours_the_helpful_auxiliary_task():
    """The same toy through MultiTaskRegressor, averaged over seeds (B's own head starts
    apart from A's, so early on its trunk gradient may point away from A's)."""
    gaps = []
    for seed in range(4):
        rng = np.random.RandomState(seed)
        n = 240
        X = rng.normal(size=(n, 6))
        a = X @ rng.normal(size=6)
        Y = pd.DataFrame({"A": a, "B": a.copy(), "C": rng.normal(size=n) * a.std()})
        model = MultiTaskRegressor(
            hidden_layer_sizes=(16,),
            max_epochs=4,
            batch_size=16,
            learning_rate=1e-2,
            random_state=seed,
            weighting=AutoLambda(primary_tasks=["A"], meta_learning_rate=1e-2),
        ).fit(X, Y)
        lam = dict(zip(["A", "B", "C"], model.module_.weighting.lambdas.tolist(), strict=True))
        assert lam["A"] > 0.2, lam  # the primary task's own weight grows
        weights = model.history_[-1]["task_weight"]  # what the loss used: lambda (c = 1)
        assert weights["C"] == pytest.approx(lam["C"], abs=0.05)
        gaps.append(lam["B"] - lam["C"])
    assert np.mean(gaps) > 0.15, gaps


def test_autolambda_add_tasks_trains_the_new_tasks_with_their_own_weights():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(48, 4))
    Y = {"a": X[:, 0], "b": X[:, 1]}
    params = {"hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 8, "random_state": 0}
    model = MultiTaskRegressor(**params, weighting=AutoLambda(meta_learning_rate=1e-2)).fit(X, Y)
    model.add_tasks(X, {"c": X[:, 2]})
    assert set(model.predict(X)) == {"a", "b", "c"}
    assert set(model.history_[-1]["task_weight"]) == {"c"}
    assert model.history_[-1]["task_weight"]["c"] != pytest.approx(0.1, abs=1e-6)
    # The engine trains (and computes the losses of) the new tasks only: an old task
    # cannot be primary there, and says so.
    model = MultiTaskRegressor(**params, weighting=AutoLambda(primary_tasks=["a"])).fit(X, Y)
    with pytest.raises(ValueError, match=r"primary_tasks \['a'\] are not among the tasks being"):
        model.add_tasks(X, {"c": X[:, 2]})
