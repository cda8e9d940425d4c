"""Cost of the spaCy component: a MultiTaskTagger inside ``nlp.pipe`` vs. its own ``predict``.

A :class:`skmtl.MultiTaskTagger` (UPOS + NER, the NER head a CRF) is fitted on
English-EWT train (UD r2.9 UPOS, Universal NER tags joined by
:func:`skmtl.datasets.load_ewt`; ``--train-rows`` random sentences), saved with
:func:`skmtl.save` and added to ``spacy.blank("en")`` with
``nlp.add_pipe("skmtl", config={"model": path})``. On the official EWT test split
it measures, in one run, after one warm-up pass each, best of ``--repeats`` passes
timed in interleaved rounds (a, b, ..., c, then again), so that a busy spell of a
shared machine hits every measurement alike:

(a) ``model.predict(tokens)``: the test word lists to tag lists (UPOS, NER IOB2);
(b) ``list(nlp.pipe(docs, batch_size=...))`` where ``docs`` are
    ``Doc(nlp.vocab, words=tokens)`` built *before* the clock starts (fresh Docs for
    every pass), so tokenization is excluded: the component reads ``token.text``,
    runs the model once per batch and writes ``token.pos_`` and ``doc.ents``;
(b') the same with the Docs built inside the timed region (``Doc(...)`` per sentence);
(c) ``list(nlp.pipe(texts))`` over the raw sentence texts (``# text =`` of the
    CoNLL-U file), the blank English tokenizer included (extra information: its
    tokens differ from the gold words, so the model sees other input).

(b0) as (b) at the main batch size with ``token_budget=None``: the network's forward
    passes in ``model.predict``'s chunks of 256 length-sorted sentences instead of the
    component's chunks of at most 2,048 padded tokens (what the component did first).

Words/s = gold test words / seconds (for (c) too: the same sentences), by the wall
clock and by the process CPU time (one thread: the work done, less disturbed by
other processes). The
goal: words/s of (b) >= 0.8 x words/s of (a) (the component costs at most 20 %).
The run also checks that (b) writes exactly what (a) predicts (``pos_`` = UPOS,
``doc.ents`` = the strict IOB2 spans of NER) and times the component's own
parts over the batches of (b): ``predict`` (reading the Docs + the model) and
``set_annotations``.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_spacy_component.py ../shared/data
    # smoke run (small subsets, 1 epoch)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_spacy_component.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import NER_DRAFT_NOTE, machine_info

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("upos", "ner")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
TARGET_RATIO = 0.8  # words/s of nlp.pipe(docs) >= 0.8 x words/s of model.predict


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", flush=True)


def git_state() -> dict:
    out = {}
    for key, cmd in (
        ("commit", ["git", "rev-parse", "HEAD"]),
        ("dirty_files", ["git", "status", "--porcelain", "--untracked-files=no"]),
    ):
        try:
            out[key] = subprocess.run(
                cmd, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):  # pragma: no cover
            out[key] = None
    if out.get("dirty_files") is not None:
        out["dirty_files"] = out["dirty_files"].splitlines()
    return out


# --------------------------------------------------------------------------- data


def sentence_texts(root: str, split: str, ud_version: str = "r2.9") -> dict[str, str]:
    """``{sent_id: text}`` from the ``# text =`` comments of the UD CoNLL-U file."""
    from skmtl.datasets._conll import _existing, _read_lines

    path = _existing(Path(root) / "ud-english-ewt" / ud_version / f"en_ewt-ud-{split}.conllu")
    texts, sid = {}, None
    for line in _read_lines(path):
        if line.startswith("# sent_id"):
            sid = line.split("=", 1)[1].strip()
        elif line.startswith("# text") and sid is not None and "=" in line:
            texts[sid] = line.split("=", 1)[1].strip()
    return texts


def load_data(root: str | None, train_rows: int, test_rows: int | None, seed: int) -> dict:
    from skmtl.datasets import load_ewt

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for split, size in (("train", train_rows), ("test", test_rows)):
            b = load_ewt(root, split=split, tasks=TASKS)
            n_available = len(b.tokens)
            keep = np.arange(n_available)
            if size and size < n_available:
                keep = np.sort(np.random.RandomState(seed).choice(n_available, size, replace=False))
            tokens = [b.tokens[i] for i in keep]
            targets = b.targets.iloc[keep].reset_index(drop=True)
            sent_ids = [b.sent_ids[i] for i in keep]
            out[split] = {
                "tokens": tokens,
                "targets": targets,
                "sent_ids": sent_ids,
                "n_available": n_available,
                "n_sentences": len(tokens),
                "n_words": int(sum(map(len, tokens))),
                "ner_draft": bool(b.ner_draft),
            }
    test = out["test"]
    texts = sentence_texts(root, "test") if root is not None else {}
    pairs = zip(test["sent_ids"], test["tokens"], strict=True)
    test["texts"] = [texts.get(s) or " ".join(w) for s, w in pairs]
    test["texts_from_conllu"] = sum(s in texts for s in test["sent_ids"])
    return out


# --------------------------------------------------------------------------- timing


def speed(times: dict, n_words: int) -> dict:
    wall, cpu = times["wall"], times["cpu"]
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "seconds_best": min(wall),
        "seconds_median": statistics.median(wall),
        "words_per_s": n_words / min(wall),
        "words_per_s_median": n_words / statistics.median(wall),
        "cpu_words_per_s": n_words / min(cpu),
    }


def component_parts(component, docs, batch_size: int) -> dict:
    """Seconds of the component's predict (Docs read + model) and set_annotations."""
    from spacy.util import minibatch

    t_predict = t_set = 0.0
    for batch in minibatch(docs, size=batch_size):
        tic = time.perf_counter()
        pred = component.predict(batch)
        t_predict += time.perf_counter() - tic
        tic = time.perf_counter()
        component.set_annotations(batch, pred)
        t_set += time.perf_counter() - tic
    return {"predict_s": t_predict, "set_annotations_s": t_set}


# --------------------------------------------------------------------------- main


def run(args) -> dict:
    import spacy
    from spacy.tokens import Doc

    import skmtl
    from skmtl._spans import span_scores, spans, token_accuracy
    from skmtl.encoders import TextEncoder
    from skmtl.integrations import SkmtlComponent

    log(f"loading EWT from {args.data_root}")
    data = load_data(args.data_root, args.train_rows, args.test_rows, args.seed)
    train, test = data["train"], data["test"]
    log(
        f"train {train['n_sentences']} / {train['n_available']} sentences, test "
        f"{test['n_sentences']} sentences ({test['n_words']} words)"
    )
    encoder = {
        "architecture": "cnn",
        "embed_dim": args.embed_dim,
        "width": args.width,
        "depth": args.depth,
        "char_dim": 16,
        "dropout": 0.1,
        "max_length": 256,
    }
    estimator = {
        "crf": ["ner"],
        "max_epochs": args.epochs,
        "batch_size": 32,
        "random_state": args.seed,
    }
    model = skmtl.MultiTaskTagger(TextEncoder(**encoder), **estimator)
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train["tokens"], train["targets"][list(TASKS)])
    fit_s = time.perf_counter() - tic
    log(f"fit {fit_s:.1f} s")

    tmp = tempfile.mkdtemp(prefix="bench_spacy_component_")
    path = os.path.join(tmp, "tagger.safetensors")
    skmtl.save(model, path)
    nlp = spacy.blank("en")
    component = nlp.add_pipe("skmtl", config={"model": path})
    log(f"component targets {component.targets}")

    tokens, n_words = test["tokens"], test["n_words"]

    def predict(_):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.predict(tokens)

    def fresh_docs():
        return [Doc(nlp.vocab, words=list(w)) for w in tokens]

    def pipe_docs(docs, batch_size):
        return list(nlp.pipe(docs, batch_size=batch_size))

    main_bs = args.batch_sizes[-1] if 1000 not in args.batch_sizes else 1000
    texts = test["texts"]

    def model_chunks(docs):
        component.token_budget = None  # the model's own forward chunks (256 sentences)
        try:
            return pipe_docs(docs, main_bs)
        finally:
            component.token_budget = SkmtlComponent.token_budget

    def build_and_pipe(_):
        return list(nlp.pipe((Doc(nlp.vocab, words=list(w)) for w in tokens), batch_size=main_bs))

    # (key, label, function, argument maker, batch size); timed in interleaved rounds, so
    # that a busy spell of a shared machine hits every measurement alike
    cases = [("a_model_predict", "(a) model.predict", predict, None, None)]
    cases += [
        (f"b_pipe_docs_bs{bs}", f"(b) nlp.pipe(docs, batch_size={bs})", pipe, fresh_docs, bs)
        for bs, pipe in ((bs, lambda d, bs=bs: pipe_docs(d, bs)) for bs in args.batch_sizes)
    ]
    cases += [
        (
            "b0_pipe_docs_model_chunks",
            "(b0) nlp.pipe(docs), predict's chunks",
            model_chunks,
            fresh_docs,
            main_bs,
        ),
        ("b2_build_docs_and_pipe", "(b') Doc(...) + nlp.pipe", build_and_pipe, None, main_bs),
        (
            "c_pipe_raw_texts",
            "(c) nlp.pipe(texts)",
            lambda _: list(nlp.pipe(texts, batch_size=main_bs)),
            None,
            main_bs,
        ),
    ]
    outputs, times = {}, {key: {"wall": [], "cpu": []} for key, *_ in cases}
    for _, _, fn, prepare, _ in cases:  # warm-up
        fn(prepare() if prepare else None)
    for r in range(args.repeats):
        for key, _, fn, prepare, _ in cases:
            arg = prepare() if prepare else None
            tic, cpu0 = time.perf_counter(), time.process_time()
            outputs[key] = fn(arg)
            times[key]["wall"].append(time.perf_counter() - tic)
            times[key]["cpu"].append(time.process_time() - cpu0)
        log(f"round {r + 1}/{args.repeats} done")
    results = {}
    for key, label, _, _, bs in cases:
        results[key] = ({"batch_size": bs} if bs else {}) | speed(times[key], n_words)
        log(
            f"{label}: {results[key]['words_per_s']:,.0f} words/s "
            f"(CPU time: {results[key]['cpu_words_per_s']:,.0f})"
        )
    pred = outputs["a_model_predict"]
    results["c_pipe_raw_texts"]["n_spacy_tokens"] = int(
        sum(len(d) for d in outputs["c_pipe_raw_texts"])
    )

    # the component writes what predict predicts
    docs = pipe_docs(fresh_docs(), main_bs)
    upos, ner = list(pred["upos"]), list(pred["ner"])
    same_pos = [[t.pos_ for t in d] for d in docs] == upos
    same_ents = [[(e.label_, e.start, e.end) for e in d.ents] for d in docs] == [
        spans(t) for t in ner
    ]
    parts = component_parts(component, fresh_docs(), main_bs)
    gold = test["targets"]
    keep = [i for i, c in enumerate(gold["ner"]) if c is not None]
    scores = {
        "upos_accuracy": float(token_accuracy(list(gold["upos"]), upos)),
        "ner_span_f1": float(
            span_scores([gold["ner"][i] for i in keep], [ner[i] for i in keep])["f1"]
        ),
    }
    a = results["a_model_predict"]["words_per_s"]
    b = results[f"b_pipe_docs_bs{main_bs}"]["words_per_s"]
    ratio = b / a
    cpu_ratio = (
        results[f"b_pipe_docs_bs{main_bs}"]["cpu_words_per_s"]
        / results["a_model_predict"]["cpu_words_per_s"]
    )
    os.remove(path)
    os.rmdir(tmp)
    return {
        "benchmark": "spacy_component",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_info("spacy", "thinc", threads=args.threads, git=git_state()),
        "threads": args.threads,
        "loadavg_start": None,
        "args": vars(args),
        "data": {
            s: {k: v for k, v in d.items() if k not in ("tokens", "targets", "sent_ids", "texts")}
            for s, d in data.items()
        },
        "model": {"encoder": encoder, "estimator": estimator, "fit_s": fit_s},
        "targets_of_component": component.targets,
        "scores_test": scores,
        "identical_annotations": {"pos": same_pos, "ents": same_ents},
        "speed": results,
        "component_parts_s": parts,
        "main_batch_size": main_bs,
        "ratio_pipe_docs_over_predict": ratio,
        "cpu_ratio_pipe_docs_over_predict": cpu_ratio,
        "target": {"ratio": f">= {TARGET_RATIO}", "met": ratio >= TARGET_RATIO},
        "notes": ([NER_DRAFT_NOTE] if train["ner_draft"] else [])
        + [
            "(b) excludes tokenization: the Docs are built from the gold words before the "
            "clock starts (fresh Docs for every pass). (c) includes spaCy's blank English "
            "tokenizer on the raw sentence texts, whose tokens differ from the gold words; "
            "its words/s counts the gold words of the same sentences.",
        ],
    }


def markdown(r: dict) -> str:
    s = r["speed"]
    m = r["machine"]
    lines = [
        "# skmtl inside spaCy: the component's cost (English-EWT test)",
        "",
        f"Command: `{r['command']}`",
        "",
        f"Machine: {m.get('cpu_model')}, {m['cpu_count']} CPUs, {r['threads']} thread(s); "
        f"load average {', '.join(f'{x:.2f}' for x in r['loadavg_start'])} at start, "
        f"{', '.join(f'{x:.2f}' for x in r['loadavg_end'])} at end. torch {m['torch']}, "
        f"spaCy {m['spacy']}, skmtl {m['skmtl']}.",
        "",
        f"Model: MultiTaskTagger (UPOS softmax + NER CRF) fitted on "
        f"{r['data']['train']['n_sentences']} EWT train sentences ({r['model']['fit_s']:.0f} s): "
        f"`{r['model']['encoder']}`, `{r['model']['estimator']}`. Test: "
        f"{r['data']['test']['n_sentences']} sentences, {r['data']['test']['n_words']} words; "
        f"UPOS accuracy {100 * r['scores_test']['upos_accuracy']:.2f} %, NER span F1 "
        f"{100 * r['scores_test']['ner_span_f1']:.2f} %.",
        "",
        f"Words/s = test words / seconds, best of {r['args']['repeats']} passes after a "
        "warm-up: wall clock, and process CPU time (less disturbed by other processes on a "
        "shared machine; one thread, so CPU time is the work done).",
        "",
        "| what is timed | batch size | words/s | vs. (a) | CPU words/s | vs. (a) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    a, a_cpu = s["a_model_predict"]["words_per_s"], s["a_model_predict"]["cpu_words_per_s"]

    def row(label, v):
        return (
            f"| {label} | {v.get('batch_size', '')} | {v['words_per_s']:,.0f} | "
            f"{v['words_per_s'] / a:.2f} | {v['cpu_words_per_s']:,.0f} | "
            f"{v['cpu_words_per_s'] / a_cpu:.2f} |"
        )

    lines.append(row("(a) `model.predict(tokens)`", s["a_model_predict"]))
    for key, v in s.items():
        if key.startswith("b_pipe_docs"):
            lines.append(row("(b) `nlp.pipe(docs)`, Docs built beforehand", v))
    lines.append(
        row(
            "(b0) as (b), forward passes in `model.predict`'s chunks (256 sentences; "
            "`token_budget=None`)",
            s["b0_pipe_docs_model_chunks"],
        )
    )
    lines.append(row("(b') `Doc(nlp.vocab, words=...)` + `nlp.pipe`", s["b2_build_docs_and_pipe"]))
    lines.append(row("(c) `nlp.pipe(texts)`, tokenizer included", s["c_pipe_raw_texts"]))
    p = r["component_parts_s"]
    lines += [
        "",
        f"Goal: (b) at batch size {r['main_batch_size']} >= {TARGET_RATIO} x (a): ratio "
        f"**{r['ratio_pipe_docs_over_predict']:.2f}** (wall clock; CPU time "
        f"{r['cpu_ratio_pipe_docs_over_predict']:.2f}), "
        f"{'met' if r['target']['met'] else 'NOT met'}.",
        "",
        f"The component's parts over the batches of (b): `predict` (reading the Docs and "
        f"running the model) {p['predict_s']:.3f} s, `set_annotations` (`token.pos_`, "
        f"`doc.ents`) {p['set_annotations_s']:.3f} s.",
        "",
        f"Identical annotations: `token.pos_` = predicted UPOS: "
        f"{r['identical_annotations']['pos']}; `doc.ents` = strict IOB2 spans of the "
        f"predicted NER tags: {r['identical_annotations']['ents']}.",
        "",
        f"(c) spaCy made {s['c_pipe_raw_texts']['n_spacy_tokens']} tokens of the "
        f"{r['data']['test']['n_words']} gold words' sentences.",
        "",
    ]
    lines += [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "data_root",
        nargs="?",
        default=str(ROOT.parent / "shared" / "data"),
        help="directory holding ud-english-ewt/ and uner-english-ewt/ (default ../shared/data "
        "relative to the repository)",
    )
    p.add_argument("--train-rows", type=int, default=4000, help="random train sentences")
    p.add_argument("--test-rows", type=int, default=None, help="test sentences (default all)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--embed-dim", type=int, default=96)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch-sizes", default="64,256,1000", help="comma list for nlp.pipe")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="shipped sample, 1 epoch (smoke run)")
    p.add_argument("--out", default=None, help="result JSON (default results/spacy_component.json)")
    args = p.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b]
    if args.quick:
        args.data_root, args.epochs, args.train_rows = None, 1, 300
    suffix = "_quick" if args.quick else ""
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"spacy_component{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.threads)
    torch.set_num_threads(args.threads)
    os.environ.update(dict.fromkeys(THREAD_ENV, str(args.threads)))
    start = list(os.getloadavg())
    result = run(args)
    result["loadavg_start"], result["loadavg_end"] = start, list(os.getloadavg())
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    log(f"wrote {out} and {out.with_suffix('.md')}")
    log(
        f"ratio (b)/(a) = {result['ratio_pipe_docs_over_predict']:.2f} "
        f"(goal >= {TARGET_RATIO}: {'met' if result['target']['met'] else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
