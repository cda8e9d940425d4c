"""Beam search: re-indexing the cross-attention cache every step vs keeping it.

Beams never leave their source row, so the cross-attention keys and values
(the same for every beam of a row) need no re-indexing after each step's
back-pointers (``TransformerDecoder.reorder(..., same_source=True)``, what
:func:`skmtl.heads.beam_search` does). Side by side in one run, interleaved:
a decoder of the seq2seq benchmark's size (d_model 256, 3 layers, 4 heads,
ff 1024, vocab 8000), randomly initialised, 256 sources of 20 subwords, beam 4,
``max_new_tokens`` steps with EOS never chosen (EOS is an unused id), so both
do exactly the same number of steps. Writes ``results/beam_reorder.json``.

    python benchmarks/bench_beam_reorder.py [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from skmtl.heads import Memory, TransformerDecoder, beam_search


class _Reindexing(torch.nn.Module):
    """The decoder, with the cache re-indexed whatever ``same_source`` says."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def start(self, *a):
        return self.decoder.start(*a)

    def step(self, *a):
        return self.decoder.step(*a)

    def reorder(self, state, index, same_source=False):
        return self.decoder.reorder(state, index)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dec = TransformerDecoder(8000, 256, 3, 4, 1024, 0.0).eval()
    mem = Memory(torch.randn(256, 20, 256), torch.ones(256, 20, dtype=torch.bool))
    kw = dict(bos_id=2, eos_id=7999, max_new_tokens=args.steps, beam_size=4, length_penalty=1.0)
    with torch.no_grad():
        dec.output.embedding.weight[7999] = -10.0  # EOS never wins: equal work for both
    times = {"reindex": [], "keep": []}
    outs = {}
    for _ in range(args.repeats):
        for name, d in (("reindex", _Reindexing(dec)), ("keep", dec)):
            tic = time.perf_counter()
            outs[name] = beam_search(d, mem, **kw)
            times[name].append(time.perf_counter() - tic)
    best = {k: min(v) for k, v in times.items()}
    result = {
        "seconds": times,
        "sentences_per_s": {k: 256 / v for k, v in best.items()},
        "speedup": best["reindex"] / best["keep"],
        "same_output": bool(torch.equal(outs["reindex"], outs["keep"])),
        "threads": args.threads,
        "steps": args.steps,
    }
    out = Path(__file__).resolve().parent / "results" / "beam_reorder.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
