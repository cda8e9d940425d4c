"""Translation + summarization in one model: skmtl multi-task vs single-task vs Hugging Face.

Side by side in one run, on one joint sentencepiece vocabulary (learned once on
every training text, handed to every model) and the same training budget (the
same number of epochs over each task's training pairs, batch size and
learning-rate schedule):

* ``mtl``: one :class:`skmtl.MultiTaskSeq2Seq` for en->de, en->fr (Multi30K, one
  row per English sentence with both targets) and email->subject (AESLC, rows
  with only a subject);
* ``single_de``, ``single_fr``, ``single_subject``: one skmtl model per task;
* ``hf_de``: a Hugging Face ``MarianMTModel`` of the same size, trained from
  scratch on en->de (``_seq2seq_anchors.py``). OpenNMT-py was not usable (see
  ``_seq2seq_anchors.ONMT_STATUS``).

Each model trains in its own process (peak memory per model). Scores:
BLEU (sacreBLEU, cased, detokenized, against the raw test2016 references) and
the lowercased tokenized BLEU of the MMT literature (hypotheses lowercased,
punctuation-normalized and Moses-tokenized with sacremoses, against the
upstream ``tok/`` references), chrF; ROUGE-1/2/L F (rouge-score, stemmed)
against AESLC's original subject and, separately, the best of the three
annotated subjects. Δm is the mean relative gain of the multi-task model over
the single-task ones on BLEU (de, fr) and ROUGE-L vs the original subject.
Decoding speed: sentences per second on the en->de test set, greedy and beam 4.

Usage::

    python benchmarks/bench_seq2seq.py --data ../shared/data --epochs 2
    python benchmarks/bench_seq2seq.py --data ../shared/data --quick   # smoke run
    # the 30-minute en->de goal: one model, 5 epochs (about 30 minutes on 2 cores)
    python benchmarks/bench_seq2seq.py --data ../shared/data --epochs 5 --models single_de \
        --tag de_30min

Writes ``benchmarks/results/seq2seq.json`` and ``seq2seq.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL = dict(
    d_model=256,
    encoder_layers=3,
    decoder_layers=3,
    n_heads=4,
    ff_dim=1024,
    dropout=0.1,
    label_smoothing=0.1,
    batch_size=64,
    learning_rate=1e-3,
    warmup_steps=200,
    max_source_length=64,
    max_target_length=64,
    tie_embeddings="all",  # one matrix for encoder, decoders and outputs, as the HF anchor
)
TASKS = ("de", "fr", "subject")


def _load(root: Path, quick: bool, n_subject_test: int) -> dict:
    from skmtl.datasets import load_aeslc, load_multi30k

    mt = load_multi30k(root / "multi30k", "train")
    em = load_aeslc(root / "aeslc", "train")
    mt_test = load_multi30k(root / "multi30k", "test")
    mt_tok = load_multi30k(root / "multi30k", "test", tokenized=True)
    em_test = load_aeslc(root / "aeslc", "test")
    n_mt, n_em = (1500, 750) if quick else (len(mt.text), len(em.text))
    n_test = 100 if quick else len(mt_test.text)
    n_sub = 50 if quick else n_subject_test
    return {
        "mt_src": mt.text[:n_mt],
        "de": list(mt.targets["de"][:n_mt]),
        "fr": list(mt.targets["fr"][:n_mt]),
        "em_src": em.text[:n_em],
        "subject": list(em.targets["subject"][:n_em]),
        "test_src": mt_test.text[:n_test],
        "test_ref": {lang: list(mt_test.targets[lang][:n_test]) for lang in ("de", "fr")},
        "test_tok": {lang: list(mt_tok.targets[lang][:n_test]) for lang in ("de", "fr")},
        "em_test_src": em_test.text[:n_sub],
        "em_test_subject": list(em_test.targets["subject"][:n_sub]),
        "em_test_ann": [tuple(r) for r in em_test.annotations.iloc[:n_sub].itertuples(index=False)],
    }


def _training_set(data: dict, tasks: tuple[str, ...]):
    """X and Y of a model for ``tasks`` (None where a row has no target for a task)."""
    X, Y = [], {t: [] for t in tasks}
    if {"de", "fr"} & set(tasks):
        X += data["mt_src"]
        for t in tasks:
            Y[t] += data[t] if t in ("de", "fr") else [None] * len(data["mt_src"])
    if "subject" in tasks:
        X += data["em_src"]
        for t in tasks:
            Y[t] += data["subject"] if t == "subject" else [None] * len(data["em_src"])
    return X, Y


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- scoring --------------------------------------------------------------------------


def _moses(texts, lang):
    from sacremoses import MosesPunctNormalizer, MosesTokenizer

    norm, tok = MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang)
    return [tok.tokenize(norm.normalize(t.lower()), escape=True, return_str=True) for t in texts]


def _translation_scores(hyps, data, lang) -> dict:
    from skmtl.metrics import corpus_bleu, task_score

    refs = data["test_ref"][lang]
    return {
        "bleu": 100 * corpus_bleu(refs, hyps),
        "bleu_lc_tok": 100
        * corpus_bleu(data["test_tok"][lang], _moses(hyps, lang), tokenize="none"),
        "chrf": 100 * task_score(refs, hyps, "chrf", task_type="generation"),
    }


def _subject_scores(hyps, data) -> dict:
    from skmtl.metrics import task_score

    out = {}
    for name, refs in (("subject", data["em_test_subject"]), ("annotated", data["em_test_ann"])):
        for metric in ("rouge1", "rouge2", "rougeL"):
            out[f"{metric}_{name}"] = 100 * task_score(refs, hyps, metric, task_type="generation")
    return out


def _evaluate(generate, data, tasks) -> dict:
    """Scores with beam 4, and decoding speed (greedy and beam 4) on en->de or the
    model's first task."""
    result = {}
    for task in tasks:
        src = data["em_test_src"] if task == "subject" else data["test_src"]
        timing = {}
        for beam in (1, 4):
            tic = time.perf_counter()
            hyps = generate(task, src, beam)
            timing[beam] = time.perf_counter() - tic
        scores = (
            _subject_scores(hyps, data)
            if task == "subject"
            else _translation_scores(hyps, data, task)
        )
        scores["sentences_per_s_greedy"] = len(src) / timing[1]
        scores["sentences_per_s_beam4"] = len(src) / timing[4]
        scores["examples"] = hyps[:3]
        result[task] = scores
    return result


# -- the models, one process each -----------------------------------------------------


def _run_skmtl(job: dict) -> dict:
    import torch

    torch.set_num_threads(job["threads"])
    from skmtl import MultiTaskSeq2Seq
    from skmtl.encoders import SubwordTokenizer

    data = _load(Path(job["root"]), job["quick"], job["n_subject_test"])
    X, Y = _training_set(data, job["tasks"])
    tok = SubwordTokenizer(job["tokenizer"])
    model = MultiTaskSeq2Seq(
        **MODEL, tokenizer=tok, max_epochs=job["epochs"], random_state=0, verbose=1
    )
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, Y)
    train_s = time.perf_counter() - tic
    n_params = sum(p.numel() for p in model.module_.parameters())

    def generate(task, src, beam):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(model.set_params(beam_size=beam).predict(src, tasks=[task])[task])

    return {
        "train_seconds": train_s,
        "epochs": job["epochs"],
        "rows": len(X),
        "n_parameters": int(n_params),
        "final_task_loss": model.history_[-1]["task_loss"],
        "scores": _evaluate(generate, data, job["tasks"]),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run_hf(job: dict) -> dict:
    import torch

    torch.set_num_threads(job["threads"])
    from _seq2seq_anchors import generate_hf, train_hf

    from skmtl.encoders import SubwordTokenizer

    data = _load(Path(job["root"]), job["quick"], job["n_subject_test"])
    tok = SubwordTokenizer(job["tokenizer"])
    cut = MODEL["max_source_length"] - 1
    src = [s[:cut] for s in tok.encode(data["mt_src"])]
    tgt = [s[: MODEL["max_target_length"] - 1] for s in tok.encode(data["de"])]
    steps = job["epochs"] * math.ceil(len(src) / MODEL["batch_size"])
    fit = train_hf(
        src,
        tgt,
        vocab_size=tok.vocab_size,
        pad_id=tok.pad_id,
        bos_id=tok.bos_id,
        eos_id=tok.eos_id,
        d_model=MODEL["d_model"],
        layers=MODEL["encoder_layers"],
        heads=MODEL["n_heads"],
        ffn_dim=MODEL["ff_dim"],
        dropout=MODEL["dropout"],
        label_smoothing=MODEL["label_smoothing"],
        batch_size=MODEL["batch_size"],
        lr=MODEL["learning_rate"],
        warmup_steps=MODEL["warmup_steps"],
        max_steps=steps,
        seed=0,
    )

    def generate(task, texts, beam):
        ids = [s[:cut] for s in tok.encode(texts)]
        out, _ = generate_hf(
            fit["model"],
            ids,
            bos_id=tok.bos_id,
            eos_id=tok.eos_id,
            pad_id=tok.pad_id,
            beam_size=beam,
            max_new_tokens=MODEL["max_target_length"],
        )
        return tok.decode(out)

    return {
        "train_seconds": fit["train_seconds"],
        "epochs": job["epochs"],
        "steps": fit["steps"],
        "rows": len(src),
        "n_parameters": int(fit["n_parameters"]),
        "scores": _evaluate(generate, data, ("de",)),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _in_process(fn, job):
    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, (job,))


# -- report ---------------------------------------------------------------------------


def _delta_m(results: dict) -> dict:
    """Mean relative gain of ``mtl`` over the single-task models (main metric per task)."""
    main = {"de": "bleu", "fr": "bleu", "subject": "rougeL_subject"}
    gains = {}
    for task, metric in main.items():
        single = results.get(f"single_{task}", {}).get("scores", {}).get(task, {}).get(metric)
        multi = results.get("mtl", {}).get("scores", {}).get(task, {}).get(metric)
        if single and multi is not None:
            gains[task] = (multi - single) / single
    return {"per_task": gains, "delta_m": float(np.mean(list(gains.values()))) if gains else None}


def _markdown(report: dict) -> str:
    r = report["results"]
    lines = [
        "# Seq2seq benchmark: one multi-task model vs one model per task vs Hugging Face",
        "",
        f"Command: `{report['command']}`. Budget: {report['epochs']} epochs over each task's "
        f"training pairs, batch {MODEL['batch_size']}, peak lr {MODEL['learning_rate']} "
        f"(warm-up {MODEL['warmup_steps']} steps, inverse-sqrt decay); sources cut at "
        f"{MODEL['max_source_length']} subwords. One joint sentencepiece vocabulary of "
        f"{report['vocab_size']} pieces for every model "
        f"({report['tokenizer_seconds']:.0f} s to learn). "
        f"Machine: {report['machine'].get('cpu_count')} CPUs, torch threads {report['threads']}.",
        "",
        "| model | task | BLEU | BLEU lc-tok | chrF | R-1/2/L vs subject | R-1/2/L vs annotated "
        "| sent/s greedy | sent/s beam 4 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, res in r.items():
        for task, s in res["scores"].items():
            if task == "subject":
                rs = "/".join(f"{s[f'{m}_subject']:.1f}" for m in ("rouge1", "rouge2", "rougeL"))
                ra = "/".join(f"{s[f'{m}_annotated']:.1f}" for m in ("rouge1", "rouge2", "rougeL"))
                cells = ["", "", "", rs, ra]
            else:
                cells = [f"{s['bleu']:.2f}", f"{s['bleu_lc_tok']:.2f}", f"{s['chrf']:.1f}", "", ""]
            lines.append(
                f"| {name} | {task} | "
                + " | ".join(cells)
                + f" | {s['sentences_per_s_greedy']:.1f} | {s['sentences_per_s_beam4']:.1f} |"
            )
    lines += [
        "",
        "| model | train s | parameters | peak RSS MB |",
        "|---|---|---|---|",
    ]
    for name, res in r.items():
        lines.append(
            f"| {name} | {res['train_seconds']:.0f} | {res['n_parameters']:,} | "
            f"{res['peak_rss_mb']:.0f} |"
        )
    summary = report["summary"]
    lines += [
        "",
        f"- Δm (mtl vs single, BLEU de/fr and ROUGE-L vs subject): {summary['delta_m']}",
        f"- training time, mtl / sum of single: {summary['time_ratio']}",
        f"- decoding en->de, skmtl single / HF (greedy, beam 4): {summary['decode_ratio']}",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--subject-test", type=int, default=500, help="AESLC test emails scored")
    parser.add_argument("--models", default="single_de,single_fr,single_subject,mtl,hf_de")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. de_30min)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    from _common import machine_info

    from skmtl.encoders import SubwordTokenizer

    data = _load(args.data, args.quick, args.subject_test)
    texts = data["mt_src"] + data["de"] + data["fr"] + data["em_src"] + data["subject"]
    tic = time.perf_counter()
    tok = SubwordTokenizer.train(texts, vocab_size=args.vocab_size)
    tok_s = time.perf_counter() - tic
    job = {
        "root": str(args.data),
        "quick": args.quick,
        "n_subject_test": args.subject_test,
        "tokenizer": tok.model,
        "epochs": args.epochs,
        "threads": args.threads,
    }
    plan = {
        "single_de": (_run_skmtl, ("de",)),
        "single_fr": (_run_skmtl, ("fr",)),
        "single_subject": (_run_skmtl, ("subject",)),
        "mtl": (_run_skmtl, TASKS),
        "hf_de": (_run_hf, ("de",)),
    }
    stem = "seq2seq_quick" if args.quick else "seq2seq"
    stem += f"_{args.tag}" if args.tag else ""
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "command": "python benchmarks/bench_seq2seq.py " + " ".join(argv or sys.argv[1:]),
        "epochs": args.epochs,
        "threads": args.threads,
        "vocab_size": tok.vocab_size,
        "tokenizer_seconds": tok_s,
        "model": MODEL,
        "machine": machine_info("sentencepiece", "sacrebleu", "rouge-score", "transformers"),
        "results": {},
    }
    for name in args.models.split(","):
        fn, tasks = plan[name]
        print(f"== {name}", flush=True)
        report["results"][name] = _in_process(fn, {**job, "tasks": tasks})
        print(json.dumps({k: v for k, v in report["results"][name].items() if k != "scores"}))
        _summarize(report)
        (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1, default=str))
        (args.out / f"{stem}.md").write_text(_markdown(report))
    print(_markdown(report))


def _summarize(report: dict) -> None:
    r = report["results"]
    singles = [r[f"single_{t}"]["train_seconds"] for t in TASKS if f"single_{t}" in r]
    time_ratio = (
        r["mtl"]["train_seconds"] / sum(singles) if "mtl" in r and len(singles) == 3 else None
    )
    decode = None
    if "single_de" in r and "hf_de" in r:
        a, b = r["single_de"]["scores"]["de"], r["hf_de"]["scores"]["de"]
        decode = (
            a["sentences_per_s_greedy"] / b["sentences_per_s_greedy"],
            a["sentences_per_s_beam4"] / b["sentences_per_s_beam4"],
        )
    report["summary"] = {**_delta_m(r), "time_ratio": time_ratio, "decode_ratio": decode}


if __name__ == "__main__":
    main()
