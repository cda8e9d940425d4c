"""Row-sparse gradients of a sparse input's first layer and SparseAdamW's lazy updates.

The optimiser must give what dense AdamW gives (exactly for the weight decay,
up to float rounding and ``eps`` for the rest), write only the touched rows
at a step, keep plain AdamW state in ``state_dict``, and every consumer of
gradients (strategies, recorder, averaging, save/load, warm starts) must give
the same model on sparse X as the dense path does.
"""

from __future__ import annotations

import copy
import io
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.nn import functional as F

import skmtl
from skmtl import MultiTaskClassifier
from skmtl.encoders import SparseAwareLinear
from skmtl.encoders._layers import AUTO_ROWS_PER_NONZERO, lazy_row_owner, to_batch
from skmtl.engine import SparseAdamW
from skmtl.weighting import (
    DBMTL,
    MGDA,
    AutoLambda,
    GradNorm,
    PCGrad,
    UncertaintyWeighting,
    UPGrad,
)


@pytest.fixture
def sparse_gradients(monkeypatch):
    """Set SparseAwareLinear.sparse_gradients for the test (restored after)."""

    def set_mode(mode):
        monkeypatch.setattr(SparseAwareLinear, "sparse_gradients", mode)

    return set_mode


def _row_sparse(rows: torch.Tensor, values: torch.Tensor, shape) -> torch.Tensor:
    return torch.sparse_coo_tensor(rows[None], values, shape, check_invariants=True)


def _schedule(t: int) -> float:
    """A learning rate that changes at every step."""
    return 0.02 + 0.015 * math.sin(t / 3.0)


def _run_pair(n_steps, n_rows=40, width=3, rows_of=None, dtype=torch.float64, **kwargs):
    """Dense AdamW and SparseAdamW on the same row-sparse gradients; returns both."""
    gen = torch.Generator().manual_seed(0)
    init = torch.randn(n_rows, width, generator=gen, dtype=dtype)
    a = torch.nn.Parameter(init.clone())
    b = torch.nn.Parameter(init.clone())
    opts = kwargs.pop("opts", {})
    dense = torch.optim.AdamW([a], **kwargs)
    lazy = SparseAdamW([b], **kwargs, **opts)
    for t in range(n_steps):
        for group in dense.param_groups + lazy.param_groups:
            group["lr"] = _schedule(t)
        if rows_of is None:
            rows = torch.unique(torch.randint(0, n_rows, (5,), generator=gen))
        else:
            rows = rows_of(t)
        values = torch.randn(len(rows), width, generator=gen, dtype=dtype) * 0.1
        grad = torch.zeros(n_rows, width, dtype=dtype)
        grad[rows] = values
        a.grad, b.grad = grad, _row_sparse(rows, values, (n_rows, width))
        dense.step()
        lazy.step()
    return (a, dense), (b, lazy)


# ---------------------------------------------------------------- the optimiser


@pytest.mark.parametrize("fused", [False, True])
def test_untouched_rows_get_exactly_the_dense_decay(fused):
    """Rows 20.. are never touched: after k steps with a changing lr they hold
    the product of the k factors (1 - lr_t wd), as dense AdamW's decoupled decay."""
    wd, k = 0.7, 25
    (a, _), (b, lazy) = _run_pair(
        k,
        rows_of=lambda t: torch.tensor([t % 7, 10 + t % 3]),
        lr=0.0,
        weight_decay=wd,
        fused=fused,
    )
    init = torch.randn(40, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    factor = math.prod(1.0 - _schedule(t) * wd for t in range(k))
    np.testing.assert_array_equal(b.detach()[20:].numpy(), init[20:].numpy())  # not written
    lazy.flush()
    np.testing.assert_allclose(b.detach()[20:], init[20:] * factor, rtol=1e-12)
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-10, atol=1e-12)


def test_rows_untouched_for_k_steps_are_decayed_when_next_touched():
    """Row 0 is touched at steps 0 and 30 only: when touched again it first gets
    the 29 decays it missed, so it matches dense AdamW (before any flush)."""
    (a, _), (b, _) = _run_pair(
        31,
        rows_of=lambda t: torch.tensor([0, 1]) if t in (0, 30) else torch.tensor([1]),
        weight_decay=0.5,
        eps=1e-12,
    )
    np.testing.assert_allclose(b.detach()[:2], a.detach()[:2], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("eps, tol", [(1e-12, 1e-10), (1e-8, 1e-7)])
def test_matches_dense_adamw(fused, eps, tol):
    """Weights, moments and step counts equal dense AdamW's on the densified gradients
    (the moments' decay and momentum drift of untouched rows are replayed)."""
    (a, dense), (b, lazy) = _run_pair(200, lr=0.0, weight_decay=0.3, eps=eps, fused=fused)
    lazy.flush()
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=tol, atol=tol)
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(lazy.state[b][key], dense.state[a][key], rtol=1e-10, atol=1e-15)
    assert float(lazy.state[b]["step"]) == float(dense.state[a]["step"]) == 200


def test_float32_matches_dense_adamw():
    (a, _), (b, lazy) = _run_pair(150, dtype=torch.float32, lr=0.0, weight_decay=0.1, fused=True)
    lazy.flush()
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-4, atol=1e-5)


def test_read_rows_gives_dense_values_without_writing():
    (a, _), (b, lazy) = _run_pair(60, lr=0.0, weight_decay=0.2, eps=1e-12)
    before = b.detach().clone()
    up_to_date = lazy.read_rows(b, torch.arange(40))
    np.testing.assert_allclose(up_to_date, a.detach(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(b.detach(), before)  # a read writes nothing


def _reference_lazy_adamw(init, grads, lrs, wd, betas=(0.9, 0.999), eps=1e-8):
    """NumPy lazy AdamW: moments and values of the touched rows only (torch.optim.
    SparseAdam's update with AdamW's eps), decoupled decay of every row at every step."""
    w, (b1, b2) = init.copy(), betas
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, ((rows, g), lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        w *= 1.0 - lr * wd
        m[rows] = b1 * m[rows] + (1 - b1) * g
        v[rows] = b2 * v[rows] + (1 - b2) * g * g
        denom = np.sqrt(v[rows]) / math.sqrt(1 - b2**t) + eps
        w[rows] -= lr / (1 - b1**t) * m[rows] / denom
    return w


@pytest.mark.parametrize("fused", [False, True])
def test_lazy_moments_match_a_reference(fused):
    gen = torch.Generator().manual_seed(1)
    init = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    p = torch.nn.Parameter(init.clone())
    opt = SparseAdamW([p], lr=0.05, weight_decay=0.2, lazy_moments=True, fused=fused)
    grads, lrs = [], []
    for t in range(80):
        rows = torch.unique(torch.randint(0, 30, (6,), generator=gen))
        values = torch.randn(len(rows), 4, generator=gen, dtype=torch.float64)
        opt.param_groups[0]["lr"] = _schedule(t)
        p.grad = _row_sparse(rows, values, p.shape)
        opt.step()
        grads.append((rows.numpy(), values.numpy()))
        lrs.append(_schedule(t))
    opt.flush()
    expected = _reference_lazy_adamw(init.numpy(), grads, lrs, 0.2)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_a_step_writes_only_the_touched_rows():
    """The cost of a step does not grow with the rows: untouched rows of the weight
    and its moments are not written (not even their values' storage) until flush."""
    p = torch.nn.Parameter(torch.randn(10_000, 8))
    opt = SparseAdamW([p], lr=0.01, weight_decay=0.1)
    p.grad = _row_sparse(torch.tensor([3, 7]), torch.ones(2, 8), p.shape)
    opt.step()  # creates the state
    snapshot = {k: opt.state[p][k][100:].clone() for k in ("exp_avg", "exp_avg_sq")}
    weights = p.detach()[100:].clone()
    for t in range(5):
        p.grad = _row_sparse(torch.tensor([1, 50 + t]), torch.ones(2, 8), p.shape)
        opt.step()
    np.testing.assert_array_equal(p.detach()[100:], weights)
    for key, before in snapshot.items():
        np.testing.assert_array_equal(opt.state[p][key][100:], before)
    opt.flush()
    assert not torch.equal(p.detach()[100:], weights)  # the decay, applied now


def test_dense_and_sparse_steps_mix():
    """A dense gradient (e.g. a strategy's aggregated one) flushes, then steps densely."""
    dense_at = {5, 6, 20}

    def rows_of(t):
        return torch.arange(40) if t in dense_at else torch.tensor([t % 40, (3 * t) % 40])

    gen = torch.Generator().manual_seed(2)
    a = torch.nn.Parameter(torch.randn(40, 3, generator=gen, dtype=torch.float64))
    b = torch.nn.Parameter(a.detach().clone())
    dense = torch.optim.AdamW([a], lr=0.03, weight_decay=0.2, eps=1e-12)
    lazy = SparseAdamW([b], lr=0.03, weight_decay=0.2, eps=1e-12)
    for t in range(30):
        rows = torch.unique(rows_of(t))
        values = torch.randn(len(rows), 3, generator=gen, dtype=torch.float64)
        full = torch.zeros(40, 3, dtype=torch.float64)
        full[rows] = values
        a.grad = full
        b.grad = full.clone() if t in dense_at else _row_sparse(rows, values, (40, 3))
        dense.step()
        lazy.step()
    lazy.flush()
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-10, atol=1e-12)


def test_lr_times_decay_of_one_or_more_is_applied_densely():
    (a, _), (b, lazy) = _run_pair(3, lr=0.0, weight_decay=60.0, eps=1e-12)  # lr * wd > 1
    lazy.flush()
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-9, atol=1e-12)


def test_state_dict_is_adamw_state_and_continues_exactly():
    (a, dense), (b, lazy) = _run_pair(20, lr=0.0, weight_decay=0.3, eps=1e-12)
    state = copy.deepcopy(lazy.state_dict())  # flushes (and shares the live tensors)
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-10, atol=1e-12)
    # A fresh SparseAdamW and a plain AdamW both continue from it.
    c = torch.nn.Parameter(b.detach().clone())
    again = SparseAdamW([c])
    again.load_state_dict(state)
    plain = torch.optim.AdamW([torch.nn.Parameter(b.detach().clone())])
    plain.load_state_dict(state)
    rows = torch.tensor([1, 2])
    for opt, p in ((lazy, b), (again, c)):
        p.grad = _row_sparse(rows, torch.ones(2, 3, dtype=torch.float64), (40, 3))
        opt.step()
        opt.flush()
    np.testing.assert_allclose(c.detach(), b.detach(), rtol=0, atol=1e-15)


def test_lr_scheduler_drives_the_lazy_decay():
    def run(opt_cls, grad_of):
        p = torch.nn.Parameter(torch.ones(20, 2, dtype=torch.float64))
        opt = opt_cls([p], lr=0.1, weight_decay=0.5, eps=1e-12)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1 + t))
        for t in range(10):
            p.grad = grad_of(t)
            opt.step()
            sched.step()
        if hasattr(opt, "flush"):
            opt.flush()
        return p.detach()

    rows = torch.tensor([0])
    values = torch.full((1, 2), 0.5, dtype=torch.float64)
    dense_grad = torch.zeros(20, 2, dtype=torch.float64)
    dense_grad[0] = 0.5
    a = run(torch.optim.AdamW, lambda t: dense_grad.clone())
    b = run(SparseAdamW, lambda t: _row_sparse(rows, values, (20, 2)))
    np.testing.assert_allclose(b, a, rtol=1e-12)


def test_unsupported_settings_are_refused_clearly():
    p = torch.nn.Parameter(torch.ones(5, 2))
    p.grad = _row_sparse(torch.tensor([0]), torch.ones(1, 2), (5, 2))
    with pytest.raises(RuntimeError, match="amsgrad"):
        SparseAdamW([p], amsgrad=True).step()
    with pytest.raises(ValueError, match="beta1 < beta2"):
        SparseAdamW([p], betas=(0.99, 0.9)).step()
    SparseAdamW([p], amsgrad=True, lazy_moments=True).step()  # supported lazily


# ---------------------------------------------------------------- the layer


def _csr(n_rows=64, n_features=5000, nnz=8, seed=0):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_features, n_rows * nnz)
    indptr = np.arange(0, n_rows * nnz + 1, nnz)
    X = sp.csr_matrix((rng.random(n_rows * nnz, dtype=np.float32), indices, indptr))
    X.resize(n_rows, n_features)
    X.sum_duplicates()
    return X


def test_layer_gradient_is_row_sparse_only_for_sparse_input_with_owner(sparse_gradients):
    sparse_gradients(True)
    X = _csr()
    layer = SparseAwareLinear(X.shape[1], 4)
    batch = to_batch(X, 0, 16)
    layer(batch).sum().backward()
    assert not layer.weight.grad.is_sparse  # no optimiser that takes sparse gradients
    layer.weight.grad = None
    opt = SparseAdamW(layer.parameters())  # the weight's owner while it lives
    layer(batch).sum().backward()
    grad = layer.weight.grad
    assert grad.is_sparse  # one entry per row of the batch, sorted
    np.testing.assert_array_equal(grad._indices()[0], np.unique(batch.indices))
    dense = torch.from_numpy(X[:16].toarray())
    ref = torch.nn.Parameter(layer.weight.detach().clone())
    (dense @ ref).sum().backward()
    np.testing.assert_allclose(grad.to_dense(), ref.grad, rtol=1e-6)
    layer.weight.grad = None
    layer(dense).sum().backward()
    assert not layer.weight.grad.is_sparse  # dense X: today's dense gradient
    del opt
    layer.weight.grad = None
    layer(batch).sum().backward()
    assert not layer.weight.grad.is_sparse  # the owner is gone


def test_sparse_gradients_modes(sparse_gradients):
    layer = SparseAwareLinear(AUTO_ROWS_PER_NONZERO * 10, 2)
    opt = SparseAdamW(layer.parameters())
    small = to_batch(_csr(n_rows=2, n_features=layer.in_features, nnz=5), 0, 2)  # 10 nnz
    big = to_batch(_csr(n_rows=4, n_features=layer.in_features, nnz=5), 0, 4)  # 20 nnz
    for mode, expected in (("auto", (True, False)), (True, (True, True)), (False, (False, False))):
        sparse_gradients(mode)
        for batch, sparse in zip((small, big), expected, strict=True):
            layer.weight.grad = None
            layer(batch).sum().backward()
            assert layer.weight.grad.is_sparse == sparse, (mode, batch.indices.numel())
    sparse_gradients("sometimes")
    with pytest.raises(ValueError, match="sparse_gradients"):
        layer(small)
    assert lazy_row_owner(layer.weight) is opt


def test_layer_reads_and_saves_up_to_date_weights(sparse_gradients):
    """Forward passes read the rows' up-to-date values; state_dict, eval() and a
    dense batch flush first; the weight's owner is the optimiser."""
    sparse_gradients(True)
    X = _csr(n_rows=96)
    torch.manual_seed(0)
    layers = [SparseAwareLinear(X.shape[1], 3) for _ in range(2)]
    layers[1].load_state_dict(layers[0].state_dict())
    layers[1].sparse_gradients = False  # the dense reference
    opts = [SparseAdamW(layer.parameters(), lr=0.01, weight_decay=0.5) for layer in layers]
    assert lazy_row_owner(layers[0].weight) is opts[0]
    for i in range(0, 96, 16):
        for layer, opt in zip(layers, opts, strict=True):
            opt.zero_grad()
            layer(to_batch(X, i, i + 16)).square().sum().backward()
            opt.step()
    probe = to_batch(X, 0, 32)
    np.testing.assert_allclose(  # a training forward pass reads rows up to date
        layers[0](probe).detach(), layers[1](probe).detach(), rtol=1e-4, atol=2e-5
    )
    stale = layers[0].weight.detach().clone()
    saved = layers[0].state_dict()["weight"]
    assert not torch.equal(saved, stale)
    np.testing.assert_allclose(saved, layers[1].weight.detach(), rtol=1e-4, atol=2e-5)
    for layer, opt in zip(layers, opts, strict=True):  # one more step; eval() flushes
        opt.zero_grad()
        layer(probe).square().sum().backward()
        opt.step()
    stale = layers[0].weight.detach().clone()
    layers[0].eval()
    assert not torch.equal(layers[0].weight.detach(), stale)
    np.testing.assert_allclose(layers[0].weight.detach(), layers[1].weight.detach(), atol=2e-5)


# ---------------------------------------------------------------- the estimators


@pytest.fixture
def sparse_task_data():
    X = _csr(n_rows=300, n_features=3000, nnz=12, seed=3)
    signal = np.asarray(X[:, :600].sum(axis=1)).ravel()
    other = np.asarray(X[:, 600:1500].sum(axis=1)).ravel()
    Y = np.column_stack([signal > np.median(signal), other > np.median(other)]).astype(int)
    return X, Y


def _proba(model, X) -> np.ndarray:
    """Every task's probabilities side by side."""
    out = model.predict_proba(X)
    parts = out.values() if isinstance(out, dict) else out
    return np.hstack([np.asarray(v).reshape(X.shape[0], -1) for v in parts])


_SETTINGS = {"hidden_layer_sizes": (16,), "max_epochs": 4, "batch_size": 32, "random_state": 0}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"weighting": PCGrad(on="parameters")},
        {"weighting": UPGrad(on="parameters")},
        {"weighting": MGDA(on="representation")},
        {"weighting": GradNorm()},
        {"weighting": DBMTL()},
        {"weighting": AutoLambda()},
        {"weighting": UncertaintyWeighting()},
        {"weight_averaging": 0.9},
        {"early_stopping": True, "n_iter_no_change": 2},
        {"record_gradients": True, "learning_rate": 3e-3, "weight_decay": 0.05},
    ],
    ids=lambda e: ",".join(f"{k}={type(v).__name__}" for k, v in e.items()) or "plain",
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_updates_give_the_dense_paths_model(sparse_task_data, sparse_gradients, extra):
    """Sparse X with row-sparse gradients and lazy updates gives the model of the
    dense gradient path, and of the same X dense, up to float rounding: for
    gradient strategies (per-task gradients densified), the gradient recorder,
    weight averaging, AutoLambda's virtual step and early stopping too."""
    X, Y = sparse_task_data
    fits = {}
    for name, mode, Xin in (("lazy", True, X), ("dense", False, X), ("denseX", True, X.toarray())):
        sparse_gradients(mode)
        fits[name] = MultiTaskClassifier(**_SETTINGS, **extra).fit(Xin, Y)
    # The first layer took lazy sparse steps, except where a strategy writes a dense
    # aggregate of per-task parameter gradients (on="parameters", DBMTL).
    weighting = extra.get("weighting")
    dense_aggregate = getattr(weighting, "on", None) == "parameters" or type(weighting) is DBMTL
    lazy_steps = any("lazy_clock" in s for s in fits["lazy"].optimizer_.state.values())
    assert lazy_steps != dense_aggregate
    ref = _proba(fits["dense"], X)
    for name in ("lazy", "denseX"):
        np.testing.assert_allclose(_proba(fits[name], X), ref, atol=2e-5, err_msg=name)
    if extra.get("record_gradients"):
        for name in ("lazy", "dense"):
            norms = [r["grad_norm"] for r in fits[name].history_]
            assert all(np.isfinite(v) for n in norms for v in n.values())
        np.testing.assert_allclose(
            [list(r["grad_norm"].values()) for r in fits["lazy"].history_],
            [list(r["grad_norm"].values()) for r in fits["dense"].history_],
            rtol=1e-4,
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_save_load_pickle_and_warm_start_continue_exactly(
    sparse_task_data, sparse_gradients, tmp_path
):
    sparse_gradients(True)
    X, Y = sparse_task_data
    model = MultiTaskClassifier(**_SETTINGS, warm_start=True).fit(X, Y)
    assert isinstance(model.optimizer_, SparseAdamW)
    skmtl.save(model, tmp_path / "m.safetensors")
    copies = [skmtl.load(tmp_path / "m.safetensors"), pickle.loads(pickle.dumps(model))]
    for other in copies:
        np.testing.assert_array_equal(_proba(other, X), _proba(model, X))
    model.fit(X, Y)  # continues 4 more epochs
    for other in copies:
        other.fit(X, Y)
        np.testing.assert_allclose(_proba(other, X), _proba(model, X), atol=1e-6)
    # ... and as the dense path continues
    sparse_gradients(False)
    dense = MultiTaskClassifier(**_SETTINGS, warm_start=True).fit(X, Y).fit(X, Y)
    np.testing.assert_allclose(_proba(dense, X), _proba(model, X), atol=2e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_add_tasks_with_a_frozen_sparse_trunk(sparse_task_data, sparse_gradients):
    sparse_gradients(True)
    import pandas as pd

    X, Y = sparse_task_data
    Y = pd.DataFrame({"a": Y[:, 0], "b": Y[:, 1]})
    model = MultiTaskClassifier(**_SETTINGS).fit(X, Y[["a"]])
    trunk = {k: v.clone() for k, v in model.module_.state_dict().items() if "body" in k}
    assert trunk
    model.add_tasks(X, Y[["b"]], freeze_shared=True)
    state = model.module_.state_dict()
    for key, value in trunk.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)
    assert list(model.predict(X).columns) == ["a", "b"]


def _goemotions_macro_f1(seeds, mode, monkeypatch):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from skmtl.datasets import load_goemotions

    train, test = load_goemotions(split="train"), load_goemotions(split="test")
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), dtype=np.float32)
    X_train, X_test = vec.fit_transform(train.text), vec.transform(test.text)
    tasks = ["emotion", "ekman", "sentiment"]
    monkeypatch.setattr(SparseAwareLinear, "sparse_gradients", mode)
    scores = []
    for seed in seeds:
        model = MultiTaskClassifier(hidden_layer_sizes=(256,), max_epochs=10, random_state=seed)
        pred = model.fit(X_train, train.targets[tasks]).predict(X_test)
        per_task = []
        for t in tasks:
            labels = sorted(getattr(train, f"{t}_names"))
            mlb = MultiLabelBinarizer(classes=labels).fit([labels])
            per_task.append(
                f1_score(
                    mlb.transform(test.targets[t]),
                    mlb.transform(pred[t]),
                    average="macro",
                    zero_division=0,
                )
            )
        scores.append(np.mean(per_task))
    return np.array(scores)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_goemotions_quality_within_seed_noise(monkeypatch):
    """TF-IDF GoEmotions sample, 3 seeds: the sparse-update path's mean macro-F1 is
    within the seeds' standard deviation (+ 0.005) of the dense path's."""
    seeds = (0, 1, 2)
    lazy = _goemotions_macro_f1(seeds, True, monkeypatch)
    dense = _goemotions_macro_f1(seeds, False, monkeypatch)
    noise = max(lazy.std(), dense.std())
    assert abs(lazy.mean() - dense.mean()) <= noise + 0.005, (lazy, dense)


def test_weighting_strategy_densifies_per_task_gradients():
    """task_gradient_matrix writes a row-sparse gradient into its dense row."""
    from skmtl.weighting._gradients import add_grad, task_gradient_matrix

    weight = torch.nn.Parameter(torch.randn(50, 3))
    opt = SparseAdamW([weight])  # noqa: F841 - the weight's owner while it lives
    x = to_batch(_csr(n_rows=4, n_features=50, nnz=3), 0, 4)
    layer = SparseAwareLinear(50, 3)
    layer.weight = weight
    SparseAwareLinear.sparse_gradients, saved = True, SparseAwareLinear.sparse_gradients
    try:
        out = layer(x)
    finally:
        SparseAwareLinear.sparse_gradients = saved
    losses = torch.stack([out[:, 0].sum(), out[:, 1].square().sum()])
    kept, G = task_gradient_matrix(losses, [0, 1], [weight])
    ref = [torch.autograd.grad(losses[i], weight, retain_graph=True)[0] for i in (0, 1)]
    assert ref[0].is_sparse
    np.testing.assert_allclose(G, torch.stack([r.to_dense().reshape(-1) for r in ref]))
    p = torch.nn.Parameter(torch.zeros(50, 3))
    add_grad(p, ref[0])
    add_grad(p, torch.ones(50, 3))
    assert not p.grad.is_sparse
    np.testing.assert_allclose(p.grad, ref[0].to_dense() + 1)


def test_pickled_module_and_optimizer_deepcopy(sparse_gradients):
    """The registry of lazy owners keeps nothing alive and pickles nothing."""
    sparse_gradients(True)
    layer = SparseAwareLinear(100, 2)
    opt = SparseAdamW(layer.parameters(), weight_decay=0.5)
    layer(to_batch(_csr(n_rows=4, n_features=100, nnz=3), 0, 4)).sum().backward()
    opt.step()
    buffer = io.BytesIO()
    torch.save(layer, buffer)  # the module pickles (no weakref in it)
    twin_layer, twin_opt = copy.deepcopy((layer, opt))
    assert lazy_row_owner(twin_layer.weight) is None  # until its optimiser steps
    twin_opt.flush()
    opt.flush()
    np.testing.assert_array_equal(twin_layer.weight.detach(), layer.weight.detach())
    del opt
    assert lazy_row_owner(layer.weight) is None


def test_embedding_bag_sparse_gradient_is_taken_too():
    """Any row-sparse COO gradient (here F.embedding_bag(sparse=True), uncoalesced)."""
    a = torch.nn.Parameter(torch.randn(30, 2, dtype=torch.float64))
    b = torch.nn.Parameter(a.detach().clone())
    dense, lazy = torch.optim.AdamW([a], eps=1e-12), SparseAdamW([b], eps=1e-12)
    idx, offsets = torch.tensor([1, 1, 4, 9, 4]), torch.tensor([0, 2])
    for _ in range(5):
        for p, opt, sparse in ((a, dense, False), (b, lazy, True)):
            opt.zero_grad()
            F.embedding_bag(idx, p, offsets, sparse=sparse).square().sum().backward()
            opt.step()
    lazy.flush()
    np.testing.assert_allclose(b.detach(), a.detach(), rtol=1e-10, atol=1e-12)
