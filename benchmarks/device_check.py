"""GPU check: the same multi-task fit on CPU and on CUDA, side by side in one run.

Checks that ``device="cuda"`` and ``device="auto"`` train on the GPU, that CPU
and GPU models agree, that a GPU-fitted model pickles and unpickles on a
machine without a GPU (simulated with ``CUDA_VISIBLE_DEVICES=""`` in a child
process), and times one epoch on each device. Synthetic sparse data (TF-IDF
like), so no data root is needed::

    python benchmarks/device_check.py --out benchmarks/results/device_check.json
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from skmtl import MultiTaskEstimator  # noqa: E402


def make_data(n_samples: int, n_features: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    X = sp.random(
        n_samples,
        n_features,
        density=30 / n_features,
        format="csr",
        dtype=np.float32,
        random_state=rng,
    )
    w = rng.normal(size=(n_features, 3)).astype(np.float32)
    z = np.asarray(X @ w)
    Y = pd.DataFrame(
        {
            "topic": np.digitize(z[:, 0], np.quantile(z[:, 0], [0.33, 0.66])),
            "tags": [tuple(t for t, on in zip("abc", row, strict=True) if on) for row in z > 0],
            "score": z[:, 2] * 3.0,
        }
    )
    Y.loc[::4, "score"] = np.nan  # partly labelled regression task
    return X, Y


def fit(device: str, X, Y, epochs: int):
    model = MultiTaskEstimator(
        hidden_layer_sizes=(512,),
        batch_size=256,
        max_epochs=epochs,
        learning_rate=3e-3,
        random_state=0,
        device=device,
    )
    tic = time.perf_counter()
    model.fit(X, Y)
    if model.device_.type == "cuda":
        torch.cuda.synchronize()
    return model, time.perf_counter() - tic


_CHILD = """
import pickle, sys, warnings
import torch
sys.path.insert(0, {root!r})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = pickle.load(open({path!r}, "rb"))
pred = model.predict(pickle.load(open({xpath!r}, "rb")))
print(pickle.dumps((torch.cuda.is_available(), str(model.device_), [str(w.message) for w in caught],
                    pred)).hex())
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--n-features", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/device_check.json")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA GPU visible: nothing to check")
        return 1
    X, Y = make_data(args.n_samples, args.n_features)
    X_test, Y_test = X[:5000], Y.iloc[:5000]

    cpu, cpu_s = fit("cpu", X, Y, args.epochs)
    gpu, gpu_s = fit("cuda", X, Y, args.epochs)
    auto = MultiTaskEstimator(max_epochs=1, device="auto", random_state=0).fit(X[:500], Y[:500])

    p_cpu, p_gpu = cpu.predict(X_test), gpu.predict(X_test)
    result = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "settings": vars(args),
        "auto_device": str(auto.device_),
        "gpu_module_device": str(next(gpu.module_.parameters()).device),
        "fit_seconds": {"cpu": cpu_s, "cuda": gpu_s, "cpu_over_cuda": cpu_s / gpu_s},
        "cpu_threads": torch.get_num_threads(),
        "score": {"cpu": cpu.score(X_test, Y_test), "cuda": gpu.score(X_test, Y_test)},
        "agreement": {
            "topic": float((p_cpu["topic"] == p_gpu["topic"]).mean()),
            "tags": float((p_cpu["tags"] == p_gpu["tags"]).mean()),
            "score_max_abs_diff": float(np.abs(p_cpu["score"] - p_gpu["score"]).max()),
        },
    }

    with tempfile.TemporaryDirectory() as tmp:
        path, xpath = os.path.join(tmp, "model.pkl"), os.path.join(tmp, "x.pkl")
        with open(path, "wb") as f:
            pickle.dump(gpu, f)
        with open(xpath, "wb") as f:
            pickle.dump(X_test, f)
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
        code = _CHILD.format(root=str(Path(__file__).resolve().parents[1]), path=path, xpath=xpath)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        cuda_seen, device, warns, pred = pickle.loads(bytes.fromhex(out.stdout.strip()))
    result["unpickled_without_gpu"] = {
        "child_sees_cuda": cuda_seen,
        "device": device,
        "warning": warns[:1],
        "same_predictions_as_gpu": bool(
            (pred["topic"] == p_gpu["topic"]).all()
            and (pred["tags"] == p_gpu["tags"]).all()
            and np.allclose(pred["score"], p_gpu["score"], atol=1e-4)
        ),
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    ok = (
        result["gpu_module_device"].startswith("cuda")
        and result["auto_device"].startswith("cuda")
        and result["unpickled_without_gpu"]["same_predictions_as_gpu"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
