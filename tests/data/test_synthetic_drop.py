"""Synthetic domains without some classes (``drop_classes``): a CK+48-like target that lacks neutral."""

import pytest

from fer_avalanche.data.synthetic import make_domain
from fer_avalanche.errors import ConfigError
from fer_avalanche.labels import BASIC7


def test_drop_classes_leaves_no_sample_of_them_and_keeps_n_and_the_label_space():
    data = make_domain("lab-a", n=140, drop_classes=["neutral", "fear"])
    counts = data.labels.bincount(minlength=7).tolist()
    assert counts[6] == counts[2] == 0 and sum(counts) == 140 and min(counts[:2] + counts[3:6]) == 28
    assert data.num_classes == 7 and data.provenance["drop_classes"] == ["fear", "neutral"]
    assert set(data.get_split("train").labels.tolist()) == {0, 1, 3, 4, 5}


def test_drop_classes_rejects_unknown_names_and_dropping_everything():
    with pytest.raises(ConfigError, match=r"drop_classes must name some \(not all\)"):
        make_domain("lab-a", n=70, drop_classes=["contempt"])
    with pytest.raises(ConfigError, match=r"drop_classes must name some \(not all\)"):
        make_domain("lab-a", n=70, drop_classes=list(BASIC7.names))
