"""Tagging benchmark: skmtl MultiTaskTagger vs. spaCy 3 on English-EWT (UPOS, XPOS, NER).

Data: UD English-EWT r2.9 (UPOS and XPOS) and Universal NER English-EWT (NER,
PER / ORG / LOC in IOB2), loaded with :func:`skmtl.datasets.load_ewt`. The models
are trained on train, selected on dev and scored on the official test split.

**NER caveat.** The official UNER train file is not available here; the NER
training tags are the pre-release UNER *draft* (first commit, "DO NOT USE";
``B-O``/``B-OTH``/``I-OTH`` mapped to ``O``; see
``uner-english-ewt/PROVENANCE.md`` in the data root). Both systems train on the
same draft and are scored on the official dev/test tags, so the NER F1 here
compares the two systems but is *not* an official UNER result.

Systems, all trained from scratch on the same gold tokens (no pretrained vectors):

* ``skmtl_mt``  -- one :class:`skmtl.estimators.MultiTaskTagger` over a
  :class:`skmtl.encoders.TextEncoder` with three heads (upos, xpos, ner); with
  ``--crf`` (default when the tagger has a ``crf`` parameter) the ner head is a CRF.
* ``skmtl_upos``, ``skmtl_xpos``, ``skmtl_ner`` -- the same hyperparameters, one task each.
* ``spacy_mt``  -- ``spacy train`` of ``spacy init config --lang en --pipeline
  tagger,morphologizer,ner --optimize efficiency`` (one CNN tok2vec shared by the
  three components through listeners; ``tagger`` predicts XPOS = ``token.tag_``,
  ``morphologizer`` predicts UPOS = ``token.pos_``; its labels are ``POS=X`` since
  the documents carry no morphological features).
* ``spacy_upos`` (morphologizer), ``spacy_xpos`` (tagger), ``spacy_ner`` (ner) --
  the same config generator with one component each.

spaCy reads the DocBins with ``gold_preproc = true`` (train and dev keep the gold
tokens, as skmtl does). Its training wall time is the wall clock of the ``spacy
train`` subprocess (start-up, initialisation and spaCy's own periodic dev evaluation
included; the ``model-best`` it keeps is the one scored on test). skmtl's is
``time.perf_counter()`` around ``fit`` (hashing the tokens included) with a fixed
epoch count chosen on dev beforehand (no early stopping, no dev evaluation).

Scores: UPOS and XPOS token accuracy; NER strict IOB2 span micro-F1 and per-type F1
(:func:`skmtl._spans.span_scores`, cross-checked against seqeval
``f1_score(mode="strict", scheme=IOB2)``). Inference speed: test words / second of
turning the test word lists into the predicted tag lists of every task (skmtl:
``predict``; spaCy: ``Doc(nlp.vocab, words=...)`` then each component's ``pipe``,
then reading ``tag_`` / ``pos_`` / the IOB tags), after one warm-up pass, best of
``--predict-repeats`` passes. Every system uses the same thread count
(``--threads``: torch threads, BLAS / OpenMP thread pools via threadpoolctl in this
process and ``OMP_NUM_THREADS`` etc. for the spaCy subprocesses).

Usage::

    .venv/bin/python benchmarks/bench_tagger_ewt.py ../shared/data
    .venv/bin/python benchmarks/bench_tagger_ewt.py ../shared/data --quick
    # one system, some runs, dev only (model exploration)
    .venv/bin/python benchmarks/bench_tagger_ewt.py ../shared/data --systems skmtl --runs mt \\
        --eval-splits dev --arch bilstm --width 256 --epochs 15 --out benchmarks/.work/x.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import machine_info

TASKS = ("upos", "xpos", "ner")
RUNS = ("mt", "upos", "xpos", "ner")
SYSTEMS = ("skmtl", "spacy")
# spaCy component predicting each task.
SPACY_COMPONENT = {"upos": "morphologizer", "xpos": "tagger", "ner": "ner"}
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
QUICK_SIZES = {"train": 800, "dev": 200, "test": 200}

TARGETS = {
    "upos_points": 1.0,  # skmtl MT UPOS accuracy >= spaCy MT + 1 point
    "ner_f1_points": 5.0,  # skmtl MT NER F1 >= spaCy MT + 5 points
    "train_time_ratio": 1.0,  # skmtl MT train wall <= spaCy MT train wall
    "wps_ratio": 1.5,  # skmtl MT predict words/s >= 1.5x spaCy MT
}

NOTES = [
    "NER training tags are the pre-release UNER draft (first commit, 'DO NOT USE'; B-O/B-OTH/I-OTH "
    "mapped to O), the same for both systems; dev/test NER tags are official UNER v1. NER scores "
    "here compare the systems; they are NOT official UNER results.",
    "UPOS/XPOS: UD English-EWT r2.9. Test = official test split.",
    "All systems train on the gold tokens (spaCy corpora use gold_preproc = true) and predict "
    "on the gold tokens of the test split.",
]


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", flush=True)


def git_state() -> dict:
    root = Path(__file__).resolve().parent.parent
    out = {}
    for key, cmd in (
        ("commit", ["git", "rev-parse", "HEAD"]),
        ("dirty_files", ["git", "status", "--porcelain", "--untracked-files=no"]),
    ):
        try:
            out[key] = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):  # pragma: no cover
            out[key] = None
    if out.get("dirty_files") is not None:
        out["dirty_files"] = out["dirty_files"].splitlines()
    return out


def tagger_machine_info(threads: int) -> dict:
    from threadpoolctl import threadpool_info

    return machine_info(
        "pandas",
        "seqeval",
        "spacy",
        "thinc",
        threads=threads,
        thread_env_spacy_subprocess=dict.fromkeys(THREAD_ENV, str(threads)),
        threadpools=[
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads")}
            for p in threadpool_info()
        ],
        git=git_state(),
    )


def load_data(root: str, quick: bool, seed: int) -> dict:
    from skmtl.datasets import load_ewt

    data = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for split in ("train", "dev", "test"):
            b = load_ewt(root, split)
            tokens, targets = b.tokens, b.targets.reset_index(drop=True)
            if quick:
                rng = np.random.RandomState(seed)
                n = min(QUICK_SIZES[split], len(tokens))
                keep = np.sort(rng.choice(len(tokens), n, replace=False))
                tokens = [tokens[i] for i in keep]
                targets = targets.iloc[keep].reset_index(drop=True)
            data[split] = {
                "tokens": tokens,
                "targets": targets,
                "ner_draft": bool(b.ner_draft),
                "n_sentences": len(tokens),
                "n_words": int(sum(len(t) for t in tokens)),
                "ner_missing": int(targets["ner"].isna().sum()),
            }
    return data


def iob_of(ent_iob: str, ent_type: str) -> str:
    return f"{ent_iob}-{ent_type}" if ent_iob in ("B", "I") else "O"


def score(tasks, gold, pred) -> dict:
    """Accuracy of upos / xpos, strict IOB2 span scores of ner (+ seqeval cross-check)."""
    from seqeval.metrics import f1_score as seqeval_f1
    from seqeval.scheme import IOB2

    from skmtl._spans import span_scores, token_accuracy

    out = {}
    for task in tasks:
        if task == "ner":
            keep = [i for i, c in enumerate(gold["ner"]) if c is not None]
            t = [list(gold["ner"][i]) for i in keep]
            p = [list(pred["ner"][i]) for i in keep]
            s = span_scores(t, p)
            s["seqeval_f1"] = float(seqeval_f1(t, p, mode="strict", scheme=IOB2))
            if abs(s["seqeval_f1"] - s["f1"]) > 1e-9:
                raise RuntimeError(f"span F1 {s['f1']} != seqeval {s['seqeval_f1']}")
            s["token_accuracy"] = token_accuracy(t, p)
            out["ner"] = s
        else:
            out[task] = {"accuracy": token_accuracy(list(gold[task]), list(pred[task]))}
    return out


def timed_predict(fn, tokens, repeats: int):
    """Run ``fn(tokens)`` once (warm-up) then ``repeats`` times; return (last output, times)."""
    fn(tokens[: min(len(tokens), 200)])
    times, out = [], None
    for _ in range(repeats):
        tic = time.perf_counter()
        out = fn(tokens)
        times.append(time.perf_counter() - tic)
    return out, times


def speed(times, n_words) -> dict:
    return {
        "predict_s": times,
        "predict_s_best": min(times),
        "predict_s_median": statistics.median(times),
        "words_per_s": n_words / min(times),
        "words_per_s_median": n_words / statistics.median(times),
    }


def run_tasks(run: str) -> list[str]:
    return list(TASKS) if run == "mt" else [run]


# --------------------------------------------------------------------------- skmtl


def crf_available() -> bool:
    from skmtl.estimators import MultiTaskTagger

    return "crf" in MultiTaskTagger().get_params()


def skmtl_params(args, tasks) -> dict:
    enc = {
        "architecture": args.arch,
        "embed_dim": args.embed_dim,
        "width": args.width,
        "depth": args.depth,
        "window": args.window,
        "char_dim": args.char_dim,
        "dropout": args.dropout,
        "n_rows": args.n_rows,
        "max_length": 256,
    }
    est = {
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "max_epochs": args.epochs,
        "early_stopping": False,
        "random_state": args.seed,
    }
    if args.crf and "ner" in tasks:
        est["crf"] = ["ner"]
    # always explicit: the tagger's default (0.999) came after the first recorded run (0)
    est["weight_averaging"] = args.weight_averaging
    if args.ner_weight != 1.0 and "ner" in tasks and len(tasks) > 1:
        est["task_weights"] = {"ner": args.ner_weight}
    return {"encoder": enc, "estimator": est}


def warm_up_skmtl() -> None:
    """One tiny fit, so that one-off imports (AdamW imports torch._dynamo, ~2 s) and the
    blank spaCy tokenizer are not charged to the first timed fit."""
    from skmtl.encoders import TextEncoder
    from skmtl.estimators import MultiTaskTagger

    X = [["I", "like", "Paris"], ["You", "run"]]
    Y = {"a": [["X", "Y", "Z"], ["X", "Y"]]}
    MultiTaskTagger(TextEncoder(width=8, embed_dim=4, depth=1), max_epochs=1).fit(X, Y).predict(X)


def skmtl_run(run: str, args, data) -> dict:
    from skmtl.encoders import TextEncoder
    from skmtl.estimators import MultiTaskTagger

    tasks = run_tasks(run)
    params = skmtl_params(args, tasks)
    est = MultiTaskTagger(encoder=TextEncoder(**params["encoder"]), **params["estimator"])
    train = data["train"]
    log(f"skmtl {run}: fit {params}")
    tic, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(train["tokens"], train["targets"][tasks])
    fit_s, fit_cpu = time.perf_counter() - tic, time.process_time() - cpu
    res = {
        "system": "skmtl",
        "run": run,
        "tasks": tasks,
        "params": params,
        "train_wall_s": fit_s,
        "train_cpu_s": fit_cpu,
        "n_epochs": int(est.n_iter_),
        "epoch_s": [float(h["dur"]) for h in est.history_],
        "train_loss": [float(h["train_loss"]) for h in est.history_],
        "scores": {},
    }
    log(f"skmtl {run}: fit {fit_s:.1f} s ({est.n_iter_} epochs)")

    def predict(tokens):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return est.predict(tokens)

    for split in args.eval_splits:
        d = data[split]
        if split == "test":
            pred, times = timed_predict(predict, d["tokens"], args.predict_repeats)
            res["speed"] = speed(times, d["n_words"])
        else:
            pred = predict(d["tokens"])
        res["scores"][split] = score(tasks, d["targets"], pred)
        log(f"skmtl {run} {split}: {brief(res['scores'][split])}")
    if "speed" in res:
        log(f"skmtl {run}: {res['speed']['words_per_s']:.0f} words/s")
    return res


# --------------------------------------------------------------------------- spaCy


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def spacy_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(dict.fromkeys(THREAD_ENV, str(threads)))
    return env


def make_docbins(data, work: Path) -> dict:
    """One DocBin per split with words, tags (XPOS), pos (UPOS) and ents (NER IOB2)."""
    import spacy
    from spacy.tokens import Doc, DocBin

    nlp = spacy.blank("en")
    paths = {}
    for split in ("train", "dev"):
        d = data[split]
        db = DocBin(store_user_data=False)
        T = d["targets"]
        for words, upos, xpos, ner in zip(d["tokens"], T["upos"], T["xpos"], T["ner"], strict=True):
            db.add(
                Doc(
                    nlp.vocab,
                    words=list(words),
                    tags=list(xpos),
                    pos=list(upos),
                    ents=list(ner) if ner is not None else None,
                )
            )
        path = work / f"{split}.spacy"
        db.to_disk(path)
        paths[split] = path
    return paths


def spacy_init_config(
    path: Path, components: str, threads: int, optimize="efficiency", gpu=False, python=None
) -> Path:
    """``spacy init config`` for English with ``components`` (comma-separated) at ``path``;
    ``gpu``: the transformer variant (``--gpu``)."""
    cmd = [python or sys.executable, "-m", "spacy", "init", "config", "--lang", "en"]
    cmd += ["--pipeline", components, "--optimize", optimize, *(["--gpu"] if gpu else [])]
    subprocess.run(
        [*cmd, "--force", str(path)], check=True, capture_output=True, env=spacy_env(threads)
    )
    return path


def spacy_config(run: str, work: Path, threads: int) -> Path:
    components = ",".join(SPACY_COMPONENT[t] for t in run_tasks(run))
    return spacy_init_config(work / f"spacy_{run}.cfg", components, threads)


def parse_spacy_log(text: str, max_epochs: int = 0, max_steps: int = 0) -> dict:
    """Last epoch / step of spaCy's console table, the best (rounded) weighted dev score,
    the evaluation steps that reached it, and what stopped the training."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[0].isdigit() and parts[1].isdigit():
            try:
                rows.append((int(parts[0]), int(parts[1]), float(parts[-1])))
            except ValueError:
                continue
    if not rows:
        return {}
    best = max(r[2] for r in rows)
    epoch, step = rows[-1][0], rows[-1][1]
    if max_epochs and epoch + 1 >= max_epochs:
        stopped_by = "max_epochs"
    elif max_steps and step >= max_steps:
        stopped_by = "max_steps"
    else:
        stopped_by = "patience"
    return {
        "last_epoch": epoch,
        "last_step": step,
        "n_evals": len(rows),
        # spaCy prints the score with 2 decimals: model-best is one of these steps
        "best_dev_score": best,
        "best_score_steps": [r[1] for r in rows if r[2] == best],
        "stopped_by": stopped_by,
    }


def model_best_dev(meta: dict, tasks) -> dict:
    """The dev scores spaCy recorded for its model-best (meta.json), for the run's tasks."""
    perf = meta.get("performance", {})
    keys = {"upos": "pos_acc", "xpos": "tag_acc", "ner": "ents_f"}
    return {keys[t]: perf[keys[t]] for t in tasks if perf.get(keys[t]) is not None}


def spacy_overrides(args) -> list[str]:
    out = [
        "--corpora.train.gold_preproc",
        "true",
        "--corpora.dev.gold_preproc",
        "true",
        "--system.seed",
        str(args.seed),
        "--training.max_epochs",
        str(args.spacy_max_epochs),
        "--training.max_steps",
        str(args.spacy_max_steps),
        "--training.patience",
        str(args.spacy_patience),
        "--training.eval_frequency",
        str(args.spacy_eval_frequency),
    ]
    return out


def spacy_train_cmd(cfg: Path, docbins: dict, out_dir: Path, overrides, python=None) -> list:
    """``python -m spacy train`` on the train / dev DocBins, with config overrides."""
    return [
        python or sys.executable,
        "-m",
        "spacy",
        "train",
        str(cfg),
        "--paths.train",
        str(docbins["train"]),
        "--paths.dev",
        str(docbins["dev"]),
        "--output",
        str(out_dir),
        *overrides,
    ]


def spacy_run(run: str, args, data, work: Path, docbins: dict) -> dict:
    import spacy
    from spacy.tokens import Doc

    tasks = run_tasks(run)
    cfg = spacy_config(run, work, args.threads)
    out_dir = work / f"spacy_{run}"
    cmd = spacy_train_cmd(cfg, docbins, out_dir, spacy_overrides(args))
    log(f"spacy {run}: {' '.join(cmd[1:])}")
    tic, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=spacy_env(args.threads))
    train_s, train_cpu = time.perf_counter() - tic, children_cpu() - cpu
    (work / f"spacy_{run}.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode:
        raise RuntimeError(f"spacy train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    info = parse_spacy_log(proc.stdout, args.spacy_max_epochs, args.spacy_max_steps)
    log(f"spacy {run}: train {train_s:.1f} s {info}")
    nlp = spacy.load(out_dir / "model-best")
    info["model_best_dev"] = model_best_dev(nlp.meta, tasks)
    res = {
        "system": "spacy",
        "run": run,
        "tasks": tasks,
        "params": {
            "config": f"spacy init config --lang en --pipeline "
            f"{','.join(SPACY_COMPONENT[t] for t in tasks)} --optimize efficiency",
            "overrides": spacy_overrides(args),
            "pipeline": nlp.pipe_names,
            "model": "model-best",
            "pipe_batch_size": args.spacy_batch_size,
        },
        "train_wall_s": train_s,
        "train_cpu_s": train_cpu,
        "training_log": info,
        "scores": {},
    }

    def predict(sentences):
        docs = (Doc(nlp.vocab, words=list(w)) for w in sentences)
        for _, proc_ in nlp.pipeline:
            docs = proc_.pipe(docs, batch_size=args.spacy_batch_size)
        out = {t: [] for t in tasks}
        for doc in docs:
            if "upos" in out:
                out["upos"].append([t.pos_ for t in doc])
            if "xpos" in out:
                out["xpos"].append([t.tag_ for t in doc])
            if "ner" in out:
                out["ner"].append([iob_of(t.ent_iob_, t.ent_type_) for t in doc])
        return out

    for split in args.eval_splits:
        d = data[split]
        if split == "test":
            pred, times = timed_predict(predict, d["tokens"], args.predict_repeats)
            res["speed"] = speed(times, d["n_words"])
        else:
            pred = predict(d["tokens"])
        res["scores"][split] = score(tasks, d["targets"], pred)
        log(f"spacy {run} {split}: {brief(res['scores'][split])}")
    if "speed" in res:
        log(f"spacy {run}: {res['speed']['words_per_s']:.0f} words/s")
    return res


def spacy_epoch_probe(args, work: Path, docbins: dict) -> dict:
    """Wall time of one epoch of the spaCy multi-task pipeline (max_epochs=1)."""
    cfg = spacy_config("mt", work, args.threads)
    out_dir = work / "spacy_probe"
    over = spacy_overrides(args)
    i = over.index("--training.max_epochs")
    over[i + 1] = "1"
    cmd = spacy_train_cmd(cfg, docbins, out_dir, over)
    tic = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=spacy_env(args.threads))
    wall = time.perf_counter() - tic
    (work / "spacy_probe.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    return {"wall_s": wall, "returncode": proc.returncode, **parse_spacy_log(proc.stdout, 1)}


# --------------------------------------------------------------------------- report


def brief(scores: dict) -> str:
    parts = []
    for task, s in scores.items():
        value = s["f1"] if task == "ner" else s["accuracy"]
        parts.append(f"{task} {value:.4f}")
    return ", ".join(parts)


def main_score(res: dict, task: str, split: str = "test"):
    s = res.get("scores", {}).get(split, {}).get(task)
    if s is None:
        return None
    return s["f1"] if task == "ner" else s["accuracy"]


def targets(result: dict) -> dict:
    runs = result["results"]
    sk, sp = runs.get("skmtl_mt"), runs.get("spacy_mt")
    out = {}
    if sk and sp and "test" in sk["scores"] and "test" in sp["scores"]:
        d_upos = 100 * (main_score(sk, "upos") - main_score(sp, "upos"))
        d_ner = 100 * (main_score(sk, "ner") - main_score(sp, "ner"))
        t_ratio = sk["train_wall_s"] / sp["train_wall_s"]
        w_ratio = sk["speed"]["words_per_s"] / sp["speed"]["words_per_s"]
        out = {
            "upos_points": {
                "value": d_upos,
                "target": f">= {TARGETS['upos_points']}",
                "margin": d_upos - TARGETS["upos_points"],
                "met": d_upos >= TARGETS["upos_points"],
            },
            "ner_f1_points": {
                "value": d_ner,
                "target": f">= {TARGETS['ner_f1_points']}",
                "margin": d_ner - TARGETS["ner_f1_points"],
                "met": d_ner >= TARGETS["ner_f1_points"],
            },
            "train_time_ratio": {
                "value": t_ratio,
                "target": f"<= {TARGETS['train_time_ratio']}",
                "margin": TARGETS["train_time_ratio"] - t_ratio,
                "met": t_ratio <= TARGETS["train_time_ratio"],
            },
            "wps_ratio": {
                "value": w_ratio,
                "target": f">= {TARGETS['wps_ratio']}",
                "margin": w_ratio - TARGETS["wps_ratio"],
                "met": w_ratio >= TARGETS["wps_ratio"],
            },
        }
    return out


def mt_gains(result: dict) -> dict:
    """Per system and task: multi-task score minus single-task score (test, points)."""
    runs = result["results"]
    out = {}
    for system in SYSTEMS:
        mt = runs.get(f"{system}_mt")
        if not mt or "test" not in mt["scores"]:
            continue
        for task in TASKS:
            st = runs.get(f"{system}_{task}")
            if not st or "test" not in st["scores"]:
                continue
            gain = 100 * (main_score(mt, task) - main_score(st, task))
            out.setdefault(system, {})[task] = {
                "mt": main_score(mt, task),
                "st": main_score(st, task),
                "gain_points": gain,
                "verdict": "helped" if gain > 0 else ("hurt" if gain < 0 else "same"),
            }
    return out


def fmt(x, digits=2, scale=100.0) -> str:
    return "" if x is None else f"{scale * x:.{digits}f}"


def markdown(result: dict) -> str:
    runs = result["results"]
    split = "test"
    lines = [
        "# Tagging benchmark: English-EWT (UPOS, XPOS, NER), skmtl vs. spaCy",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Machine: {result['machine'].get('cpu_model')}, {result['machine']['cpu_count']} CPUs, "
        f"{result['threads']} thread(s) for every system; load average "
        f"{', '.join(f'{x:.2f}' for x in result['loadavg_start'])} at start, "
        f"{', '.join(f'{x:.2f}' for x in result.get('loadavg_end', []))} at end. "
        f"torch {result['machine']['torch']}, spaCy {result['machine']['spacy']}, "
        f"skmtl {result['machine']['skmtl']}.",
        "",
        "**NER is trained on the pre-release UNER train draft** (both systems; dev/test tags are "
        "official UNER v1): the NER F1 below compares the systems and is *not* an official UNER "
        "result.",
        "",
    ]
    if result.get("quick"):
        lines += ["**Quick smoke run** (small subsets, few epochs): numbers are meaningless.", ""]
    lines += [
        f"Scores on the {split} split ({result['data'][split]['n_sentences']} sentences, "
        f"{result['data'][split]['n_words']} words). Accuracy and F1 in %. NER F1 = strict IOB2 "
        "span micro-F1. Words/s = best of "
        f"{result['predict_repeats']} passes over the test words.",
        "",
        "| system | UPOS acc | XPOS acc | NER F1 | PER F1 | ORG F1 | LOC F1 | train wall s "
        "| predict words/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in [f"{s}_{r}" for s in SYSTEMS for r in RUNS]:
        res = runs.get(key)
        if not res or split not in res.get("scores", {}):
            continue
        sc = res["scores"][split]
        per = sc.get("ner", {}).get("per_type", {})
        label = f"{res['system']} {'multi-task' if res['run'] == 'mt' else 'single-task'}"
        label += f" ({', '.join(res['tasks'])})"
        lines.append(
            f"| {label} | {fmt(main_score(res, 'upos'))} | {fmt(main_score(res, 'xpos'))} | "
            f"{fmt(main_score(res, 'ner'))} | {fmt(per.get('PER', {}).get('f1'))} | "
            f"{fmt(per.get('ORG', {}).get('f1'))} | {fmt(per.get('LOC', {}).get('f1'))} | "
            f"{res['train_wall_s']:.0f} | "
            f"{res.get('speed', {}).get('words_per_s', float('nan')):,.0f} |"
        )
    sk_st = [runs[f"skmtl_{t}"]["train_wall_s"] for t in TASKS if f"skmtl_{t}" in runs]
    sp_st = [runs[f"spacy_{t}"]["train_wall_s"] for t in TASKS if f"spacy_{t}" in runs]
    if len(sk_st) == 3 or len(sp_st) == 3:
        lines += [""]
        if len(sk_st) == 3:
            lines.append(f"Sum of the three single-task train times: skmtl {sum(sk_st):.0f} s.")
        if len(sp_st) == 3:
            lines.append(f"Sum of the three single-task train times: spaCy {sum(sp_st):.0f} s.")
    tg = result.get("targets") or {}
    if tg:
        lines += [
            "",
            "## Targets (skmtl multi-task vs. spaCy multi-task, test)",
            "",
            "| target | value | required | margin | met |",
            "|---|---:|---|---:|---|",
        ]
        names = {
            "upos_points": "UPOS accuracy gain (points)",
            "ner_f1_points": "NER F1 gain (points)",
            "train_time_ratio": "train wall time ratio skmtl / spaCy",
            "wps_ratio": "predict words/s ratio skmtl / spaCy",
        }
        for k, v in tg.items():
            value = f"{v['value']:+.2f}" if k.endswith("points") else f"{v['value']:.2f}x"
            lines.append(
                f"| {names[k]} | {value} | {v['target']} | {v['margin']:+.2f} | "
                f"{'yes' if v['met'] else 'NO'} |"
            )
    gains = result.get("mt_gains") or {}
    if gains:
        lines += [
            "",
            "## Multi-task vs. single-task (test, points; + = multi-task helped)",
            "",
            "| system | UPOS | XPOS | NER F1 |",
            "|---|---:|---:|---:|",
        ]
        for system, g in gains.items():
            cells = [
                f"{g[t]['gain_points']:+.2f} ({g[t]['verdict']})" if t in g else "" for t in TASKS
            ]
            lines.append(f"| {system} | {' | '.join(cells)} |")
        lines += [
            "",
            "One seed per run. For scale: the binomial standard error of a test accuracy near 94% "
            "over 25k words is about 0.15 points, and of an F1 near 60% over ~1,100 entities "
            "about 1.5 points; gains smaller than that are noise.",
        ]
    dev_rows = [
        (k, r) for k, r in runs.items() if "dev" in r.get("scores", {}) and r["scores"]["dev"]
    ]
    if dev_rows:
        lines += ["", "## Dev split", "", "| run | UPOS | XPOS | NER F1 |", "|---|---:|---:|---:|"]
        for k, r in dev_rows:
            lines.append(
                f"| {k} | {fmt(main_score(r, 'upos', 'dev'))} | "
                f"{fmt(main_score(r, 'xpos', 'dev'))} | {fmt(main_score(r, 'ner', 'dev'))} |"
            )
    lines += ["", "## Settings", ""]
    sk = next((r for k, r in runs.items() if k.startswith("skmtl")), None)
    if sk:
        lines.append(f"- skmtl (every skmtl run; crf only where ner is a task): `{sk['params']}`")
        lines.append(f"- skmtl `crf` parameter available: {result.get('crf_available')}")
    sp = next((r for k, r in runs.items() if k.startswith("spacy")), None)
    if sp:
        lines.append(f"- spaCy overrides: `{' '.join(sp['params']['overrides'])}`")
        for k, r in runs.items():
            if k.startswith("spacy"):
                lines.append(f"- {k}: {r['params']['pipeline']}, training log {r['training_log']}")
    if result.get("spacy_probe"):
        lines.append(f"- spaCy one-epoch probe (multi-task): {result['spacy_probe']}")
    for note in result.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def rewrite_report(out: Path, work: Path) -> None:
    """Re-derive the spaCy training summaries from the saved logs; rewrite targets and .md."""
    result = json.loads(out.read_text())
    a = result["args"]
    for res in result["results"].values():
        if res["system"] != "spacy":
            continue
        logfile = work / f"spacy_{res['run']}.log"
        if logfile.exists():
            info = parse_spacy_log(logfile.read_text(), a["spacy_max_epochs"], a["spacy_max_steps"])
            meta = work / f"spacy_{res['run']}" / "model-best" / "meta.json"
            if meta.exists():
                info["model_best_dev"] = model_best_dev(json.loads(meta.read_text()), res["tasks"])
            res["training_log"] = info
    result["targets"] = targets(result)
    result["mt_gains"] = mt_gains(result)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    log(f"rewrote {out} and {out.with_suffix('.md')}")


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_root", help="directory holding ud-english-ewt/ and uner-english-ewt/")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma list of skmtl, spacy")
    p.add_argument("--runs", default=",".join(RUNS), help="comma list of mt, upos, xpos, ner")
    p.add_argument("--eval-splits", default="dev,test", help="comma list of dev, test")
    g = p.add_argument_group("skmtl")
    g.add_argument("--arch", choices=("cnn", "bilstm", "transformer"), default="cnn")
    g.add_argument("--embed-dim", type=int, default=96)
    g.add_argument("--width", type=int, default=128)
    g.add_argument("--depth", type=int, default=2)
    g.add_argument("--window", type=int, default=1)
    g.add_argument("--char-dim", type=int, default=16)
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--n-rows", type=int, default=5000)
    g.add_argument("--lr", type=float, default=2e-3)
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--epochs", type=int, default=10)
    g.add_argument(
        "--weight-averaging",
        type=float,
        default=0.0,
        help="MultiTaskTagger(weight_averaging=...): EMA decay of the weights (default 0: "
        "off, as in the first recorded run; the tagger's own default is 0.999)",
    )
    g.add_argument(
        "--ner-weight",
        type=float,
        default=1.0,
        help="task weight of ner in the multi-task model (the others keep 1)",
    )
    g.add_argument(
        "--crf",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CRF head for ner (default: on when MultiTaskTagger has a crf parameter)",
    )
    g = p.add_argument_group("spaCy")
    g.add_argument(
        "--spacy-max-epochs",
        type=int,
        default=15,
        help="cap on spaCy's epochs (0: none, the default config; its max_steps=20000 "
        "is ~80 epochs, over an hour per pipeline on 2 cores)",
    )
    g.add_argument("--spacy-max-steps", type=int, default=20000)
    g.add_argument("--spacy-patience", type=int, default=1600)
    g.add_argument("--spacy-eval-frequency", type=int, default=200)
    g.add_argument("--spacy-batch-size", type=int, default=1000, help="pipe batch size")
    g.add_argument(
        "--spacy-probe",
        action="store_true",
        help="first time one epoch of the spaCy multi-task pipeline (recorded in the JSON)",
    )
    p.add_argument("--threads", type=int, default=1, help="threads of every system")
    p.add_argument("--predict-repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small subsets, 2 epochs (smoke run)")
    p.add_argument("--work-dir", default="benchmarks/.work/tagger_ewt")
    p.add_argument("--out", default=None, help="result JSON (default results/tagger_ewt.json)")
    p.add_argument(
        "--resume", action="store_true", help="keep the finished runs of an existing result JSON"
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the .md (and the spaCy training summaries, from the logs in --work-dir) "
        "of an existing result JSON; trains nothing",
    )
    args = p.parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    runs = [r for r in args.runs.split(",") if r]
    args.eval_splits = [s for s in args.eval_splits.split(",") if s]
    if set(systems) - set(SYSTEMS) or set(runs) - set(RUNS):
        p.error("unknown system or run")
    if set(args.eval_splits) - {"dev", "test"}:
        p.error("--eval-splits: dev, test")
    has_crf = crf_available()
    if args.crf is None:
        args.crf = has_crf
    if args.crf and not has_crf:
        p.error("--crf: this MultiTaskTagger has no crf parameter")
    if args.quick:
        args.epochs = min(args.epochs, 2)
        args.spacy_max_epochs = 1
        args.spacy_eval_frequency = 20
        args.spacy_max_steps = 200
    suffix = "_quick" if args.quick else ""
    out = Path(args.out or f"benchmarks/results/tagger_ewt{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(args.work_dir + suffix)
    work.mkdir(parents=True, exist_ok=True)

    if args.report_only:
        rewrite_report(out, work)
        return 0

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.threads)
    torch.set_num_threads(args.threads)
    os.environ.update(dict.fromkeys(THREAD_ENV, str(args.threads)))

    t0 = time.perf_counter()
    log(f"loading data from {args.data_root}")
    data = load_data(args.data_root, args.quick, args.seed)
    result = {
        "benchmark": "tagger_ewt",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": tagger_machine_info(args.threads),
        "threads": args.threads,
        "loadavg_start": list(os.getloadavg()),
        "quick": args.quick,
        "predict_repeats": args.predict_repeats,
        "crf_available": has_crf,
        "args": {k: v for k, v in vars(args).items()},
        "data": {
            s: {k: v for k, v in d.items() if k not in ("tokens", "targets")}
            for s, d in data.items()
        },
        "notes": NOTES,
        "targets_spec": TARGETS,
        "results": {},
        "complete": False,
    }
    if args.resume and out.exists():
        old = json.loads(out.read_text())
        result["results"] = old.get("results", {})
        result["loadavg_start"] = old.get("loadavg_start", result["loadavg_start"])
        result["spacy_probe"] = old.get("spacy_probe")
        result["previous_commands"] = [*old.get("previous_commands", []), old.get("command")]

    def save():
        result["loadavg_end"] = list(os.getloadavg())
        result["total_wall_s"] = time.perf_counter() - t0
        result["targets"] = targets(result)
        result["mt_gains"] = mt_gains(result)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        out.with_suffix(".md").write_text(markdown(result))

    if "skmtl" in systems:
        warm_up_skmtl()
        for run in runs:
            key = f"skmtl_{run}"
            if key in result["results"]:
                log(f"{key}: kept from {out}")
                continue
            result["results"][key] = skmtl_run(run, args, data)
            save()
    if "spacy" in systems:
        docbins = make_docbins(data, work)
        if args.spacy_probe:
            result["spacy_probe"] = spacy_epoch_probe(args, work, docbins)
            log(f"spacy one-epoch probe: {result['spacy_probe']}")
            save()
        for run in runs:
            key = f"spacy_{run}"
            if key in result["results"]:
                log(f"{key}: kept from {out}")
                continue
            result["results"][key] = spacy_run(run, args, data, work, docbins)
            save()
    result["complete"] = True
    save()
    log(f"wrote {out} and {out.with_suffix('.md')} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
