"""Training throughput: our Avalanche strategy vs a plain hand-written PyTorch loop.

Ours: ``make_strategy("naive", ...)`` (``FERTemplate`` = Avalanche's ``SupervisedTemplate`` with our fast
path: images resident on the device, batches by index, seeded shuffling; bf16 autocast and
channels_last on CUDA) with augmentation off and our evaluator (``make_evaluator``, which also tracks the
training loss), timed over whole ``strategy.train(experience)`` calls, one epoch each: Avalanche's
per-experience setup, every callback and plugin hook are included.

Reference: the loop anyone would write: the same model (same initial weights), Adam with the same
learning rate, cross-entropy, batch size and number of samples; each epoch a ``randperm`` of a resident
uint8 tensor, one ``index_select`` per batch, the same normalisation, forward, backward, step. The
reference runs twice: first with our template's own settings (bf16 autocast on CUDA, channels_last on
CUDA and on CPU with oneDNN), so only Avalanche and our plumbing differ (the line the target is about),
then as the plain fp32 NCHW loop most people write (our template's choices included in the ratio).

Both sides alternate (one warm-up epoch each, then ``repeats`` epochs each); the median epoch time is
compared. Reading the ratio: ours / reference images per second; 1.0 means Avalanche and our plumbing
cost nothing, 0.95 means they cost 5%. Target on CPU: >= 0.95.

Run: ``python benchmarks/bench_training.py [--quick] [--device auto|cpu|cuda] [--width 16]``
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

BATCH = 64
LR = 1e-3


def plain_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch: int,
    amp: bool,
    gen: torch.Generator,
) -> None:
    """One epoch of the hand-written loop over resident uint8 ``images`` (on the model's device)."""
    from fer_avalanche.benchmarks import normalize

    device = images.device
    criterion = nn.CrossEntropyLoss()
    model.train()
    order = torch.randperm(images.shape[0], generator=gen).to(device)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()
    for idx in order.split(batch):
        x = normalize(images.index_select(0, idx))
        y = labels[idx]
        with ctx:
            out = model(x)
        loss = criterion(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def main(quick: bool = False, device: str = "auto", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Run the comparison and return the printed lines (without the device line)."""
    from fer_avalanche.benchmarks import cross_dataset_benchmark
    from fer_avalanche.metrics import make_evaluator
    from fer_avalanche.models import make_model
    from fer_avalanche.strategies.registry import make_strategy

    dev = resolve(device)
    cuda = dev.type == "cuda"
    if smoke:
        n, repeats = 128, 1
    elif quick:
        n, repeats = (8192 if cuda else 448), 5
    else:
        n, repeats = (50_000 if cuda else 2048), 5
    data = synthetic_data(n, n_test=BATCH)
    exp = cross_dataset_benchmark([data]).train_stream[0]

    torch.manual_seed(0)
    model0 = make_model(width=width)
    model = copy.deepcopy(model0)
    evaluator, _ = make_evaluator(len(LABEL_NAMES), LABEL_NAMES, confusion_images=False)
    strategy = make_strategy(
        "naive", model, lr=LR, epochs=1, batch_size=BATCH, device=dev, evaluator=evaluator, augment=False
    )

    images = data.train.images.to(dev)
    labels = data.train.labels.to(dev)
    gen = torch.Generator().manual_seed(0)
    fns = [lambda: strategy.train(exp)]
    names = []
    for ref_name, amp, channels_last in reference_settings(strategy):
        ref_model = copy.deepcopy(model0).to(dev)
        if channels_last:
            ref_model = ref_model.to(memory_format=torch.channels_last)
        ref_opt = torch.optim.Adam(ref_model.parameters(), lr=LR)
        fns.append(lambda m=ref_model, o=ref_opt, a=amp: plain_epoch(m, o, images, labels, BATCH, a, gen))
        names.append(ref_name)
    t_ours, *t_refs = compare_many(fns, dev, repeats=repeats, warmup=0 if smoke else 1)
    detail = f"n={n}, batch {BATCH}, width {width}, median of {repeats}"
    lines = [
        ratio_line("training (naive strategy)", n, t_ours, t_ref, name, detail)
        for name, t_ref in zip(names, t_refs, strict=True)
    ]
    return lines


if __name__ == "__main__":
    args = parse_args(__doc__)
    for line in main(args.quick, args.device, width=args.width, smoke=args.smoke):
        print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
