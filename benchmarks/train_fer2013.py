"""Train a baseline on the real FER2013 and report its PublicTest / PrivateTest accuracy per epoch.

How far a CPU-sized baseline gets, with the package's own strategy (``naive`` = plain training, with
the package's batch augmentation), data path and models. Model selection is on PublicTest (the
validation split); the number to quote is PrivateTest at the selected epoch. Writes one JSON with
every epoch and prints one line per epoch::

    python benchmarks/train_fer2013.py --arch paper --width 64 --epochs 30 --lr 1e-4 --out paper64.json
    python benchmarks/train_fer2013.py --arch fernet --width 32 --epochs 20 --device cuda

``--time-limit-min`` stops after the epoch that crosses the limit (the JSON says so).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def accuracy(model: torch.nn.Module, loader) -> float:
    """Top-1 accuracy of ``model`` over a :class:`DeviceBatchLoader` (eval mode, then back)."""
    was_training = model.training
    model.eval()
    correct = total = 0
    with torch.inference_mode():
        for x, y, _ in loader:
            if x.device.type == "cuda" or next(model.parameters()).is_contiguous(
                memory_format=torch.channels_last
            ):
                x = x.contiguous(memory_format=torch.channels_last)
            correct += int((model(x).argmax(1) == y).sum())
            total += len(y)
    model.train(was_training)
    return correct / max(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--arch", default="paper")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--time-limit-min", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from fer_avalanche import (
        as_avalanche_dataset,
        cross_dataset_benchmark,
        load_dataset,
        make_model,
        make_strategy,
    )
    from fer_avalanche.loaders import DeviceBatchLoader
    from fer_avalanche.utils import quiet_third_party, resolve_device, seed_everything

    with quiet_third_party():
        from avalanche.training.plugins import SupervisedPlugin

    device = resolve_device(args.device)
    start = time.perf_counter()
    data = load_dataset("fer2013", args.root)
    load_s = time.perf_counter() - start
    seed_everything(args.seed)
    model = make_model(args.arch, num_classes=data.num_classes, width=args.width)
    train = cross_dataset_benchmark([data]).train_stream[0]
    loaders = {
        split: DeviceBatchLoader(as_avalanche_dataset(data, split), 512, device=device)
        for split in ("val", "test")
    }
    log: dict = {
        "arch": args.arch,
        "width": args.width,
        "parameters": sum(p.numel() for p in model.parameters()),
        "lr": args.lr,
        "batch_size": args.batch_size,
        "optimizer": "adam",
        "augment": "random crop (pad 4) + horizontal flip, on the batch",
        "seed": args.seed,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "counts": data.counts(),
        "load_s": round(load_s, 1),
        "epochs": [],
        "stopped": "epochs",
    }

    class EpochEval(SupervisedPlugin):
        def __init__(self) -> None:
            super().__init__()
            self.t0 = time.perf_counter()

        def after_training_epoch(self, strategy, **kwargs) -> None:
            row = {
                "epoch": len(log["epochs"]) + 1,
                "elapsed_s": round(time.perf_counter() - self.t0, 1),
                "public_test": accuracy(strategy.model, loaders["val"]),
                "private_test": accuracy(strategy.model, loaders["test"]),
            }
            log["epochs"].append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                args.out.write_text(json.dumps(log, indent=1))
            if args.time_limit_min and row["elapsed_s"] > 60 * args.time_limit_min:
                log["stopped"] = f"time limit {args.time_limit_min} min"
                strategy.stop_training()

    strategy = make_strategy(
        "naive",
        model,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=device,
        seed=args.seed,
        plugins=[EpochEval()],
    )
    with quiet_third_party():
        strategy.train(train, eval_streams=[])
    best = max(log["epochs"], key=lambda r: r["public_test"])
    log["selected"] = {"by": "public_test (validation)", **best}
    log["last"] = log["epochs"][-1]
    if args.out:
        args.out.write_text(json.dumps(log, indent=1))
    print(
        f"{args.arch} width {args.width}: PrivateTest {best['private_test']:.4f} at epoch {best['epoch']} "
        f"(selected on PublicTest {best['public_test']:.4f}); last epoch {log['last']['private_test']:.4f}; "
        f"{log['last']['elapsed_s'] / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
