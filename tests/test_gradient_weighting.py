"""Property tests of the gradient-aggregation strategies (PCGrad, MGDA, ...)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from _toy_nets import regression_data
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskRegressor
from skmtl.architectures import MMoE
from skmtl.encoders import FeatureStack
from skmtl.engine import MultiTaskNetwork
from skmtl.weighting import (
    IMTLG,
    MGDA,
    AlignedMTL,
    CAGrad,
    GradDrop,
    GradVac,
    NashMTL,
    PCGrad,
    UPGrad,
)
from skmtl.weighting._gradvac import gradvac_weights
from skmtl.weighting._nashmtl import nash_weights

SEEDS = range(30)


def rand_G(seed, k=2, n=6, conflict=True):
    """Random float64 gradients; with ``conflict`` the first two conflict."""
    g = torch.Generator().manual_seed(seed)
    while True:
        G = torch.randn(k, n, generator=g, dtype=torch.float64)
        if not conflict or G[0] @ G[1] < 0:
            return G


# --------------------------------------------------------------------------- aggregators


@pytest.mark.parametrize("seed", SEEDS)
def test_pcgrad_does_not_conflict_with_either_task(seed):
    G = rand_G(seed)
    d, alpha = PCGrad(random_state=seed).aggregate(G)
    assert torch.all(G @ d >= -1e-10)
    torch.testing.assert_close(alpha @ G, d)
    # Only the conflicting part is removed: without conflict, the plain sum.
    H = G.abs()
    torch.testing.assert_close(PCGrad().aggregate(H)[0], H.sum(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_mgda_two_tasks_is_the_closed_form_min_norm_point(seed):
    G = rand_G(seed, conflict=seed % 2 == 0)
    g1, g2 = G
    a = float(torch.clamp((g2 - g1) @ g2 / (g1 - g2).pow(2).sum(), 0, 1))
    d, alpha = MGDA().aggregate(G)
    torch.testing.assert_close(d, a * g1 + (1 - a) * g2)
    torch.testing.assert_close(alpha, torch.tensor([a, 1 - a], dtype=G.dtype))


@pytest.mark.parametrize("seed", range(10))
def test_mgda_many_tasks_is_a_common_descent_direction(seed):
    G = rand_G(seed, k=4, n=10)
    d, alpha = MGDA().aggregate(G)
    assert abs(float(alpha.sum()) - 1) < 1e-8 and torch.all(alpha >= 0)
    # Optimality of the min-norm point: g_i . d >= ||d||^2 for every task.
    assert torch.all(G @ d >= d @ d - 1e-6)
    d2, alpha2 = MGDA(normalization="l2").aggregate(G)
    torch.testing.assert_close(alpha2 @ G, d2)


@pytest.mark.parametrize("seed", SEEDS)
def test_cagrad(seed):
    G = rand_G(seed, k=3)
    d0, alpha0 = CAGrad(c=0.0).aggregate(G)
    torch.testing.assert_close(d0, G.mean(0))
    g0 = G.mean(0)
    for c in (0.2, 0.5, 0.9):
        d, alpha = CAGrad(c=c).aggregate(G)
        assert float(d @ g0) >= (1 - c) * float(g0 @ g0) / (1 + c**2) - 1e-8
        torch.testing.assert_close(alpha @ G, d)
    # A large c improves the worst task over the mean gradient.
    worst = float((G @ CAGrad(c=0.9, rescale=False).aggregate(G)[0]).min())
    assert worst >= float((G @ g0).min()) - 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_imtlg_equal_projections_on_unit_gradients(seed):
    G = rand_G(seed, k=3, n=8) * torch.tensor([[1.0], [10.0], [0.1]], dtype=torch.float64)
    d, alpha = IMTLG().aggregate(G)
    proj = G @ d / G.norm(dim=1)
    torch.testing.assert_close(proj, proj[:1].expand(3))
    assert abs(float(alpha.sum()) - 1) < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_upgrad(seed):
    G = rand_G(seed, k=3, n=5)
    d, alpha = UPGrad().aggregate(G)
    assert torch.all(G @ d >= -1e-9 * float(G.norm() ** 2))
    torch.testing.assert_close(alpha @ G, d)
    H = G.abs()  # no conflict: the mean gradient
    torch.testing.assert_close(UPGrad().aggregate(H)[0], H.mean(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_alignedmtl_aligned_gradients_are_orthogonal_with_equal_norms(seed):
    G = rand_G(seed, k=3, n=7)
    M = (G @ G.T).numpy()
    B = torch.from_numpy(AlignedMTL.alignment_matrix(M))
    aligned = B @ G
    s_min = torch.linalg.svdvals(G).min()
    torch.testing.assert_close(aligned @ aligned.T, s_min**2 * torch.eye(3, dtype=G.dtype))
    d, alpha = AlignedMTL().aggregate(G)
    torch.testing.assert_close(d, aligned.sum(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_gradvac_reaches_the_cosine_target(seed):
    G = rand_G(seed)
    M = (G @ G.T).numpy()
    target = 0.3
    alpha, new = gradvac_weights(M, np.full((2, 2), target), 0.5, np.arange)
    C = torch.from_numpy(np.array([[1.0, 0.0], [0.0, 1.0]]))
    # Rebuild each corrected gradient: g_i' = g_i + w g_j; alpha = sum of them.
    cos = torch.nn.functional.cosine_similarity
    for i, j in ((0, 1), (1, 0)):
        phi = float(cos(G[i], G[j], dim=0))
        w = float(
            G[i].norm()
            * (target * np.sqrt(1 - phi**2) - phi * np.sqrt(1 - target**2))
            / (G[j].norm() * np.sqrt(1 - target**2))
        )
        gi = G[i] + w * G[j]
        assert abs(float(cos(gi, G[j], dim=0)) - target) < 1e-8
        C[i, j] = w
        assert abs(new[i, j] - (0.5 * target + 0.5 * phi)) < 1e-12
    np.testing.assert_allclose(alpha, C.sum(0).numpy())
    # First step (targets 0) is PCGrad; the targets then move towards the cosines.
    vac = GradVac(beta=0.5)
    vac.init(["a", "b"])
    torch.testing.assert_close(vac.aggregate(G)[0], PCGrad().aggregate(G)[0])
    assert np.all(vac.targets_[~np.eye(2, dtype=bool)] < 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_graddrop_keeps_one_sign_per_component(seed):
    G = rand_G(seed, k=3, n=40)
    G[:, :5] = G[:, :5].abs()  # sign-consistent components
    G[:, 5:10] = -G[:, 5:10].abs()
    d, alpha = GradDrop(random_state=seed).aggregate(G)
    torch.testing.assert_close(d[:10], G[:, :10].sum(0))
    pos, neg = G.clamp_min(0).sum(0), G.clamp_max(0).sum(0)
    assert torch.all(torch.isclose(d, pos) | torch.isclose(d, neg))
    assert torch.all((alpha >= 0) & (alpha <= 1))
    full = GradDrop(leak=1.0, random_state=seed).aggregate(G)[0]
    torch.testing.assert_close(full, G.sum(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_nashmtl_solves_the_bargaining_equation(seed):
    G = rand_G(seed, k=3, n=6)
    M = (G @ G.T).numpy()
    Mn = M / np.linalg.norm(M)
    a = nash_weights(Mn)
    assert np.all(a > 0)
    np.testing.assert_allclose(Mn @ a, 1 / a, rtol=1e-7)
    d, alpha = NashMTL(reg=0.0).aggregate(G)
    np.testing.assert_allclose(alpha.numpy(), a, rtol=1e-7)
    # Every task's share of the update is equal: alpha_i (g_i . d) is the same for all tasks.
    share = alpha * (G @ d)
    torch.testing.assert_close(share, share[:1].expand(3))


def test_against_torchjd_where_available():
    aggregation = pytest.importorskip("torchjd.aggregation")
    for seed in range(5):
        G = rand_G(seed, k=3, n=6)
        torch.testing.assert_close(IMTLG().aggregate(G)[0], aggregation.IMTLG()(G))
        # torchjd's MGDA is Frank-Wolfe (approximate): ours is at least as short and close.
        ours, theirs = MGDA().aggregate(G)[0], aggregation.MGDA(epsilon=1e-9, max_iters=10000)(G)
        assert float(ours.norm()) <= float(theirs.norm()) + 1e-9
        torch.testing.assert_close(ours, theirs, atol=2e-3, rtol=0)


# --------------------------------------------------------------------------- as strategies

STRATEGIES = {
    "pcgrad": (lambda: PCGrad(random_state=0), "random_state", [0, 1]),
    "mgda": (lambda: MGDA(), "normalization", ["none", "l2"]),
    "cagrad": (lambda: CAGrad(c=0.4), "c", [0.0, 0.5]),
    "imtlg": (lambda: IMTLG(), "on", ["parameters"]),
    "graddrop": (lambda: GradDrop(random_state=0), "leak", [0.0, 0.5]),
    "gradvac": (lambda: GradVac(random_state=0), "beta", [0.01, 0.5]),
    "alignedmtl": (lambda: AlignedMTL(), "on", ["parameters"]),
    "upgrad": (lambda: UPGrad(), "on", ["parameters"]),
    "nashmtl": (lambda: NashMTL(), "reg", [0.0, 1e-3]),
}


class Net(nn.Module):
    def __init__(self, n_tasks=3, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.trunk = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8))
        self.heads = nn.ModuleList(nn.Linear(8, 1) for _ in range(n_tasks))

    def shared_parameters(self):
        return list(self.trunk.parameters())

    def forward(self, x):
        h = self.trunk(x)
        self.representation = h if self.training and torch.is_grad_enabled() else None
        return [head(h).squeeze(1) for head in self.heads]


def losses_of(net, present):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 5, generator=g)
    y = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3], x[:, 4].abs()])
    return torch.stack(
        [((o - t).pow(2).mean()) * float(p) for o, t, p in zip(net(x), y, present, strict=True)]
    )


def flat(params):
    return torch.cat([p.reshape(-1) for p in params])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_backward_writes_the_aggregate_and_the_heads_own_gradients(name):
    make = STRATEGIES[name][0]
    present = torch.tensor([True, False, True])
    tw = torch.tensor([1.0, 3.0, 2.0])
    net = Net()
    strategy = make()
    assert strategy.init(["a", "b", "c"]) is None
    used = strategy.backward(losses_of(net, present), present, tw, None, net)

    ref = Net()  # same seed, same weights
    losses = losses_of(ref, present)
    shared = ref.shared_parameters()
    G = torch.stack(
        [flat(torch.autograd.grad(tw[i] * losses[i], shared, retain_graph=True)) for i in (0, 2)]
    )
    again = make()
    again.init(["a", "c"])
    d, alpha = again.aggregate(G)
    torch.testing.assert_close(flat([p.grad for p in net.shared_parameters()]), d)
    # Effective weights: c_i alpha_i for the present tasks, 0 for the absent one.
    torch.testing.assert_close(used, torch.stack([alpha[0] * 1.0, torch.tensor(0.0), alpha[1] * 2]))
    for i in range(3):  # each head: the gradient of its own weighted loss
        want = torch.autograd.grad(
            tw[i] * losses[i], list(ref.heads[i].parameters()), retain_graph=True
        )
        for got, w in zip(net.heads[i].parameters(), want, strict=True):
            torch.testing.assert_close(got.grad, w)
    # The absent task changed nothing: d above is the aggregate of tasks a and c alone.


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_bad_on_and_a_network_without_representation_are_refused_clearly(name):
    with pytest.raises(ValueError, match="on must be"):
        STRATEGIES[name][0]().set_params(on="bogus").init(["a", "b"])
    strategy = STRATEGIES[name][0]().set_params(on="representation")
    assert strategy.init(["a", "b", "c"]) is None

    class NoRepresentation(Net):
        def forward(self, x):
            return [head(self.trunk(x)).squeeze(1) for head in self.heads]

    present = torch.tensor([True, True, True])
    net = NoRepresentation()
    with pytest.raises(RuntimeError, match="network.representation"):
        strategy.backward(losses_of(net, present), present, torch.ones(3), None, net)


# --------------------------------------------------------------------------- on="representation"


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_representation_backward_writes_the_backprop_of_the_aggregate(name):
    make = STRATEGIES[name][0]
    present = torch.tensor([True, False, True])
    tw = torch.tensor([1.0, 3.0, 2.0])
    net = Net()
    strategy = make().set_params(on="representation")
    assert strategy.init(["a", "b", "c"]) is None
    used = strategy.backward(losses_of(net, present), present, tw, None, net)
    assert net.representation is None  # released: no graph outlives the step

    ref = Net()  # same seed, same weights
    losses = losses_of(ref, present)
    z = ref.representation
    G = torch.stack(
        [
            torch.autograd.grad(tw[i] * losses[i], z, retain_graph=True)[0].reshape(-1)
            for i in (0, 2)
        ]
    )
    again = make().set_params(on="representation")
    again.init(["a", "c"])
    d, alpha = again.aggregate(G)
    # The trunk gets the backward pass of the aggregated representation gradient.
    shared = ref.shared_parameters()
    want = torch.autograd.grad(z, shared, grad_outputs=d.view_as(z), retain_graph=True)
    for got, w in zip(net.shared_parameters(), want, strict=True):
        torch.testing.assert_close(got.grad, w)
    torch.testing.assert_close(used, torch.stack([alpha[0] * 1.0, torch.tensor(0.0), alpha[1] * 2]))
    for i in range(3):  # each head: the gradient of its own weighted loss, nothing more
        want = torch.autograd.grad(
            tw[i] * losses[i], list(ref.heads[i].parameters()), retain_graph=True
        )
        for got, w in zip(net.heads[i].parameters(), want, strict=True):
            torch.testing.assert_close(got.grad, w)


class LinearTrunkNet(Net):
    """A bias-free linear trunk from one input: on one example, ``dL/dW = x dL/dz``.

    The parameter gradients are then the representation gradients times the
    (positive) input, so every strategy must give the same update either way.
    """

    def __init__(self, seed=0):
        nn.Module.__init__(self)
        torch.manual_seed(seed)
        self.trunk = nn.Linear(1, 8, bias=False)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 1)) for _ in range(2)
        )
        self.double()


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("seed", range(4))
def test_representation_mode_equals_parameters_mode_on_a_linear_trunk(name, seed):
    present = torch.tensor([True, True])
    tw = torch.tensor([1.0, 2.0], dtype=torch.float64)
    x = torch.tensor([[1.7]], dtype=torch.float64)
    y = torch.tensor([[0.5], [-2.0]], dtype=torch.float64)
    grads, used = {}, {}
    for on in ("parameters", "representation"):
        net = LinearTrunkNet(seed)
        strategy = STRATEGIES[name][0]().set_params(on=on)
        strategy.init(["a", "b"])
        losses = torch.stack([(o - t).pow(2).mean() for o, t in zip(net(x), y, strict=True)])
        used[on] = strategy.backward(losses, present, tw, None, net)
        grads[on] = flat([p.grad for p in net.parameters()])
    torch.testing.assert_close(used["representation"], used["parameters"])
    torch.testing.assert_close(grads["representation"], grads["parameters"])


@pytest.mark.parametrize("seed", range(10))
def test_mgda_ub_weights_are_the_min_norm_point_of_the_representation_gradients(seed):
    net = Net(seed=seed)
    present = torch.tensor([True, False, True])  # two tasks: the closed form
    tw = torch.tensor([1.0, 1.0, 0.5])
    strategy = MGDA(on="representation")
    strategy.init(["a", "b", "c"])
    used = strategy.backward(losses_of(net, present), present, tw, None, net)

    ref = Net(seed=seed)
    losses = losses_of(ref, present)
    z = ref.representation
    g1, g2 = (
        torch.autograd.grad(tw[i] * losses[i], z, retain_graph=True)[0].reshape(-1) for i in (0, 2)
    )
    a = float(torch.clamp((g2 - g1) @ g2 / (g1 - g2).pow(2).sum(), 0, 1))
    torch.testing.assert_close(used, torch.tensor([a * 1.0, 0.0, (1 - a) * 0.5]))
    d = a * g1 + (1 - a) * g2  # a common descent direction on the representation
    assert float(g1 @ d) >= float(d @ d) * (1 - 1e-4) and float(g2 @ d) >= float(d @ d) * (1 - 1e-4)
    want = torch.autograd.grad(z, ref.shared_parameters(), grad_outputs=d.view_as(z))
    for got, w in zip(net.shared_parameters(), want, strict=True):
        torch.testing.assert_close(got.grad, w)


@pytest.mark.parametrize("name", ["mgda", "pcgrad"])
def test_representation_mode_backpropagates_through_the_trunk_once(name):
    """The cost difference: k trunk backward passes on the parameters, 1 on z."""
    present = torch.tensor([True, True, True])
    passes = {}
    for on in ("parameters", "representation"):
        net = Net()
        calls = []
        net.trunk[0].weight.register_hook(lambda g, calls=calls: calls.append(1))
        strategy = STRATEGIES[name][0]().set_params(on=on)
        strategy.init(["a", "b", "c"])
        strategy.backward(losses_of(net, present), present, torch.ones(3), None, net)
        passes[on] = len(calls)
    assert passes == {"parameters": 3, "representation": 1}


def test_the_network_keeps_its_representation_only_while_training():
    body = MMoE(n_experts=2).build(FeatureStack(3, (4,)), ["a", "b"])
    heads = {"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)}
    net = MultiTaskNetwork(body, heads, {"a": "row", "b": "row"})
    x = torch.randn(5, 3)
    net(x)
    # The architecture's cut: the two experts' outputs and the two gates' logits.
    assert [z.shape for z in net.representation] == [(5, 4), (5, 4), (5, 2), (5, 2)]
    blob = pickle.dumps(net)  # the batch's activations are not saved
    assert pickle.loads(blob).representation is None
    assert copy.deepcopy(net).representation is None
    assert "representation" not in net.state_dict()
    with torch.no_grad():
        net(x)
    assert net.representation is None
    net(x)
    net.eval()
    net(x)
    assert net.representation is None


FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 8, "random_state": 0}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_trains_and_searches(name):
    make, param, values = STRATEGIES[name]
    X, Y = regression_data()
    model = MultiTaskRegressor(**FAST, weighting=make()).fit(X, Y)
    assert len(model.history_) == 3
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    weights = np.array([[e[t] for t in ("0", "1")] for e in model.history_[:, "task_weight"]])
    assert np.all(np.isfinite(weights))
    pred = model.predict(X)
    assert np.all(np.isfinite(pred))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), pred)
    strategy = make()
    assert clone(strategy).get_params() == strategy.get_params()
    assert copy.deepcopy(strategy).get_params() == strategy.get_params()
    search = GridSearchCV(
        MultiTaskRegressor(**{**FAST, "max_epochs": 1}, weighting=make()),
        {f"weighting__{param}": values},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_[f"weighting__{param}"] in values
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def classification_data(n=60):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    return X, np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5]).astype(int)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_fits_a_classifier_in_both_modes_and_searches_on(name):
    make = STRATEGIES[name][0]
    X, Y = classification_data()
    preds = {}
    for on in ("parameters", "representation"):
        model = MultiTaskClassifier(**FAST, weighting=make().set_params(on=on)).fit(X, Y)
        assert np.all(np.isfinite(model.history_[:, "train_loss"]))
        assert model.module_.representation is None
        preds[on] = model.predict(X)
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), preds[on])
    search = GridSearchCV(
        MultiTaskClassifier(**{**FAST, "max_epochs": 1}, weighting=make()),
        {"weighting__on": ["parameters", "representation"]},
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_["weighting__on"] in ("parameters", "representation")
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_representation_mode_with_a_frozen_trunk_trains_the_new_heads_only():
    X, Y = classification_data()
    model = MultiTaskClassifier(**FAST, weighting=PCGrad(on="representation"))
    model.fit(X, {"a": Y[:, 0], "b": Y[:, 1]})
    trunk = [p.detach().clone() for p in model.module_.shared_parameters()]
    model.add_tasks(X, {"c": Y[:, 2]})
    for before, after in zip(trunk, model.module_.shared_parameters(), strict=True):
        torch.testing.assert_close(before, after)
    assert set(model.predict(X)) == {"a", "b", "c"}


def test_the_gram_matrix_of_wide_float32_gradients_is_accumulated_in_float64():
    from skmtl.weighting._gradients import gram

    G = torch.randn(3, 300_000, generator=torch.Generator().manual_seed(0))
    G[1] = G[0] + 1e-3 * G[1]  # nearly parallel: float32 accumulation would show
    exact = (G.double() @ G.double().T).numpy()
    np.testing.assert_allclose(gram(G), exact, rtol=1e-12)


def test_the_scratch_gradient_matrix_is_reused_and_never_saved():
    present = torch.tensor([True, True, True])
    strategy = PCGrad(random_state=0)
    strategy.init(["a", "b", "c"])
    net = Net()
    strategy.backward(losses_of(net, present), present, torch.ones(3), None, net)
    buffer = strategy._workspace
    assert buffer.shape == (3, sum(p.numel() for p in net.shared_parameters()))
    net.zero_grad(set_to_none=True)
    strategy.backward(losses_of(net, present), present, torch.ones(3), None, net)
    assert strategy._workspace is buffer
    assert not hasattr(pickle.loads(pickle.dumps(strategy)), "_workspace")
    assert not hasattr(copy.deepcopy(strategy), "_workspace")
    strategy.end_epoch(np.ones(3))
    assert strategy._workspace is None


def test_shared_parameters_after_the_representation_get_the_plain_gradient():
    class EarlyRepresentation(Net):
        def forward(self, x):
            z = self.trunk[0](x)  # the representation: before trunk[1:] (still shared)
            self.representation = z
            h = self.trunk[2](self.trunk[1](z))
            return [head(h).squeeze(1) for head in self.heads]

    present = torch.tensor([True, True, True])
    tw = torch.tensor([1.0, 2.0, 0.5])
    net = EarlyRepresentation()
    strategy = MGDA(on="representation")
    strategy.init(["a", "b", "c"])
    strategy.backward(losses_of(net, present), present, tw, None, net)

    ref = EarlyRepresentation()
    losses = losses_of(ref, present)
    z = ref.representation
    G = torch.stack(
        [
            torch.autograd.grad(tw[i] * losses[i], z, retain_graph=True)[0].reshape(-1)
            for i in range(3)
        ]
    )
    d, _ = MGDA().aggregate(G)
    first = list(ref.trunk[0].parameters())
    for got, w in zip(
        net.trunk[0].parameters(),
        torch.autograd.grad(z, first, d.view_as(z), retain_graph=True),
        strict=True,
    ):
        torch.testing.assert_close(got.grad, w)
    last = list(ref.trunk[2].parameters())
    for got, w in zip(
        net.trunk[2].parameters(), torch.autograd.grad((tw * losses).sum(), last), strict=True
    ):
        torch.testing.assert_close(got.grad, w)


class CutNet(nn.Module):
    """Two parallel shared branches: the representation is the list ``[a, b]`` (a cut).

    ``top`` is shared but above the cut (it reads ``a``), so it gets the plain
    gradient of the weighted sum.
    """

    def __init__(self, seed=0, n_tasks=3):
        super().__init__()
        torch.manual_seed(seed)
        self.stem, self.left, self.right = nn.Linear(5, 6), nn.Linear(6, 4), nn.Linear(6, 3)
        self.top = nn.Linear(4, 4)
        self.heads = nn.ModuleList(nn.Linear(7, 1) for _ in range(n_tasks))

    def shared_parameters(self):
        return [p for m in (self.stem, self.left, self.right, self.top) for p in m.parameters()]

    def forward(self, x):
        h = torch.tanh(self.stem(x))
        a, b = self.left(h), self.right(h)
        self.representation = [a, b] if self.training and torch.is_grad_enabled() else None
        z = torch.cat([torch.tanh(self.top(a)), b], 1)
        return [head(z).squeeze(1) for head in self.heads]


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_representation_cut_of_several_tensors_is_aggregated_as_one(name):
    make = STRATEGIES[name][0]
    present = torch.tensor([True, False, True])
    tw = torch.tensor([1.0, 3.0, 2.0])
    net = CutNet()
    strategy = make().set_params(on="representation")
    strategy.init(["a", "b", "c"])
    used = strategy.backward(losses_of(net, present), present, tw, None, net)
    assert net.representation is None

    ref = CutNet()
    losses = losses_of(ref, present)
    cut = ref.representation
    G = torch.stack(
        [flat(torch.autograd.grad(tw[i] * losses[i], cut, retain_graph=True)) for i in (0, 2)]
    )
    again = make().set_params(on="representation")
    again.init(["a", "c"])
    d, alpha = again.aggregate(G)
    parts = [d[: cut[0].numel()], d[cut[0].numel() :]]
    below = [p for m in (ref.stem, ref.left, ref.right) for p in m.parameters()]
    want = torch.autograd.grad(
        cut,
        below,
        grad_outputs=[g.view_as(z) for g, z in zip(parts, cut, strict=True)],
        retain_graph=True,
    )
    got = [p.grad for m in (net.stem, net.left, net.right) for p in m.parameters()]
    torch.testing.assert_close(flat(got), flat(want))
    # Above the cut: the plain gradient of the weighted sum.
    plain = torch.autograd.grad((tw * losses).sum(), list(ref.top.parameters()), retain_graph=True)
    torch.testing.assert_close(flat([p.grad for p in net.top.parameters()]), flat(plain))
    torch.testing.assert_close(used, torch.stack([alpha[0] * 1.0, torch.tensor(0.0), alpha[1] * 2]))


def test_a_frozen_tensor_of_the_cut_is_left_out():
    present = torch.tensor([True, True, True])
    net = CutNet()
    for m in (net.stem, net.right):
        m.requires_grad_(False)  # b no longer depends on anything trained
    strategy = MGDA(on="representation")
    strategy.init(["a", "b", "c"])
    strategy.backward(losses_of(net, present), present, torch.ones(3), None, net)

    ref = CutNet()
    losses = losses_of(ref, present)
    a = ref.representation[0]
    G = torch.stack(
        [torch.autograd.grad(losses[i], a, retain_graph=True)[0].reshape(-1) for i in range(3)]
    )
    d, _ = MGDA().aggregate(G)
    want = torch.autograd.grad(a, list(ref.left.parameters()), d.view_as(a))
    torch.testing.assert_close(flat([p.grad for p in net.left.parameters()]), flat(want))
    assert all(p.grad is None for m in (net.stem, net.right) for p in m.parameters())


# --------------------------------------------------------------------------- reproducibility


def _fit_record(make, random_state):
    X, Y = classification_data()
    params = {**FAST, "random_state": random_state}
    model = MultiTaskClassifier(**params, weighting=make()).fit(X, Y)
    keys = ("train_loss", "task_loss", "task_weight")
    history = [{k: e[k] for k in keys} for e in model.history_]
    return model.predict_proba(X), history, model.weighting_._rng.bit_generator.state


@pytest.mark.parametrize(
    "make",
    [PCGrad, GradVac, GradDrop, lambda: GradDrop(on="representation")],
    ids=["pcgrad", "gradvac", "graddrop", "graddrop-representation"],
)
def test_random_strategies_follow_the_estimator_random_state(make):
    """random_state=None: the strategy's seed comes from the estimator's (via torch)."""
    first, again, other = _fit_record(make, 0), _fit_record(make, 0), _fit_record(make, 1)
    assert first[1] == again[1]
    for a, b in zip(first[0], again[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1] != other[1]
    assert first[2] == again[2]  # the strategy's generator was seeded the same way
    assert first[2] != other[2]  # ... and from the estimator's seed
