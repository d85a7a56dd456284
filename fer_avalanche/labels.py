"""Canonical expression label spaces and the maps from each dataset's own codes into them.

The canonical space is ``basic7`` in FER2013 order (the de-facto standard):
``0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral``; ``basic8`` appends
``7 contempt``. Datasets name expressions in many ways ("anger", "Happiness", "SU", 5); every loader
maps its codes to canonical *names* first and then into a :class:`LabelSpace`, so there is one place
where names are understood.

Example:
    >>> from fer_avalanche.labels import get_label_space, canonical_expression
    >>> space = get_label_space("basic7")
    >>> space.index("happy"), space.names[5]
    (3, 'surprise')
    >>> canonical_expression("Happiness")
    'happy'
    >>> space.map_codes({"AN": "angry", "CO": "contempt"})  # contempt has no place in basic7
    {'AN': 0, 'CO': None}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from fer_avalanche.errors import ConfigError, LabelError
from fer_avalanche.registry import did_you_mean

__all__ = [
    "LabelSpace",
    "BASIC7",
    "BASIC8",
    "LABEL_SPACES",
    "get_label_space",
    "canonical_expression",
    "EXPRESSION_SYNONYMS",
]


@dataclass(frozen=True)
class LabelSpace:
    """An ordered set of expression names; a label is an index into :attr:`names`.

    Example:
        >>> BASIC8.index("contempt"), len(BASIC8)
        (7, 8)
    """

    name: str
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(self)``)."""
        return len(self.names)

    def index(self, expression: str) -> int:
        """Index of ``expression`` (any known spelling) in this space.

        Raises:
            LabelError: the expression is unknown or has no place in this space.
        """
        canonical = canonical_expression(expression)
        if canonical not in self.names:
            raise LabelError(
                f"expression {expression!r} has no label in label space {self.name!r} "
                f"(its classes: {', '.join(self.names)})"
            )
        return self.names.index(canonical)

    def map_codes(self, codes: Mapping[Hashable, str]) -> dict[Hashable, int | None]:
        """Turn a dataset's ``{code: expression name}`` map into ``{code: label or None}``.

        ``None`` marks a code whose expression exists but is outside this space (contempt in
        ``basic7``): loaders drop such samples and count them. A name that is not an expression at all
        raises :class:`LabelError`.
        """
        out: dict[Hashable, int | None] = {}
        for code, expression in codes.items():
            canonical = canonical_expression(expression)
            out[code] = self.names.index(canonical) if canonical in self.names else None
        return out


BASIC7 = LabelSpace("basic7", ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"))
BASIC8 = LabelSpace("basic8", BASIC7.names + ("contempt",))
LABEL_SPACES: dict[str, LabelSpace] = {space.name: space for space in (BASIC7, BASIC8)}

#: Every spelling met in FER datasets, lower-cased, mapped to the canonical name.
EXPRESSION_SYNONYMS: dict[str, str] = {
    **{name: name for name in BASIC8.names},
    "anger": "angry",
    "angry": "angry",
    "an": "angry",
    "mad": "angry",
    "disgusted": "disgust",
    "di": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "fe": "fear",
    "af": "fear",
    "happiness": "happy",
    "happy": "happy",
    "joy": "happy",
    "smile": "happy",
    "ha": "happy",
    "sadness": "sad",
    "sa": "sad",
    "surprised": "surprise",
    "surprise": "surprise",
    "su": "surprise",
    "neu": "neutral",
    "ne": "neutral",
    "calm": "neutral",
    "contemptuous": "contempt",
    "co": "contempt",
}


def canonical_expression(expression: str) -> str:
    """Canonical name (``'happy'``) of any known spelling (``'Happiness'``, ``'HA'``, ``' joy '``).

    Raises:
        LabelError: not a known expression; the message suggests the closest known spelling.
    """
    key = str(expression).strip().lower()
    try:
        return EXPRESSION_SYNONYMS[key]
    except KeyError:
        hint = did_you_mean(key, list(EXPRESSION_SYNONYMS))
        raise LabelError(
            f"unknown expression {expression!r}{hint}; known: {', '.join(BASIC8.names)}"
        ) from None


def get_label_space(name: str | LabelSpace) -> LabelSpace:
    """The label space called ``name`` (``'basic7'`` or ``'basic8'``); a LabelSpace is returned as is.

    Raises:
        ConfigError: unknown name.
    """
    if isinstance(name, LabelSpace):
        return name
    try:
        return LABEL_SPACES[name]
    except KeyError:
        raise ConfigError(
            f"unknown label space {name!r}; expected one of {', '.join(LABEL_SPACES)}"
        ) from None
