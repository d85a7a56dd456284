"""Embedded synthetic FER domains: procedurally drawn faces that behave like real FER datasets.

The package's default data: every example, the demo scenario and most tests run on it, on a fresh
machine with no download. Each *domain* is a named style (:class:`DomainStyle`) from which
:func:`make_domain` draws a :class:`~fer_avalanche.data.ferdata.FERData` of 48x48 grey faces showing
the 7 basic expressions (``basic7``: angry, disgust, fear, happy, sad, surprise, neutral) through facial
geometry (brows, eyes, mouth, nose wrinkle, cheeks; see :mod:`fer_avalanche.data.faces`). Domains differ
the way real FER datasets differ: capture conditions (pose, light, noise, blur, occlusion, background),
who is photographed (identities, face shapes, hair), how people express (intensity, display habits) and
class balance. So a model trained on the in-the-wild source loses accuracy on the posed targets, and
adapting to a target erodes the source: the paper's memory-integrity problem, in seconds on a CPU.

## Synthetic domains

| name | mimics | default size | identities | style | class balance |
|---|---|---|---|---|---|
| `wild` | FER2013 | 8,000 | 2,000 | pose, light, noise, blur, occluders, clutter | FER2013-like |
| `lab-a` | JAFFE | 700 | 10 | posed, frontal, dark background, long dark hair; subtle | balanced |
| `lab-b` | TFEID / MUG | 900 | 30 | posed studio, bright background, large faces, side light | balanced |
| `lab-c` | CK+ | 1,200 | 100 | posed peak frames, tight crop, high contrast | CK+-like |

- `wild` (source, FER2013: web images of many people, faces found by a detector): random in-plane
  rotation, yaw-like squash and feature shift, scale and translation jitter, lighting gradients,
  contrast and brightness changes, Gaussian noise, blur, sunglasses and hand/bar occluders, textured
  backgrounds; natural-strength expressions; class shares of FER2013 train (angry .14, disgust .015,
  fear .14, happy .25, sad .17, surprise .11, neutral .175).
- `lab-a` (JAFFE: 10 Japanese women posing in one lab): frontal and clean, dark background, smaller
  faces set low in the frame with hair and shoulders, round faces, long dark hair with a fringe; subtle
  mouths and strong brows; fear posed with a round open mouth (close to the source's surprise), sad with
  a flat mouth: the cultural display differences reported for JAFFE.
- `lab-b` (TFEID / MUG: studio sessions of tens of posers): bright background, large faces set high in
  the frame, side light, light short hair, thin brows; strong expressions with the studio's own habits:
  closed-mouth smiles, angry with bared teeth, disgust without nose wrinkle and with lowered brows
  (close to the source's anger), fear with a stretched closed mouth, surprise with a half-open mouth,
  sad with lowered brows, a neutral face that smiles slightly.
- `lab-c` (CK+: peak frames of ~100 posers, usually cropped tight): textbook (FACS-like) expressions at
  peak intensity, the face filling the frame, high contrast, slight camera noise.

Every domain is deterministic from its seed (same seed: bit-identical images), carries subject ids
(identities), and comes split train/val/test (stratified, 80/10/10 by default). Expressions are
distinguishable but not trivially: intensities vary per person and per image and overlap between
classes (a faint smile is close to neutral, fear close to surprise), so no small CNN gets them all.
Measured with ``make_model(width=16)``, Adam 1e-3, batch 64 (the budget of
``tests/data/test_synthetic.py``, seeds 0-3): `wild` 0.59-0.74 after 3 epochs on 2,450 images, but only
0.20-0.56 zero-shot on the lab targets; a copy retrained (all layers, 8 epochs on 420 images) reaches
0.48-0.65 on `lab-a`, 0.78-0.88 on `lab-b`, while its `wild` accuracy falls by 0.12-0.29.

Example:
    >>> from fer_avalanche.data.synthetic import list_domains, make_domain
    >>> list_domains()
    ['lab-a', 'lab-b', 'lab-c', 'wild']
    >>> data = make_domain("lab-a", n=140, seed=0)
    >>> data.name, data.images.shape, data.num_subjects
    ('synth-lab-a', torch.Size([140, 1, 48, 48]), 10)
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fer_avalanche.data.faces import EXPRESSION_FIELDS, IDENTITY_FIELDS, FaceParams, render_faces
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.splits import split_by_fractions
from fer_avalanche.errors import ConfigError
from fer_avalanche.labels import BASIC7
from fer_avalanche.registry import Registry

__all__ = [
    "DomainStyle",
    "DOMAINS",
    "PROTOTYPES",
    "FER2013_PRIOR",
    "CKPLUS_PRIOR",
    "BASE_SHAPE",
    "list_domains",
    "get_domain",
    "make_domain",
    "sample_face_params",
]

#: Expression prototypes: the facial actions (:data:`~fer_avalanche.data.faces.EXPRESSION_FIELDS`) of
#: each ``basic7`` expression at full intensity. Rows: angry, disgust, fear, happy, sad, surprise,
#: neutral; columns: brow_raise, brow_slant, eye_open, mouth_curve, mouth_open, mouth_stretch,
#: upper_lip, teeth, nose_wrinkle, cheek_raise.
PROTOTYPES: dict[str, tuple[float, ...]] = {
    "angry": (-0.7, -1.0, -0.1, -0.3, 0.0, -0.3, 0.0, 0.0, 0.35, 0.0),
    "disgust": (-0.4, -0.4, -0.45, -0.6, 0.15, 0.0, 0.9, 0.3, 1.0, 0.3),
    "fear": (0.6, 0.8, 0.7, -0.25, 0.45, 0.5, 0.0, 0.4, 0.0, 0.0),
    "happy": (0.05, 0.0, -0.35, 1.0, 0.3, 0.5, 0.0, 0.6, 0.0, 1.0),
    "sad": (0.0, 0.9, -0.25, -0.8, 0.0, -0.2, 0.0, 0.0, 0.0, 0.0),
    "surprise": (1.0, 0.1, 1.0, 0.0, 1.0, -0.5, 0.0, 0.1, 0.0, 0.0),
    "neutral": (0.0,) * 10,
}

#: Class shares of FER2013's training set (basic7 order).
FER2013_PRIOR: tuple[float, ...] = (0.14, 0.015, 0.14, 0.25, 0.17, 0.11, 0.175)
#: CK+-like class shares (peak frames plus some neutral; few fear and sad).
CKPLUS_PRIOR: tuple[float, ...] = (0.13, 0.16, 0.07, 0.19, 0.08, 0.23, 0.14)
_BALANCED: tuple[float, ...] = (1.0 / 7,) * 7

#: Face-shape distribution shared by the domains: field -> (mean, sd, low, high); domains override means
#: and spreads through :attr:`DomainStyle.shape`. The bounds keep every part inside the band of rows the
#: renderer draws it in.
BASE_SHAPE: dict[str, tuple[float, float, float, float]] = {
    "face_w": (0.56, 0.04, 0.45, 0.68),
    "face_h": (0.74, 0.04, 0.62, 0.84),
    "face_cy": (0.08, 0.03, 0.0, 0.15),
    "skin": (0.62, 0.1, 0.3, 0.85),
    "hair_tone": (0.2, 0.1, 0.03, 0.6),
    "hairline": (-0.45, 0.06, -0.6, -0.3),
    "hair_volume": (0.55, 0.2, 0.1, 1.0),
    "hair_length": (0.1, 0.25, -0.3, 0.95),
    "eye_spacing": (0.24, 0.02, 0.19, 0.29),
    "eye_y": (-0.14, 0.03, -0.22, -0.07),
    "eye_size": (0.1, 0.012, 0.075, 0.13),
    "brow_thickness": (0.05, 0.01, 0.03, 0.075),
    "brow_gap": (0.12, 0.015, 0.09, 0.16),
    "mouth_w": (0.2, 0.02, 0.15, 0.26),
    "mouth_y": (0.42, 0.03, 0.34, 0.5),
    "nose_y": (0.2, 0.025, 0.13, 0.27),
}


@dataclass(frozen=True)
class DomainStyle:
    """How one synthetic "dataset" looks: who is in it, how they express, how it was photographed.

    Attributes:
        name: registry key (``'wild'``, ``'lab-a'``, ...); the data is named ``'synth-<name>'``.
        mimics: the real dataset(s) it stands in for.
        summary: one line on its style.
        default_n: images drawn when ``make_domain(n=None)``.
        n_identities: distinct persons (subject ids ``0..n_identities-1``); every person poses every
            expression (round robin within each class).
        class_probs: class shares in ``basic7`` order (counts are exact, largest remainder).
        shape: overrides of :data:`BASE_SHAPE` as ``(field, mean, sd)``.
        intensity: ``(median, log-sd)`` of a person's expression intensity (lognormal).
        intensity_jitter: log-sd of the per-image intensity around the person's.
        expression_noise: sd of independent per-image noise on every facial action.
        idiosyncrasy: sd of a person's constant offsets on the actions (a resting face).
        action_gain: per-action multipliers of :data:`PROTOTYPES` (10 values; the domain's display style).
        display_rules: ``(expression, action, delta)`` additions to prototypes (the domain's own way of
            showing an expression).
        rotation_deg, yaw, shift: sd of in-plane rotation (degrees), of the sideways feature shift and
            of the translation (image units); ``offset``: mean ``(x, y)`` translation (the crop habit).
        scale: ``(mean, sd)`` of face scale (1.0 = canonical; larger = tighter crop).
        squash: sd of the horizontal squash of a turned head.
        bg_level: ``(mean, sd)`` of background grey; ``bg_gradient`` sd of its slope.
        clutter: ``(probability, max amplitude)`` of textured background.
        light: ``(systematic x slope, random sd)`` of the lighting gradient.
        brightness: sd of added brightness; ``contrast``: ``(mean, sd)``.
        blur: ``(probability, max strength 0..2)``; ``noise``: ``(min, max)`` sensor sigma in grey levels.
        sunglasses, occlusion: probabilities of sunglasses and of a free occluder (hand, bar, object).
    """

    name: str
    mimics: str
    summary: str
    default_n: int
    n_identities: int
    class_probs: tuple[float, ...] = _BALANCED
    shape: tuple[tuple[str, float, float], ...] = ()
    intensity: tuple[float, float] = (0.85, 0.25)
    intensity_jitter: float = 0.25
    expression_noise: float = 0.18
    idiosyncrasy: float = 0.12
    action_gain: tuple[float, ...] = (1.0,) * 10
    display_rules: tuple[tuple[str, str, float], ...] = ()
    rotation_deg: float = 0.0
    yaw: float = 0.0
    shift: float = 0.02
    offset: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.15, 0.03)
    squash: float = 0.0
    bg_level: tuple[float, float] = (0.5, 0.05)
    bg_gradient: float = 0.02
    clutter: tuple[float, float] = (0.0, 0.0)
    light: tuple[float, float] = (0.0, 0.03)
    brightness: float = 0.02
    contrast: tuple[float, float] = (1.0, 0.05)
    blur: tuple[float, float] = (0.0, 0.0)
    noise: tuple[float, float] = (1.0, 3.0)
    sunglasses: float = 0.0
    occlusion: float = 0.0

    def __post_init__(self) -> None:
        if len(self.class_probs) != 7 or abs(sum(self.class_probs) - 1.0) > 1e-6:
            raise ConfigError(f"domain {self.name!r}: class_probs must be 7 shares summing to 1")
        if len(self.action_gain) != len(EXPRESSION_FIELDS):
            raise ConfigError(f"domain {self.name!r}: action_gain needs {len(EXPRESSION_FIELDS)} values")
        for expression, action, _ in self.display_rules:
            if expression not in PROTOTYPES or action not in EXPRESSION_FIELDS:
                raise ConfigError(f"domain {self.name!r}: bad display rule ({expression!r}, {action!r})")
        for fname, _, _ in self.shape:
            if fname not in BASE_SHAPE:
                raise ConfigError(f"domain {self.name!r}: unknown shape field {fname!r}")


def _gain(**gains: float) -> tuple[float, ...]:
    return tuple(gains.get(name, 1.0) for name in EXPRESSION_FIELDS)


#: The registry of named domains (:class:`fer_avalanche.registry.Registry`).
DOMAINS: Registry[DomainStyle] = Registry("synthetic domain")
for _style in (
    DomainStyle(
        name="wild",
        mimics="FER2013",
        summary="in-the-wild web faces: pose, light, noise, blur, occlusion, clutter; unbalanced",
        default_n=8000,
        n_identities=2000,
        class_probs=FER2013_PRIOR,
        shape=(("skin", 0.58, 0.14), ("hair_volume", 0.55, 0.25), ("hair_length", 0.1, 0.35)),
        intensity=(1.0, 0.25),
        intensity_jitter=0.2,
        expression_noise=0.15,
        idiosyncrasy=0.15,
        rotation_deg=6.0,
        yaw=0.05,
        shift=0.06,
        scale=(1.35, 0.09),
        squash=0.06,
        bg_level=(0.45, 0.15),
        bg_gradient=0.15,
        clutter=(0.6, 0.08),
        light=(0.0, 0.15),
        brightness=0.08,
        contrast=(1.0, 0.15),
        blur=(0.3, 1.0),
        noise=(2.0, 7.0),
        sunglasses=0.04,
        occlusion=0.08,
    ),
    DomainStyle(
        name="lab-a",
        mimics="JAFFE",
        summary="posed lab, frontal, dark background, small faces, long dark hair; subtle mouths",
        default_n=700,
        n_identities=10,
        shape=(
            ("face_w", 0.6, 0.02),
            ("face_h", 0.7, 0.02),
            ("hair_tone", 0.08, 0.03),
            ("hairline", -0.34, 0.03),
            ("hair_volume", 0.85, 0.08),
            ("hair_length", 0.85, 0.08),
            ("skin", 0.66, 0.04),
            ("eye_size", 0.092, 0.006),
        ),
        intensity=(0.75, 0.15),
        action_gain=_gain(
            mouth_curve=0.55, mouth_open=0.6, mouth_stretch=0.5, teeth=0.5, brow_raise=1.4, brow_slant=1.4
        ),
        display_rules=(
            ("fear", "mouth_stretch", -1.0),
            ("fear", "mouth_open", 0.5),
            ("fear", "brow_raise", 0.3),
            ("sad", "mouth_curve", 0.4),
            ("sad", "eye_open", -0.3),
            ("happy", "mouth_open", -0.2),
        ),
        scale=(1.05, 0.02),
        offset=(0.0, 0.08),
        bg_level=(0.15, 0.03),
        noise=(1.0, 2.0),
    ),
    DomainStyle(
        name="lab-b",
        mimics="TFEID / MUG",
        summary="posed studio, bright background, large faces, side light; own display habits",
        default_n=900,
        n_identities=30,
        shape=(
            ("hair_length", -0.1, 0.15),
            ("hair_volume", 0.3, 0.1),
            ("hair_tone", 0.45, 0.1),
            ("hairline", -0.52, 0.04),
            ("skin", 0.56, 0.05),
            ("brow_thickness", 0.04, 0.006),
        ),
        intensity=(1.05, 0.15),
        display_rules=(
            ("happy", "mouth_open", -0.3),
            ("happy", "teeth", -0.6),
            ("angry", "mouth_open", 0.45),
            ("angry", "teeth", 0.7),
            ("angry", "brow_slant", 0.5),
            ("disgust", "brow_raise", -0.3),
            ("disgust", "brow_slant", -0.6),
            ("disgust", "eye_open", 0.15),
            ("disgust", "mouth_curve", 0.3),
            ("disgust", "mouth_open", -0.15),
            ("disgust", "mouth_stretch", -0.3),
            ("disgust", "upper_lip", -0.7),
            ("disgust", "teeth", -0.3),
            ("disgust", "nose_wrinkle", -0.8),
            ("disgust", "cheek_raise", -0.3),
            ("fear", "mouth_open", -0.4),
            ("fear", "mouth_stretch", 0.4),
            ("sad", "brow_raise", -0.5),
            ("sad", "mouth_curve", 0.3),
            ("surprise", "mouth_open", -0.5),
            ("neutral", "mouth_curve", 0.35),
        ),
        scale=(1.7, 0.03),
        shift=0.03,
        offset=(0.0, -0.12),
        bg_level=(0.85, 0.04),
        light=(0.3, 0.04),
        noise=(1.0, 3.0),
    ),
    DomainStyle(
        name="lab-c",
        mimics="CK+",
        summary="posed peak frames, tight face crop, high contrast, slight camera noise; few fear/sad",
        default_n=1200,
        n_identities=100,
        class_probs=CKPLUS_PRIOR,
        shape=(("skin", 0.55, 0.08),),
        intensity=(1.0, 0.2),
        scale=(1.85, 0.04),
        shift=0.03,
        bg_level=(0.35, 0.08),
        contrast=(1.3, 0.08),
        noise=(3.0, 6.0),
    ),
):
    DOMAINS.add(_style.name, _style)


def list_domains() -> list[str]:
    """Names of the registered synthetic domains, sorted.

    Example:
        >>> "wild" in list_domains()
        True
    """
    return sorted(DOMAINS.names())


def get_domain(name: str) -> DomainStyle:
    """The :class:`DomainStyle` registered as ``name``.

    Raises:
        ConfigError: unknown name; the message suggests the closest and lists the registered ones.

    Example:
        >>> get_domain("lab-b").mimics
        'TFEID / MUG'
    """
    return DOMAINS.get(name)


def _class_counts(n: int, probs: Sequence[float]) -> np.ndarray:
    """Exact per-class counts (largest remainder), every class of share > 0 at least once when ``n``
    allows."""
    p = np.asarray(probs, dtype=np.float64)
    raw = p * n
    counts = np.floor(raw).astype(np.int64)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    while ((counts == 0) & (p > 0)).any() and n >= int((p > 0).sum()):
        counts[np.argmax(counts)] -= 1
        counts[np.flatnonzero((counts == 0) & (p > 0))[0]] += 1
    return counts


def sample_face_params(
    style: DomainStyle, labels: np.ndarray, subjects: np.ndarray, rng: np.random.Generator
) -> FaceParams:
    """Draw the :class:`~fer_avalanche.data.faces.FaceParams` of one image per label, in ``style``.

    ``subjects`` (ints in ``0..style.n_identities-1``) select the persistent identities, drawn first
    from ``rng`` so a person looks the same in every image.

    Example:
        >>> import numpy as np
        >>> style = get_domain("lab-a")
        >>> p = sample_face_params(style, np.array([3, 6]), np.array([0, 0]), np.random.default_rng(0))
        >>> bool(p.face_w[0] == p.face_w[1]), bool(p.mouth_curve[0] > p.mouth_curve[1])
        (True, True)
    """
    n, k = len(labels), style.n_identities
    shape = dict(BASE_SHAPE)
    for fname, mean, sd in style.shape:
        lo, hi = shape[fname][2], shape[fname][3]
        shape[fname] = (mean, sd, lo, hi)

    # identities: shape, expression intensity, resting-face offsets
    ident = {
        f: np.clip(rng.normal(shape[f][0], shape[f][1], k), shape[f][2], shape[f][3]) for f in IDENTITY_FIELDS
    }
    person_intensity = style.intensity[0] * np.exp(style.intensity[1] * rng.standard_normal(k))
    person_offset = style.idiosyncrasy * rng.standard_normal((k, len(EXPRESSION_FIELDS)))

    # expressions: person offset + intensity * (prototype * display gain + display rules) + noise
    proto = np.array([PROTOTYPES[c] for c in BASIC7.names]) * np.asarray(style.action_gain)
    for expression, action, delta in style.display_rules:
        proto[BASIC7.index(expression), EXPRESSION_FIELDS.index(action)] += delta
    intensity = person_intensity[subjects] * np.exp(style.intensity_jitter * rng.standard_normal(n))
    actions = (
        person_offset[subjects]
        + intensity[:, None] * proto[labels]
        + style.expression_noise * rng.standard_normal((n, len(EXPRESSION_FIELDS)))
    )
    values: dict[str, np.ndarray] = {f: ident[f][subjects] for f in IDENTITY_FIELDS}
    values.update({f: actions[:, i] for i, f in enumerate(EXPRESSION_FIELDS)})
    values["teeth"] = np.clip(values["teeth"], 0.0, 1.0)

    # scene
    def normal(sd: float, mean: float = 0.0) -> np.ndarray:
        return mean + sd * rng.standard_normal(n)

    def chance(p: float) -> np.ndarray:
        return (rng.random(n) < p).astype(np.float64)

    values["rotation"] = np.deg2rad(
        np.clip(normal(style.rotation_deg), -2.5 * style.rotation_deg - 1e-9, 2.5 * style.rotation_deg + 1e-9)
    )
    values["feature_dx"] = np.clip(normal(style.yaw), -0.15, 0.15)
    values["squash"] = 1.0 - np.abs(normal(style.squash)).clip(max=0.3)
    values["scale"] = np.clip(normal(style.scale[1], style.scale[0]), 0.7, 2.0)
    values["shift_x"] = normal(style.shift, style.offset[0])
    values["shift_y"] = normal(style.shift, style.offset[1])
    values["bg_level"] = np.clip(normal(style.bg_level[1], style.bg_level[0]), 0.0, 1.0)
    values["bg_grad_x"] = normal(style.bg_gradient)
    values["bg_grad_y"] = normal(style.bg_gradient)
    values["clutter"] = chance(style.clutter[0]) * rng.random(n) * style.clutter[1]
    values["light_x"] = normal(style.light[1], style.light[0])
    values["light_y"] = normal(style.light[1])
    values["brightness"] = normal(style.brightness)
    values["contrast"] = np.clip(normal(style.contrast[1], style.contrast[0]), 0.3, 2.5)
    values["blur"] = chance(style.blur[0]) * rng.random(n) * style.blur[1]
    values["noise"] = rng.uniform(style.noise[0], style.noise[1], n)
    values["sunglasses"] = chance(style.sunglasses)
    values["occluder"] = chance(style.occlusion)
    values["occ_x"] = rng.uniform(-0.6, 0.6, n)
    values["occ_y"] = rng.uniform(-0.3, 0.8, n)
    bar = rng.random(n) < 0.3  # a third are bars (a microphone, a scarf edge), the rest hand-like blobs
    values["occ_rx"] = np.where(bar, rng.uniform(0.5, 0.9, n), rng.uniform(0.15, 0.3, n))
    values["occ_ry"] = np.where(bar, rng.uniform(0.06, 0.12, n), rng.uniform(0.2, 0.4, n))
    values["occ_tone"] = rng.uniform(0.1, 0.9, n)
    return FaceParams(**{f: torch.from_numpy(np.asarray(v, dtype=np.float32)) for f, v in values.items()})


def make_domain(
    name: str,
    n: int | None = None,
    seed: int = 0,
    image_size: int = 48,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    drop_classes: Sequence[str] = (),
) -> FERData:
    """Draw ``n`` images of the synthetic domain ``name`` as a split, labelled FERData.

    Args:
        name: a registered domain (:func:`list_domains`).
        n: number of images (``None``: the domain's ``default_n``); an int >= 7.
        seed: every random choice (identities, labels, expressions, scene, noise) follows from it;
            the same seed gives bit-identical data.
        image_size: side of the square images in pixels.
        fractions: ``(train, val, test)`` shares of the stratified, seeded image-level split.
        drop_classes: expression names the domain lacks (``["neutral"]``: a CK+48-like target); the
            ``n`` images are spread over the other classes in the style's proportions, the label space
            stays ``basic7``. In a scenario: ``options = { drop_classes = ["neutral"] }``.

    Returns:
        FERData named ``'synth-<name>'`` in ``basic7``, with subject ids, a split and provenance.

    Raises:
        ConfigError: unknown domain (with the closest name), bad ``n``, size, fractions or class names.

    Example:
        >>> data = make_domain("wild", n=700, seed=1)
        >>> data.name, len(data), data.counts()
        ('synth-wild', 700, {'train': 559, 'val': 71, 'test': 70})
    """
    style = get_domain(name)
    if n is None:
        n = style.default_n
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 7:
        raise ConfigError(f"synthetic domain {name!r}: n must be an int >= 7 (one per class), got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"synthetic domain {name!r}: seed must be an int, got {seed!r}")
    if not isinstance(image_size, int | np.integer) or image_size < 16:
        raise ConfigError(f"synthetic domain {name!r}: image_size must be an int >= 16, got {image_size!r}")
    n, seed, image_size = int(n), int(seed), int(image_size)
    if isinstance(drop_classes, str):
        drop_classes = [drop_classes]
    unknown = [c for c in drop_classes if c not in BASIC7.names]
    if unknown or len(set(drop_classes)) >= len(BASIC7.names):
        raise ConfigError(
            f"synthetic domain {name!r}: drop_classes must name some (not all) of {list(BASIC7.names)}, "
            f"got {list(drop_classes)}"
        )
    probs = np.asarray(style.class_probs, dtype=np.float64)
    if drop_classes:
        probs[[BASIC7.index(c) for c in drop_classes]] = 0.0
        probs = probs / probs.sum()

    rng = np.random.default_rng([seed, _name_key(name)])
    counts = _class_counts(n, probs)
    labels = np.repeat(np.arange(7), counts)
    subjects = np.empty(n, dtype=np.int64)
    k = min(style.n_identities, n)
    for c in range(7):
        idx = np.flatnonzero(labels == c)
        subjects[idx] = rng.permutation(k)[np.arange(len(idx)) % k] if k else 0
    order = rng.permutation(n)
    labels, subjects = labels[order], subjects[order]

    params = sample_face_params(dataclasses.replace(style, n_identities=k), labels, subjects, rng)
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    images = render_faces(params, size=image_size, generator=generator)

    data = FERData(
        name=f"synth-{name}",
        images=images,
        labels=torch.from_numpy(labels),
        split=torch.zeros(n, dtype=torch.long),
        label_space=BASIC7,
        subjects=torch.from_numpy(subjects),
        provenance={
            "format": "synthetic",
            "domain": name,
            "mimics": style.mimics,
            "seed": seed,
            "n": n,
            "image_size": image_size,
            "identities": k,
            **({"drop_classes": sorted(drop_classes)} if drop_classes else {}),
        },
    )
    return split_by_fractions(data, fractions, seed=seed, stratify=True)


def _name_key(name: str) -> int:
    """A stable integer per domain name, so two domains drawn with one seed are independent."""
    return zlib.crc32(name.encode("utf-8"))
