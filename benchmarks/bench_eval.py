"""Evaluation throughput: ``strategy.eval`` with all our metrics vs a bare forward loop.

Ours: ``strategy.eval([test_experience])`` of a ``make_strategy("naive", ...)`` strategy whose evaluator
is ``make_evaluator(7, names, confusion_images=False)``: per-dataset accuracy, macro-F1 and per-class
accuracy from a confusion matrix accumulated on the device (one host sync per experience), plus
Avalanche's whole eval loop (callbacks, ``no_grad``, our resident-tensor loader; bf16 autocast on CUDA).

Reference: the least anyone can do: ``model.eval()`` and, under ``torch.inference_mode()``, one forward
pass per batch over the same resident uint8 tensor with the same normalisation and batch size, no
metric at all. On CUDA the reference uses the same bf16 autocast + channels_last as our template (first
line) and plain fp32 NCHW (second line); on CPU our template uses channels_last (oneDNN), so the
first line uses it too and the second is the plain NCHW loop.

Median of ``repeats`` alternating runs after a warm-up. Reading the ratio: ours / bare images per
second; 0.9 means metrics plus Avalanche cost 10% of evaluation time. Target: >= 0.9.

Run: ``python benchmarks/bench_eval.py [--quick] [--device auto|cpu|cuda] [--width 16]``
"""

from __future__ import annotations

import contextlib
import copy
import sys

import torch
from common import (
    LABEL_NAMES,
    compare_many,
    device_line,
    parse_args,
    ratio_line,
    reference_settings,
    resolve,
    synthetic_data,
)
from torch import nn

BATCH = 256


def bare_eval(model: nn.Module, images: torch.Tensor, batch: int, amp: bool) -> None:
    """Forward passes only, over resident uint8 ``images``."""
    from fer_avalanche.benchmarks import normalize

    model.eval()
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()
    with torch.inference_mode(), ctx:
        for start in range(0, images.shape[0], batch):
            model(normalize(images[start : start + batch]))


def main(quick: bool = False, device: str = "auto", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Run the comparison and return the printed lines (without the device line)."""
    from fer_avalanche.benchmarks import cross_dataset_benchmark
    from fer_avalanche.metrics import make_evaluator
    from fer_avalanche.models import make_model
    from fer_avalanche.strategies.registry import make_strategy

    dev = resolve(device)
    cuda = dev.type == "cuda"
    if smoke:
        n, repeats = 256, 1
    elif quick:
        n, repeats = (16384 if cuda else 768), 5
    else:
        n, repeats = (65536 if cuda else 4096), 5
    data = synthetic_data(BATCH, n_test=n)
    test_exp = cross_dataset_benchmark([data]).test_stream[0]

    torch.manual_seed(0)
    model0 = make_model(width=width)
    evaluator, fer_metrics = make_evaluator(len(LABEL_NAMES), LABEL_NAMES, confusion_images=False)
    strategy = make_strategy(
        "naive",
        copy.deepcopy(model0),
        epochs=1,
        batch_size=BATCH,
        eval_batch_size=BATCH,
        device=dev,
        evaluator=evaluator,
        augment=False,
    )
    images = data.test.images.to(dev)
    fns = [lambda: strategy.eval([test_exp])]
    names = []
    for ref_name, amp, channels_last in reference_settings(strategy, plain="bare forward loop"):
        ref_model = copy.deepcopy(model0).to(dev)
        if channels_last:
            ref_model = ref_model.to(memory_format=torch.channels_last)
        fns.append(lambda m=ref_model, a=amp: bare_eval(m, images, BATCH, a))
        names.append(ref_name)
    t_ours, *t_refs = compare_many(fns, dev, repeats=repeats, warmup=0 if smoke else 1)
    if not fer_metrics.last_eval:
        raise RuntimeError("the evaluator recorded nothing: the benchmark did not run our metrics")
    detail = f"n={n}, batch {BATCH}, width {width}, median of {repeats}"
    lines = [
        ratio_line("eval (all FER metrics)", n, t_ours, t_ref, name, detail)
        for name, t_ref in zip(names, t_refs, strict=True)
    ]
    return lines


if __name__ == "__main__":
    args = parse_args(__doc__)
    for line in main(args.quick, args.device, width=args.width, smoke=args.smoke):
        print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
