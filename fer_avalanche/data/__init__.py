"""Datasets in memory (:class:`FERData`), their splits, the synthetic domains and the format loaders."""

from fer_avalanche.data.ferdata import SPLITS, FERData
from fer_avalanche.data.registry import get_format, list_formats, load_dataset, register_format
from fer_avalanche.data.splits import (
    apply_split,
    cap_train,
    split_by_counts,
    split_by_fractions,
    split_by_subject,
    subject_kfold,
)

__all__ = [
    "FERData",
    "SPLITS",
    "load_dataset",
    "list_formats",
    "get_format",
    "register_format",
    "apply_split",
    "split_by_fractions",
    "split_by_counts",
    "split_by_subject",
    "subject_kfold",
    "cap_train",
]
