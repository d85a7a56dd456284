"""Data pipeline only: ready, augmented float batches per second delivered to the model (model excluded).

Ours: :class:`~fer_avalanche.loaders.DeviceBatchLoader` (the whole uint8 dataset resident on the device,
one ``index_select`` + normalisation per batch, shuffled) followed by our batch augmentation
(:func:`~fer_avalanche.strategies.plugins.augment.augment_batch`: random crop with padding 4 and a
horizontal flip, vectorised over the batch), exactly what a training step of ours receives.

Reference: the usual torchvision route: a ``torchvision.datasets``-style dataset that builds a PIL image
per sample in ``__getitem__`` (``Image.fromarray``), ``transforms.Compose([RandomCrop(48, padding=4),
RandomHorizontalFlip(), ToTensor(), Normalize((0.5,), (0.5,))])`` and a ``DataLoader`` (batch 64,
shuffle), first with ``num_workers=0`` then with ``num_workers=2`` (persistent workers, so the timed
epochs exclude worker start-up; on CUDA its batches are also copied to the device, ``pin_memory=True``).

Each side runs a warm-up epoch, then ``repeats`` epochs alternately; the median epoch is compared.
Reading the ratio: ours / torchvision images per second; 5 means our pipeline delivers batches five
times as fast. Target: >= 5 against each line.

Run: ``python benchmarks/bench_data_pipeline.py [--quick] [--device auto|cpu|cuda]``
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch
from common import compare, device_line, parse_args, ratio_line, resolve, synthetic_data
from torch.utils.data import DataLoader, Dataset

BATCH = 64


class PILFaces(Dataset):
    """What ``torchvision.datasets.FER2013`` does: a PIL image per sample, then the transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Any) -> None:
        self.images = images  # uint8 [N, 48, 48]
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        image = Image.fromarray(self.images[index])
        return self.transform(image), int(self.labels[index])


def torchvision_loader(data: Any, workers: int, pin: bool) -> DataLoader:
    from torchvision import transforms

    tf = transforms.Compose(
        [
            transforms.RandomCrop(48, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,)),
        ]
    )
    ds = PILFaces(data.images[:, 0].numpy(), data.labels.numpy(), tf)
    return DataLoader(
        ds,
        batch_size=BATCH,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin,
    )


def main(quick: bool = False, device: str = "auto", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Run the comparisons and return the printed lines (without the device line)."""
    from fer_avalanche.benchmarks import as_avalanche_dataset
    from fer_avalanche.loaders import DeviceBatchLoader
    from fer_avalanche.strategies.plugins.augment import augment_batch

    dev = resolve(device)
    if smoke:
        n, repeats = 256, 1
    elif quick:
        n, repeats = 3072, 3
    else:
        n, repeats = 16384, 5
    data = synthetic_data(n)
    gen = torch.Generator(device=dev).manual_seed(0)
    loader = DeviceBatchLoader(
        as_avalanche_dataset(data, "train"), BATCH, shuffle=True, device=dev, generator=torch.Generator()
    )

    def ours() -> None:
        for x, _y, _t in loader:
            augment_batch(x, gen, crop_padding=4, flip=True)

    lines = []
    for workers in (0, 2):
        tv = torchvision_loader(data, workers, pin=dev.type == "cuda")

        def reference(tv: DataLoader = tv) -> None:
            for x, y in tv:
                x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)

        t_ours, t_ref = compare(ours, reference, dev, repeats=repeats, warmup=1)
        detail = f"n={n}, batch {BATCH}, crop pad 4 + flip, median of {repeats}"
        name = f"torchvision PIL DataLoader num_workers={workers}"
        lines.append(ratio_line("data pipeline", n, t_ours, t_ref, name, detail))
        del tv
    return lines


if __name__ == "__main__":
    args = parse_args(__doc__)
    for line in main(args.quick, args.device, width=args.width, smoke=args.smoke):
        print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
