"""FairGrad, ConFIG, DualProj and MoCo: defining properties, TorchJD agreement, training."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from _toy_nets import TrunkNet, flat, regression_data
from _toy_nets import rand_G as _rand_G
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskClassifier, MultiTaskRegressor
from skmtl.weighting import MGDA, ConFIG, DualProj, MoCo, NashMTL
from skmtl.weighting._fairgrad import FairGrad, fairgrad_weights
from skmtl.weighting._mgda import min_norm_weights
from skmtl.weighting._nashmtl import nash_weights
from skmtl.weighting._simplex import project_simplex as simplex_projection

# The estimator fits are deliberately short.
pytestmark = pytest.mark.filterwarnings("ignore:Training stopped at max_epochs")

SEEDS = range(10)
ALPHAS = (0.5, 1.0, 2.0, 5.0)
cos = torch.nn.functional.cosine_similarity


def rand_G(seed, k=3, n=6, conflict=True):
    """Random float64 gradients; with ``conflict`` the first two conflict."""
    return _rand_G(seed, k=k, n=n, conflict=conflict)


# --------------------------------------------------------------------------- FairGrad


@pytest.mark.parametrize("seed", SEEDS)
def test_fairgrad_weights_solve_the_fairness_equation_and_maximise_the_utility(seed):
    G = rand_G(seed)
    M = G @ G.T
    for alpha in ALPHAS:
        d, w = FairGrad(alpha=alpha).aggregate(G)
        assert torch.all(w > 0)
        torch.testing.assert_close(M @ w, w ** (-1 / alpha), rtol=1e-8, atol=0)
        torch.testing.assert_close(w @ G, d)  # the reported weights are d's coefficients
        # Each task's improvement g_i . d is w_i^(-1/alpha) > 0 ...
        torch.testing.assert_close(G @ d, w ** (-1 / alpha), rtol=1e-8, atol=0)

        # ... and d maximises the concave sum_i u(g_i . x) - ||x||^2 / 2, u the alpha-fair
        # utility (u' (t) = t^-alpha): no nearby point does better.
        def F(x, alpha=alpha):
            t = G @ x
            u = torch.log(t) if alpha == 1 else t ** (1 - alpha) / (1 - alpha)
            return float(u.sum() - x @ x / 2)

        gen = torch.Generator().manual_seed(seed)
        for _ in range(20):
            step = 1e-3 * torch.randn(6, generator=gen, dtype=torch.float64)
            assert F(d + step) < F(d)


@pytest.mark.parametrize("seed", SEEDS)
def test_fairgrad_alpha_one_is_proportional_fairness(seed):
    G = rand_G(seed)
    M = (G @ G.T).numpy()
    d, w = FairGrad(alpha=1.0).aggregate(G)
    # Proportional fairness: every task's share w_i (g_i . d) of the update is 1 ...
    torch.testing.assert_close(w * (G @ d), torch.ones(3, dtype=G.dtype))
    # ... the Nash bargaining solution (Nash-MTL's equation M w = 1 / w) ...
    np.testing.assert_allclose(w.numpy(), nash_weights(M), rtol=1e-7)
    # ... whose direction Nash-MTL takes (it normalises the Gram matrix: another scale).
    nash = NashMTL(reg=0.0).aggregate(G)[0]
    assert float(cos(d, nash, dim=0)) > 1 - 1e-10
    # Other alphas are not proportionally fair: the test above can fail.
    d2, w2 = FairGrad(alpha=3.0).aggregate(G)
    share = w2 * (G @ d2)
    assert float(share.max() - share.min()) > 1e-3


def test_fairgrad_is_not_normalised_and_survives_cancelling_gradients():
    G = rand_G(0)
    for alpha in ALPHAS:
        d = FairGrad(alpha=alpha).aggregate(G)[0]
        d10 = FairGrad(alpha=alpha).aggregate(10 * G)[0]
        torch.testing.assert_close(d10, d * 10 ** ((1 - alpha) / (1 + alpha)))
    # g_2 = -g_1: a positive combination is 0, the equation has no solution; the ridge
    # keeps the weights finite and the update (nearly) 0, never NaN.
    H = torch.stack([G[0], -G[0]])
    d, w = FairGrad().aggregate(H)
    assert torch.all(torch.isfinite(w)) and torch.all(w > 0)
    assert float(d.norm()) < 1e-5 * float(G[0].norm())
    # One task: M w = w^(-1/alpha) in closed form.
    for alpha in ALPHAS:
        m = float(G[0] @ G[0])
        np.testing.assert_allclose(
            fairgrad_weights(np.array([[m]]), alpha), [m ** (-alpha / (alpha + 1))], rtol=1e-10
        )


# --------------------------------------------------------------------------- ConFIG


@pytest.mark.parametrize("seed", SEEDS)
def test_config_has_equal_positive_cosines_and_the_projection_length(seed):
    G = rand_G(seed) * torch.tensor([[1.0], [10.0], [0.1]], dtype=torch.float64)
    d, alpha = ConFIG().aggregate(G)
    c = cos(G, d[None, :])
    assert torch.all(c > 0)
    torch.testing.assert_close(c, c[:1].expand(3))  # conflict-free: the same cosine with all
    torch.testing.assert_close(alpha @ G, d)
    # Length: the sum of the gradients' projections on the direction.
    torch.testing.assert_close(d.norm(), (G @ d).sum() / d.norm())
    # The direction ignores the gradients' norms (they only enter the length).
    u = G / G.norm(dim=1, keepdim=True)
    assert float(cos(ConFIG().aggregate(u)[0], d, dim=0)) > 1 - 1e-12
    # A preference: cosines proportional to it.
    p = [1.0, 2.0, 0.5]
    d, alpha = ConFIG(pref_vector=p).aggregate(G)
    c = cos(G, d[None, :])
    torch.testing.assert_close(c / c[0], torch.tensor(p, dtype=G.dtype))
    torch.testing.assert_close(alpha @ G, d)
    # The mean gradient does not have equal cosines: the test can fail.
    c = cos(G, G.mean(0)[None, :])
    assert float(c.max() - c.min()) > 1e-3


def test_config_with_dependent_gradients_is_the_least_squares_direction():
    G = rand_G(0, k=4, n=3)  # 4 unit gradients in 3 dimensions: no exact solution
    d, alpha = ConFIG().aggregate(G)
    assert torch.all(torch.isfinite(d))
    torch.testing.assert_close(alpha @ G, d)
    u = G / G.norm(dim=1, keepdim=True)
    gu = torch.linalg.pinv(u) @ torch.ones(4, dtype=G.dtype)
    assert float(cos(gu, d, dim=0)) > 1 - 1e-10
    H = torch.stack([G[0], 2 * G[0], G[1]])  # two parallel gradients
    d, alpha = ConFIG().aggregate(H)
    torch.testing.assert_close(alpha @ H, d)
    c = cos(H, d[None, :])
    torch.testing.assert_close(c, c[:1].expand(3))


# --------------------------------------------------------------------------- DualProj


@pytest.mark.parametrize("seed", SEEDS)
def test_dualproj_is_the_projection_of_the_mean_onto_the_dual_cone(seed):
    gen = torch.Generator().manual_seed(seed)
    G = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    while float((G @ G.mean(0)).min()) >= 0:  # a case where the mean conflicts with a task
        G = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    d, alpha = DualProj().aggregate(G)
    tol = 1e-9 * float(G.norm() ** 2)
    assert torch.all(G @ d >= -tol)  # conflicts with no task
    torch.testing.assert_close(alpha @ G, d)
    # KKT of min ||x - mean||^2 s.t. G x >= 0: d = mean + G^T v, v >= 0, v_i (g_i . d) = 0.
    v = alpha - 1 / 3
    assert torch.all(v >= -1e-9)
    assert torch.all((v * (G @ d)).abs() <= tol)
    assert float((d - G.mean(0)).norm()) > 1e-6  # the mean did conflict: d moved
    H = G.abs()  # no conflict: the mean gradient itself
    torch.testing.assert_close(DualProj().aggregate(H)[0], H.mean(0))
    # A preference weighs the gradients before the projection.
    p = [1.0, 2.0, 0.5]
    torch.testing.assert_close(
        DualProj(pref_vector=p).aggregate(H)[0], torch.tensor(p, dtype=H.dtype) @ H
    )
    d, alpha = DualProj(pref_vector=p).aggregate(G)
    assert torch.all(G @ d >= -tol)
    v = alpha - torch.tensor(p, dtype=G.dtype)
    assert torch.all(v >= -1e-9) and torch.all((v * (G @ d)).abs() <= tol)


def test_dualproj_projects_the_mean_where_upgrad_averages_the_projections():
    from skmtl.weighting import UPGrad

    G = torch.tensor([[1.0, 0.0], [-2.0, 1.0]], dtype=torch.float64)
    d, alpha = DualProj().aggregate(G)
    torch.testing.assert_close(d, torch.tensor([0.0, 0.5], dtype=G.dtype))  # by hand
    assert float((UPGrad().aggregate(G)[0] - d).norm()) > 0.1


# --------------------------------------------------------------------------- MoCo


def test_simplex_projection_is_the_closest_point_of_the_simplex():
    gen = np.random.default_rng(0)
    for _ in range(20):
        v = gen.normal(size=4) * 3
        p = simplex_projection(v)
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12
        for _ in range(20):  # optimality: (v - p) . (q - p) <= 0 for every simplex point q
            q = gen.dirichlet(np.ones(4))
            assert (v - p) @ (q - p) <= 1e-12
    np.testing.assert_allclose(simplex_projection(np.array([0.2, 0.3, 0.5])), [0.2, 0.3, 0.5])


def fixed_point(G, steps, losses=None, rows=None, **params):
    """MoCo without memory on fixed gradients, step 1 / L for the tracked ``rows`` (G's)."""
    rows = G if rows is None else rows
    M = (rows @ rows.T).numpy()
    moco = MoCo(
        beta=1.0,
        beta_sigma=0.0,
        gamma=1.0 / np.linalg.eigvalsh(M).max(),
        gamma_sigma=0.0,
        **{"normalization": "none", **params},
    )
    moco.init([str(i) for i in range(len(G))])
    for _ in range(steps):
        d, lam = moco.aggregate(G, losses)
    return moco, d, lam


@pytest.mark.parametrize("seed", SEEDS)
def test_moco_without_memory_converges_to_the_mgda_min_norm_point(seed):
    G = rand_G(seed)
    moco, d, lam = fixed_point(G, 600)
    want, weights = MGDA().aggregate(G)
    torch.testing.assert_close(d, want, atol=1e-7, rtol=0)
    torch.testing.assert_close(lam, weights, atol=1e-5, rtol=0)
    assert abs(float(lam.sum()) - 1) < 1e-12 and torch.all(lam >= 0)
    torch.testing.assert_close(moco.y_, G)  # beta = 1: the tracked gradients are G's
    assert float((fixed_point(G, 1)[1] - want).norm()) > 1e-4  # one step is not enough
    # rho > 0: the min-norm point of the regularised problem.
    G2 = G * torch.tensor([[1.0], [3.0], [0.5]], dtype=G.dtype)
    M = (G2 @ G2.T).numpy()
    rho = 0.5 * float(np.diag(M).mean())
    _, _, lam = fixed_point(G2, 600, rho=rho)
    np.testing.assert_allclose(lam.numpy(), min_norm_weights(M + rho * np.eye(3)), atol=1e-5)
    # Scaled to the losses (LibMTL): the min-norm point of the rows |L_i| g_i / ||g_i||.
    losses = torch.tensor([0.5, 2.0, 1.0], dtype=G.dtype)
    H = losses[:, None] * G / G.norm(dim=1, keepdim=True)
    _, d, _ = fixed_point(G, 600, losses, H, normalization="loss")
    torch.testing.assert_close(d, MGDA().aggregate(H)[0], atol=1e-7, rtol=0)


def test_moco_tracks_the_gradients_with_a_decaying_rate():
    G1, G2, G3 = (rand_G(s, k=2) for s in range(3))
    moco = MoCo(beta=0.8, beta_sigma=0.5, gamma=0.1, gamma_sigma=1.0, normalization="none")
    moco.init(["a", "b"])
    y = torch.zeros_like(G1)
    lam = np.full(2, 0.5)
    for t, G in enumerate((G1, G2, G3), start=1):
        d, got = moco.aggregate(G)
        b = 0.8 / t**0.5
        y = y - b * (y - G)
        M = (y @ y.T).numpy()
        lam = simplex_projection(lam - 0.1 / t * (M @ lam))
        torch.testing.assert_close(moco.y_, y)
        np.testing.assert_allclose(got.numpy(), lam, rtol=1e-12)
        torch.testing.assert_close(d, torch.from_numpy(lam) @ y)  # d = Y^T lambda, not of G
    assert moco.n_steps_ == 3 and moco.steps_.tolist() == [3, 3]
    with pytest.raises(ValueError, match="normalization='loss' needs"):
        MoCo().aggregate(G1)


# --------------------------------------------------------------------------- TorchJD


def test_against_torchjd():
    aggregation = pytest.importorskip("torchjd.aggregation")
    from torchjd.linalg import QuadprogProjector

    exact = QuadprogProjector(norm_eps=0.0, reg_eps=0.0)
    p = [1.0, 2.0, 0.5]
    tp = torch.tensor(p, dtype=torch.float64)
    for seed in range(5):
        G = rand_G(seed)
        for alpha in ALPHAS:  # TorchJD: least squares from uniform weights (its tolerance)
            torch.testing.assert_close(
                FairGrad(alpha=alpha).aggregate(G)[0],
                aggregation.FairGrad(alpha=alpha)(G),
                rtol=1e-6,
                atol=1e-8,
            )
        torch.testing.assert_close(ConFIG().aggregate(G)[0], aggregation.ConFIG()(G))
        torch.testing.assert_close(
            ConFIG(pref_vector=p).aggregate(G)[0], aggregation.ConFIG(pref_vector=tp)(G)
        )
        # TorchJD's default projector regularises the Gram matrix (1e-4 of the identity,
        # after dividing by the trace): close; without it, the same projection.
        ours = DualProj().aggregate(G)[0]
        torch.testing.assert_close(ours, aggregation.DualProj()(G), atol=1e-3, rtol=0)
        torch.testing.assert_close(ours, aggregation.DualProj(projector=exact)(G))
        torch.testing.assert_close(
            DualProj(pref_vector=p).aggregate(G)[0],
            aggregation.DualProj(pref_vector=tp, projector=exact)(G),
        )


# --------------------------------------------------------------------------- backward


class Net(TrunkNet):
    def __init__(self, n_tasks=3, seed=0):
        super().__init__(n_tasks=n_tasks, seed=seed)


def losses_of(net, present, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 5, generator=g)
    y = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3], x[:, 4].abs()])
    return torch.stack(
        [((o - t).pow(2).mean()) * float(p) for o, t, p in zip(net(x), y, present, strict=True)]
    )


AGGREGATORS = {
    "fairgrad": lambda **kw: FairGrad(alpha=2.0, **kw),
    "config": lambda **kw: ConFIG(**kw),
    "dualproj": lambda **kw: DualProj(**kw),
}
PRESENT = torch.tensor([True, False, True])
TW = torch.tensor([1.0, 3.0, 2.0])


def check_heads(net, ref, losses):
    for i in range(3):  # each head: the gradient of its own weighted loss, nothing more
        want = torch.autograd.grad(
            TW[i] * losses[i], list(ref.heads[i].parameters()), retain_graph=True
        )
        for got, w in zip(net.heads[i].parameters(), want, strict=True):
            torch.testing.assert_close(got.grad, w)


CASES = [(n, None) for n in AGGREGATORS] + [(n, [1.0, 4.0, 0.5]) for n in ("config", "dualproj")]


@pytest.mark.parametrize("on", ["parameters", "representation"])
@pytest.mark.parametrize("name, pref", CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_backward_writes_the_aggregate_and_the_heads_own_gradients(name, pref, on):
    kw = {} if pref is None else {"pref_vector": pref}
    net = Net()
    strategy = AGGREGATORS[name](on=on, **kw)
    assert strategy.init(["a", "b", "c"]) is None
    used = strategy.backward(losses_of(net, PRESENT), PRESENT, TW, None, net)
    assert net.representation is None

    ref = Net()  # same seed, same weights
    losses = losses_of(ref, PRESENT)
    wrt = ref.shared_parameters() if on == "parameters" else [ref.representation]
    G = torch.stack(
        [flat(torch.autograd.grad(TW[i] * losses[i], wrt, retain_graph=True)) for i in (0, 2)]
    )
    # The absent task "b" takes no part: the aggregate of a and c alone (their preferences).
    again = AGGREGATORS[name](on=on, **({} if pref is None else {"pref_vector": pref[::2]}))
    again.init(["a", "c"])
    d, alpha = again.aggregate(G)
    if on == "parameters":
        torch.testing.assert_close(flat([p.grad for p in net.shared_parameters()]), d)
    else:  # the trunk gets the backward pass of the aggregated representation gradient
        z = ref.representation
        want = torch.autograd.grad(z, ref.shared_parameters(), d.view_as(z), retain_graph=True)
        torch.testing.assert_close(flat([p.grad for p in net.shared_parameters()]), flat(want))
    # Effective weights: c_i alpha_i for the present tasks, 0 for the absent one.
    torch.testing.assert_close(used, torch.stack([alpha[0] * 1.0, torch.tensor(0.0), alpha[1] * 2]))
    check_heads(net, ref, losses)


@pytest.mark.parametrize("normalization", ["loss", "none"])
def test_moco_backward_writes_the_tracked_combination_and_leaves_an_absent_task(normalization):
    net = Net()
    moco = MoCo(beta=0.7, gamma=0.5, normalization=normalization)
    assert moco.init(["a", "b", "c"]) is None
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    every = torch.ones(3, dtype=torch.bool)
    for step in range(6):
        present = every if step < 3 else PRESENT  # task "b" is absent from the last steps
        before = (moco.y_.clone() if moco.y_ is not None else None, moco.lambda_.copy())
        steps = moco.steps_.copy()
        opt.zero_grad()
        used = moco.backward(losses_of(net, present, seed=step), present, TW, None, net)
        ref = copy.deepcopy(net)
        ref.zero_grad()
        losses = losses_of(ref, present, seed=step)
        # What is documented: .grad = sum_i (w_i / c_i) y_i over the present tasks, y_ after
        # the step; the reported weights on the present tasks sum to 1 over c_i.
        idx = [i for i in range(3) if present[i]]
        lam = used[idx] / TW[idx]
        assert abs(float(lam.sum()) - 1) < 1e-6 and torch.all(lam >= 0)
        got = flat([p.grad for p in net.shared_parameters()])
        torch.testing.assert_close(got, lam @ moco.y_[idx], rtol=1e-5, atol=1e-7)
        check_heads(net, ref, losses)
        if step == 0:  # y_i = beta * h_i after the first step
            shared = ref.shared_parameters()
            for i in range(3):
                g = flat(torch.autograd.grad(TW[i] * losses[i], shared, retain_graph=True))
                h = g if normalization == "none" else g / g.norm() * TW[i] * losses[i]
                torch.testing.assert_close(moco.y_[i], 0.7 * h.detach())
        if not present[1]:  # the absent task: weight 0, state untouched
            assert float(used[1]) == 0.0
            assert torch.equal(moco.y_[1], before[0][1])
            assert moco.lambda_[1] == before[1][1] and moco.steps_[1] == steps[1]
            assert not torch.equal(moco.y_[0], before[0][0])  # the present ones moved
            # The present tasks' weights keep their total, so lambda_ stays on the simplex.
            assert abs(moco.lambda_.sum() - 1) < 1e-9
        opt.step()
    assert moco.n_steps_ == 6 and moco.steps_.tolist() == [6, 3, 6]
    assert "on" not in moco.get_params()  # parameter space only, not a parameter


def test_moco_state_pickles_and_a_present_task_with_zero_weight_restarts_uniformly():
    moco = MoCo(normalization="none")
    moco.init(["a", "b"])
    G = rand_G(0, k=2)
    moco.aggregate(G)
    again = pickle.loads(pickle.dumps(moco))
    torch.testing.assert_close(again.y_, moco.y_)
    np.testing.assert_array_equal(again.lambda_, moco.lambda_)
    assert not hasattr(again, "_losses") or again._losses is None
    torch.testing.assert_close(again.aggregate(G)[0], copy.deepcopy(moco).aggregate(G)[0])
    moco.lambda_ = np.array([1.0, 0.0])
    d, lam = moco._aggregate_tasks(G[1:], [1])  # only "b", whose weight is 0
    assert lam.tolist() == [1.0] and moco.lambda_.tolist() == [1.0, 0.0]
    torch.testing.assert_close(d, moco.y_[1])


# --------------------------------------------------------------------------- parameters

PARAMS = {
    "fairgrad": (lambda: FairGrad(), {"alpha": 3.0, "on": "representation"}),
    "config": (lambda: ConFIG(), {"pref_vector": {"a": 2.0}}),
    "dualproj": (lambda: DualProj(), {"pref_vector": [1.0, 2.0]}),
    "moco": (lambda: MoCo(), {"beta": 0.9, "gamma": 0.5, "rho": 0.1, "normalization": "none"}),
}


@pytest.mark.parametrize("name", list(PARAMS))
def test_clone_get_params_set_params_round_trip(name):
    make, change = PARAMS[name]
    strategy = make()
    params = strategy.get_params()
    twin = clone(strategy)
    assert twin is not strategy and twin.get_params() == params
    changed = clone(strategy).set_params(**change)
    assert changed.get_params() == {**params, **change}
    assert type(strategy)(**changed.get_params()).get_params() == changed.get_params()
    changed.init(["a", "b"])  # the changed parameters are valid
    strategy.init(["a", "b"])  # fitted attributes do not travel with a clone
    assert not hasattr(clone(strategy), "task_names_")
    assert copy.deepcopy(strategy).get_params() == params


BAD = [
    (FairGrad, {"alpha": 0.0}, "FairGrad alpha"),
    (FairGrad, {"alpha": -1.0}, "FairGrad alpha"),
    (FairGrad, {"alpha": float("nan")}, "FairGrad alpha"),
    (FairGrad, {"on": "bogus"}, "FairGrad on"),
    (ConFIG, {"pref_vector": [1.0]}, "ConFIG pref_vector has 1 entries"),
    (ConFIG, {"pref_vector": [1.0, 0.0]}, "ConFIG pref_vector entry of task 'b'"),
    (ConFIG, {"pref_vector": {"z": 1.0}}, "ConFIG pref_vector names unknown"),
    (ConFIG, {"pref_vector": "ab"}, "ConFIG pref_vector must be"),
    (DualProj, {"pref_vector": [1.0, -2.0]}, "DualProj pref_vector entry of task 'b'"),
    (DualProj, {"pref_vector": [True, 1.0]}, "DualProj pref_vector entry of task 'a'"),
    (DualProj, {"on": "bogus"}, "DualProj on"),
    (MoCo, {"beta": 0.0}, "MoCo beta "),
    (MoCo, {"beta": 1.5}, "MoCo beta "),
    (MoCo, {"beta_sigma": -1.0}, "MoCo beta_sigma"),
    (MoCo, {"gamma": 0.0}, "MoCo gamma "),
    (MoCo, {"gamma_sigma": -0.5}, "MoCo gamma_sigma"),
    (MoCo, {"rho": -0.1}, "MoCo rho"),
    (MoCo, {"normalization": "l2"}, "MoCo normalization"),
]


@pytest.mark.parametrize("cls, params, match", BAD, ids=[f"{c.__name__}-{p}" for c, p, _ in BAD])
def test_bad_parameters_are_refused_naming_the_parameter(cls, params, match):
    strategy = cls(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        strategy.init(["a", "b"])


# --------------------------------------------------------------------------- estimators

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 8, "random_state": 0}
STRATEGIES = {
    "fairgrad": (lambda: FairGrad(), "alpha", [0.5, 2.0]),
    "config": (lambda: ConFIG(), "pref_vector", [None, [1.0, 3.0]]),
    "dualproj": (lambda: DualProj(), "pref_vector", [None, [1.0, 3.0]]),
    "moco": (lambda: MoCo(), "gamma", [0.01, 0.5]),
}


def classification_data(n=48):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    return X, np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(int)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_trains_a_regressor_reproducibly_and_searches(name):
    make, param, values = STRATEGIES[name]
    X, Y = regression_data()
    model = MultiTaskRegressor(**FAST, weighting=make()).fit(X, Y)
    assert len(model.history_) == 3
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    weights = np.array([[e[t] for t in ("0", "1")] for e in model.history_[:, "task_weight"]])
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    pred = model.predict(X)
    assert np.all(np.isfinite(pred))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), pred)
    same = MultiTaskRegressor(**FAST, weighting=make()).fit(X, Y)
    np.testing.assert_array_equal(same.predict(X), pred)
    if name == "moco":  # the fitted strategy keeps its state, sized to the shared parameters
        n = sum(p.numel() for p in model.module_.shared_parameters())
        assert model.weighting_.y_.shape == (2, n)
    search = GridSearchCV(
        MultiTaskRegressor(**{**FAST, "max_epochs": 1}, weighting=make()),
        {f"weighting__{param}": values},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_[f"weighting__{param}"] in values
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_fits_a_classifier(name):
    make = STRATEGIES[name][0]
    X, Y = classification_data()
    modes = ["parameters"] if name == "moco" else ["parameters", "representation"]
    for on in modes:
        strategy = make() if name == "moco" else make().set_params(on=on)
        model = MultiTaskClassifier(**FAST, weighting=strategy).fit(X, Y)
        assert np.all(np.isfinite(model.history_[:, "train_loss"]))
        assert model.module_.representation is None
        pred = model.predict(X)
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), pred)
        assert model.score(X, Y) > 0.4
