import pytest

from fer_avalanche.errors import ConfigError, LabelError
from fer_avalanche.labels import BASIC7, BASIC8, canonical_expression, get_label_space


def test_basic7_is_fer2013_order():
    assert BASIC7.names == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_basic8_appends_contempt():
    assert BASIC8.names[:7] == BASIC7.names
    assert BASIC8.index("contempt") == 7


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("Happiness", "happy"), (" anger ", "angry"), ("SU", "surprise"), ("sadness", "sad"), ("AF", "fear")],
)
def test_known_spellings_map_to_canonical_names(spelling, canonical):
    assert canonical_expression(spelling) == canonical


def test_unknown_expression_suggests_closest():
    with pytest.raises(LabelError, match="did you mean 'happy'"):
        canonical_expression("hapy")


def test_map_codes_marks_contempt_outside_basic7():
    codes = {1: "anger", 2: "contempt", 5: "happy"}
    assert BASIC7.map_codes(codes) == {1: 0, 2: None, 5: 3}
    assert BASIC8.map_codes(codes) == {1: 0, 2: 7, 5: 3}


def test_index_rejects_contempt_in_basic7():
    with pytest.raises(LabelError, match="basic7"):
        BASIC7.index("contempt")


def test_unknown_label_space_is_a_config_error():
    with pytest.raises(ConfigError, match="basic9"):
        get_label_space("basic9")
