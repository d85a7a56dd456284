"""Vectorised renderer of procedurally drawn grey faces (the pixels behind the synthetic FER domains).

A face is described by a handful of numbers (:class:`FaceParams`, one tensor ``[N]`` per field):

- **identity** (persistent per person): face oval width/height/centre, skin tone, hair tone, hairline,
  hair volume and length, eye spacing/height/size, brow thickness and gap, mouth width and height,
  nose height;
- **expression** (the 10 facial actions of :data:`EXPRESSION_FIELDS`): brow raise, brow slant (inner
  ends up for sad/fear, down for anger), eye openness (wide for fear/surprise, squint for
  happy/disgust), mouth corner curvature (up for happy, down for sad), mouth opening (jaw drop),
  horizontal stretch, upper-lip raise, visible teeth, nose wrinkle, cheek raise;
- **scene** (how the photo was taken): in-plane rotation, yaw-like horizontal squash and feature shift,
  scale and translation, background level/gradient/clutter, lighting gradient, brightness, contrast,
  blur, sensor noise, sunglasses, and one free occluder (hand, bar, object).

:func:`render_faces` draws a whole batch at once with tensor ops on coordinate grids ``[N, H, W]``: every
facial part is a soft shape (ellipse, parabolic band, line) built from an approximate signed distance
through a one-pixel linear ramp, so edges are anti-aliased at the output size. Parts are drawn in a
canonical, frontal face frame; the pose is one ``affine_grid`` + ``grid_sample`` warp of the face
(intensity and coverage together), composited over the background, then lit, blurred, noised and
quantised. The only Python loops are over facial parts and over chunks of the batch.

Example:
    >>> import torch
    >>> from fer_avalanche.data.faces import FaceParams, render_faces
    >>> params = FaceParams.neutral(4)
    >>> params.mouth_curve[:] = 1.0  # four smiling faces
    >>> images = render_faces(params, size=48, generator=torch.Generator().manual_seed(0))
    >>> images.shape, images.dtype
    (torch.Size([4, 1, 48, 48]), torch.uint8)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fer_avalanche.errors import ConfigError

__all__ = [
    "FaceParams",
    "render_faces",
    "IDENTITY_FIELDS",
    "EXPRESSION_FIELDS",
    "SCENE_FIELDS",
]

#: Persistent face-shape fields (canonical face frame: x right, y down, both in ``[-1, 1]``).
IDENTITY_FIELDS: tuple[str, ...] = (
    "face_w",
    "face_h",
    "face_cy",
    "skin",
    "hair_tone",
    "hairline",
    "hair_volume",
    "hair_length",
    "eye_spacing",
    "eye_y",
    "eye_size",
    "brow_thickness",
    "brow_gap",
    "mouth_w",
    "mouth_y",
    "nose_y",
)

#: Expression (facial action) fields; all 0 is a neutral face, useful values lie in about ``[-1, 1.5]``.
EXPRESSION_FIELDS: tuple[str, ...] = (
    "brow_raise",
    "brow_slant",
    "eye_open",
    "mouth_curve",
    "mouth_open",
    "mouth_stretch",
    "upper_lip",
    "teeth",
    "nose_wrinkle",
    "cheek_raise",
)

#: Imaging fields: pose, background, light, degradations, occlusion.
SCENE_FIELDS: tuple[str, ...] = (
    "feature_dx",
    "rotation",
    "squash",
    "scale",
    "shift_x",
    "shift_y",
    "bg_level",
    "bg_grad_x",
    "bg_grad_y",
    "clutter",
    "light_x",
    "light_y",
    "brightness",
    "contrast",
    "blur",
    "noise",
    "sunglasses",
    "occluder",
    "occ_x",
    "occ_y",
    "occ_rx",
    "occ_ry",
    "occ_tone",
)

_DEFAULTS: dict[str, float] = {
    # identity
    "face_w": 0.56,
    "face_h": 0.74,
    "face_cy": 0.08,
    "skin": 0.62,
    "hair_tone": 0.18,
    "hairline": -0.42,
    "hair_volume": 0.5,
    "hair_length": 0.2,
    "eye_spacing": 0.24,
    "eye_y": -0.14,
    "eye_size": 0.1,
    "brow_thickness": 0.05,
    "brow_gap": 0.12,
    "mouth_w": 0.2,
    "mouth_y": 0.42,
    "nose_y": 0.2,
    # scene
    "scale": 1.0,
    "squash": 1.0,
    "bg_level": 0.5,
    "contrast": 1.0,
    "occ_rx": 0.2,
    "occ_ry": 0.2,
    "occ_tone": 0.5,
}


@dataclass
class FaceParams:
    """Parameters of ``N`` faces: one float tensor ``[N]`` per field.

    Coordinates are in the canonical face frame (``x`` right, ``y`` down, image spans ``[-1, 1]``);
    tones are grey levels in ``[0, 1]``. Field groups (see :data:`IDENTITY_FIELDS`,
    :data:`EXPRESSION_FIELDS`, :data:`SCENE_FIELDS`):

    - identity: ``face_w``/``face_h`` semi-axes of the face oval and ``face_cy`` its centre height;
      ``skin``, ``hair_tone``; ``hairline`` (y of the fringe at the centre), ``hair_volume`` (0 bald
      .. 1 bushy), ``hair_length`` (y where hair behind the face ends); ``eye_spacing`` (x of each eye),
      ``eye_y``, ``eye_size`` (eye half-width); ``brow_thickness``, ``brow_gap`` (eye-to-brow distance);
      ``mouth_w`` (half-width), ``mouth_y``; ``nose_y`` (nostrils).
    - expression: ``brow_raise`` (+ up), ``brow_slant`` (+ inner ends up, - inner ends down as in
      anger), ``eye_open`` (+ wide, - squint), ``mouth_curve`` (+ corners up), ``mouth_open`` (jaw
      drop), ``mouth_stretch`` (+ wide, - pursed/round), ``upper_lip`` (raise), ``teeth`` (0..1 share
      of the opening showing teeth), ``nose_wrinkle``, ``cheek_raise``.
    - scene: ``feature_dx`` (features shifted sideways, a yaw cue), ``rotation`` (radians),
      ``squash`` (horizontal scale, < 1 for a turned head), ``scale`` (face size, 1 = canonical),
      ``shift_x``/``shift_y`` (translation in image units), ``bg_level``, ``bg_grad_x``/``bg_grad_y``,
      ``clutter`` (amplitude of blobby background texture), ``light_x``/``light_y`` (multiplicative
      lighting gradient), ``brightness`` (added), ``contrast`` (around mid-grey), ``blur`` (0..1 blend
      to a ~1 px Gaussian blur, up to 2 for stronger), ``noise`` (Gaussian sigma in grey levels/255),
      ``sunglasses`` (0/1), ``occluder`` (0/1) with ellipse ``occ_x``, ``occ_y``, ``occ_rx``,
      ``occ_ry`` (image frame) and tone ``occ_tone``.

    Example:
        >>> p = FaceParams.neutral(3)
        >>> len(p), p.face_w.shape
        (3, torch.Size([3]))
    """

    face_w: torch.Tensor
    face_h: torch.Tensor
    face_cy: torch.Tensor
    skin: torch.Tensor
    hair_tone: torch.Tensor
    hairline: torch.Tensor
    hair_volume: torch.Tensor
    hair_length: torch.Tensor
    eye_spacing: torch.Tensor
    eye_y: torch.Tensor
    eye_size: torch.Tensor
    brow_thickness: torch.Tensor
    brow_gap: torch.Tensor
    mouth_w: torch.Tensor
    mouth_y: torch.Tensor
    nose_y: torch.Tensor
    brow_raise: torch.Tensor
    brow_slant: torch.Tensor
    eye_open: torch.Tensor
    mouth_curve: torch.Tensor
    mouth_open: torch.Tensor
    mouth_stretch: torch.Tensor
    upper_lip: torch.Tensor
    teeth: torch.Tensor
    nose_wrinkle: torch.Tensor
    cheek_raise: torch.Tensor
    feature_dx: torch.Tensor
    rotation: torch.Tensor
    squash: torch.Tensor
    scale: torch.Tensor
    shift_x: torch.Tensor
    shift_y: torch.Tensor
    bg_level: torch.Tensor
    bg_grad_x: torch.Tensor
    bg_grad_y: torch.Tensor
    clutter: torch.Tensor
    light_x: torch.Tensor
    light_y: torch.Tensor
    brightness: torch.Tensor
    contrast: torch.Tensor
    blur: torch.Tensor
    noise: torch.Tensor
    sunglasses: torch.Tensor
    occluder: torch.Tensor
    occ_x: torch.Tensor
    occ_y: torch.Tensor
    occ_rx: torch.Tensor
    occ_ry: torch.Tensor
    occ_tone: torch.Tensor

    def __post_init__(self) -> None:
        n = None
        for f in dataclasses.fields(self):
            value = torch.as_tensor(getattr(self, f.name), dtype=torch.float32)
            if value.dim() != 1:
                raise ConfigError(
                    f"FaceParams.{f.name} must be a 1-D tensor [N], got shape {list(value.shape)}"
                )
            if n is None:
                n = value.shape[0]
            elif value.shape[0] != n:
                raise ConfigError(
                    f"FaceParams.{f.name} has {value.shape[0]} values, expected {n} like the others"
                )
            setattr(self, f.name, value)

    def __len__(self) -> int:
        return int(self.face_w.shape[0])

    @classmethod
    def neutral(cls, n: int) -> FaceParams:
        """``n`` identical, frontal, neutral, clean faces on a mid-grey background (a starting point).

        Example:
            >>> FaceParams.neutral(2).skin.tolist()
            [0.6200000047683716, 0.6200000047683716]
        """
        return cls(**{f.name: torch.full((n,), _DEFAULTS.get(f.name, 0.0)) for f in dataclasses.fields(cls)})

    def slice(self, start: int, stop: int) -> FaceParams:
        """The faces ``start:stop`` as a new FaceParams (views, no copy)."""
        return FaceParams(**{f.name: getattr(self, f.name)[start:stop] for f in dataclasses.fields(self)})


# --------------------------------------------------------------------------- soft shapes
def _ramp(d: torch.Tensor, px: float) -> torch.Tensor:
    """Coverage from a signed distance ``d`` (> 0 inside), a linear ramp one pixel ``px`` wide."""
    return (d / px + 0.5).clamp_(0.0, 1.0)


def _step(d: torch.Tensor, inv: float) -> torch.Tensor:
    """Like :func:`_ramp` with ``inv = 1 / px`` (a new tensor)."""
    return (d * inv + 0.5).clamp(0.0, 1.0)


def _ellipse(x: torch.Tensor, y: torch.Tensor, cx, cy, a, b, px: float) -> torch.Tensor:
    """Soft ellipse coverage; the signed distance is approximated from ``1 - r^2``."""
    r2 = ((x - cx) / a).square_() + ((y - cy) / b).square_()
    half = 0.5 * torch.minimum(a, b) if isinstance(a, torch.Tensor) else 0.5 * min(a, b)
    return _ramp((1.0 - r2) * half, px)


def _lerp_(img: torch.Tensor, tone, mask: torch.Tensor) -> torch.Tensor:
    """In place ``img = img + mask * (tone - img)``."""
    return img.add_(mask * (tone - img))


def _c(v: torch.Tensor) -> torch.Tensor:
    """A per-image value ``[N]`` as ``[N, 1, 1]`` for broadcasting over the pixel grid."""
    return v[:, None, None]


def _interp_matrix(k: int, size: int) -> torch.Tensor:
    """``[size, k]`` weights of bilinear upsampling (pixel centres aligned) from ``k`` to ``size`` samples."""
    pos = ((torch.arange(size, dtype=torch.float32) + 0.5) * k / size - 0.5).clamp(0.0, k - 1.0)
    lo = pos.floor().long().clamp(max=k - 2)
    frac = pos - lo
    m = torch.zeros(size, k)
    m[torch.arange(size), lo] = 1.0 - frac
    m[torch.arange(size), lo + 1] += frac
    return m


def _blur3(img: torch.Tensor) -> torch.Tensor:
    """Separable binomial ``[1, 2, 1] / 4`` blur (sigma ~0.7 px) of ``[N, H, W]``, replicated borders.

    Shifted slices, not ``conv2d``: several times faster on CPU for one channel, and exact.
    """
    p = F.pad(img[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    h = p[:, :, :-2] + p[:, :, 2:] + 2.0 * p[:, :, 1:-1]
    return (h[:, :-2, :] + h[:, 2:, :] + 2.0 * h[:, 1:-1, :]).mul_(0.0625)


# --------------------------------------------------------------------------- the face in its own frame
def _rows(size: int, lo: float, hi: float) -> slice:
    """The pixel rows whose centres lie in ``[lo, hi]`` (canonical units), to draw a part only there."""
    r0 = max(0, math.floor((lo + 1.0) * size / 2.0))
    r1 = min(size, math.ceil((hi + 1.0) * size / 2.0) + 1)
    return slice(r0, r1)


def _draw_canonical(p: FaceParams, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied intensity and coverage ``[N, size, size]`` of frontal faces (hair, face, features).

    ``x`` is ``[1, 1, W]`` and ``y`` ``[1, H, 1]``: terms of one axis stay small and only the final
    combination of a part is a full ``[N, H, W]`` tensor. Parts are drawn in the band of rows they can
    reach (identity parameters are clamped by :mod:`fer_avalanche.data.synthetic` to keep them there).
    """
    px = 2.0 / size
    inv = 1.0 / px
    coords = (torch.arange(size, dtype=torch.float32) * 2.0 + 1.0) / size - 1.0
    y_all = coords.view(1, size, 1)
    x = coords[size // 2 :].view(1, 1, -1)  # the right half (x >= 0); faces are mirror-symmetric

    fw, fh, fcy = _c(p.face_w), _c(p.face_h), _c(p.face_cy)
    skin, hair = _c(p.skin), _c(p.hair_tone)

    # hair mass behind the face: an ellipse whose lower half reaches down to hair_length
    vol = _c(p.hair_volume).clamp(0.0, 1.0)
    hair_a = fw + 0.04 + 0.12 * vol
    hair_cy = fcy - 0.12
    b_up = fh * 0.95 + 0.1 * vol
    b_down = (_c(p.hair_length) - hair_cy).clamp(min=0.05)
    hair_b = torch.where(y_all < hair_cy, b_up, b_down)  # [N, H, 1]
    hx = (x / hair_a).square()  # [N, 1, W]
    hy = ((y_all - hair_cy) / hair_b).square()  # [N, H, 1]
    k = (0.5 * inv) * torch.minimum(hair_a, hair_b)
    alpha = ((1.0 - hx - hy) * k + 0.5).clamp_(0.0, 1.0).mul_(0.25 + 0.75 * vol)
    img = alpha * hair

    # neck (below the chin, drawn first so the face covers its top)
    neck = _step(0.42 * fw - x.abs(), inv) * _step(y_all - fcy - 0.35, inv)
    _lerp_(img, skin * 0.8, neck)
    torch.maximum(alpha, neck, out=alpha)

    # face oval with soft shading; the fringe (hairline curving down at the temples) replaces skin
    r2 = (x / fw).square() + ((y_all - fcy) / fh).square()
    face = ((1.0 - r2) * ((0.5 * inv) * torch.minimum(fw, fh)) + 0.5).clamp_(0.0, 1.0)
    tone = skin * (1.08 - 0.22 * r2.clamp_(max=1.0))
    fringe_y = _c(p.hairline) + 0.55 * (x / fw).square()  # [N, 1, W]
    fringe = ((fringe_y - y_all) * inv + 0.5).clamp_(0.0, 1.0).mul_(vol.clamp(min=0.2))
    tone.add_(fringe * (hair - tone))
    _lerp_(img, tone, face)
    torch.maximum(alpha, face, out=alpha)

    ax = x
    es, ey, esz = _c(p.eye_spacing), _c(p.eye_y), _c(p.eye_size)
    dark = (skin * 0.35).clamp(max=0.25)
    my, ny = _c(p.mouth_y), _c(p.nose_y)
    mw = _c(p.mouth_w) * (1.0 + 0.35 * _c(p.mouth_stretch))

    # ---- upper band: forehead lines, brows, eyes, sunglasses
    rows = _rows(size, -0.85, 0.12)
    y = y_all[:, rows]
    im, fc = img[:, rows], face[:, rows]
    raise_ = _c(p.brow_raise)
    slant = _c(p.brow_slant)
    b_in, b_out = es - 0.12, es + 0.15
    t = ((ax - b_in) / (b_out - b_in)).clamp(0.0, 1.0)
    brow_y = ey - _c(p.brow_gap) - 0.09 * raise_ - 0.08 * slant * (1.0 - t) - 0.12 * t * (1.0 - t)  # [N,1,W]
    ends = (torch.minimum(ax - b_in, b_out - ax) * inv + 0.5).clamp_(0.0, 1.0)
    brow = ((0.5 * _c(p.brow_thickness) - (y - brow_y).abs()) * inv + 0.5).clamp_(0.0, 1.0).mul_(ends * fc)
    _lerp_(im, hair * 0.8 + 0.04, brow)

    lines = (raise_ - 0.4).clamp(0.0, 1.0) * 0.5  # forehead lines when the brows go up
    fore_y = (torch.cos((y - ey) * (2 * math.pi / 0.075)) - 0.6).clamp(min=0.0) * 2.5  # [N, h, 1]
    fore_y = fore_y * _step(y - ey + 0.48, inv) * _step(ey - 0.22 - y, inv)
    fore_x = ((0.22 - ax) * inv + 0.5).clamp(0.0, 1.0) * lines
    _lerp_(im, dark + 0.2, fore_y * fore_x * fc)

    open_ = (1.0 + 0.55 * _c(p.eye_open)).clamp(0.12, 2.2)  # eyes: sclera, iris, upper lid line
    eh = esz * 0.42 * open_
    k = (0.5 * inv) * torch.minimum(esz, eh)
    eye_d = (1.0 - ((ax - es) / esz).square() - ((y - ey) / eh).square()) * k
    eye = (eye_d + 0.5).clamp(0.0, 1.0)
    upper = ((ey + 0.2 * eh - y) * inv + 0.5).clamp(0.0, 1.0)
    lid = ((eye_d + 0.022 * inv + 0.5).clamp_(0.0, 1.0) - eye).mul_(upper * fc)
    _lerp_(im, dark, lid)
    eye.mul_(fc)
    _lerp_(im, (skin + 0.3).clamp(max=0.95), eye)
    iris = (1.0 - ((ax - es) / (0.5 * esz)).square() - ((y - ey) / (0.5 * esz)).square()) * (0.25 * inv * esz)
    _lerp_(im, dark * 0.6, (iris + 0.5).clamp_(0.0, 1.0).mul_(eye))

    sg = _c(p.sunglasses)  # sunglasses: dark lenses and a bridge
    la, lb = esz * 1.7 + 0.02, esz * 1.15 + 0.02
    lens = (1.0 - ((ax - es) / la).square() - ((y - ey - 0.01) / lb).square()) * ((0.5 * inv) * lb) + 0.5
    bridge = _step(0.015 - (y - ey + 0.03).abs(), inv) * _step(es - ax, inv)
    glasses = torch.maximum(lens.clamp_(0.0, 1.0), bridge).mul_(sg * fc)
    _lerp_(im, 0.07, glasses)

    # ---- middle band: cheeks, nose, wrinkles, nasolabial folds
    rows = _rows(size, -0.3, 0.75)
    y = y_all[:, rows]
    im, fc = img[:, rows], face[:, rows]
    cheek = _c(p.cheek_raise).clamp(min=0.0)
    cy = ey + 0.2 - 0.04 * cheek
    cm = (1.0 - ((ax - es - 0.02) / 0.12).square() - ((y - cy) / 0.08).square()) * (0.04 * inv) + 0.5
    im.add_(cm.clamp_(0.0, 1.0).mul_(cheek * 0.12 * fc))
    fold_strength = (0.5 * cheek + 0.6 * _c(p.nose_wrinkle).clamp(min=0.0)).clamp(max=1.0) * 0.7
    fold_x = 0.1 + (mw + 0.03 - 0.1) * ((y - ny) / (my - ny)).clamp(0.0, 1.0)  # [N, h, 1]
    in_band = ((y > ny) & (y < my + 0.02)).float() * fold_strength
    fold = ((0.014 - (ax - fold_x).abs()) * inv + 0.5).clamp_(0.0, 1.0).mul_(in_band * fc)
    _lerp_(im, dark + 0.15, fold)

    nostril = (1.0 - ((ax - 0.065) / 0.04).square() - ((y - ny) / 0.022).square()) * (0.011 * inv) + 0.5
    _lerp_(im, dark + 0.1, nostril.clamp_(0.0, 1.0).mul_(0.8 * fc))
    side = ((y > ey + 0.06) & (y < ny - 0.02)).float() * 0.35
    shadow = ((0.02 - (ax - 0.05).abs()) * inv + 0.5).clamp(0.0, 1.0) * side
    _lerp_(im, skin * 0.75, shadow * fc)
    wr = _c(p.nose_wrinkle).clamp(0.0, 1.5) * 0.6
    wy = (torch.cos((y - ey) * (2 * math.pi / 0.06)) - 0.5).clamp(min=0.0) * 2.0
    wy = wy * torch.minimum(y - ey + 0.03, ey + 0.2 - y).mul(inv).add(0.5).clamp(0.0, 1.0) * wr  # [N, h, 1]
    wx = ((0.1 - ax) * inv + 0.5).clamp(0.0, 1.0)
    _lerp_(im, dark + 0.1, (wy * wx).clamp_(max=1.0).mul_(fc))

    # ---- lower band: the mouth, a lens between two parabolas around a curved midline
    rows = _rows(size, 0.1, 0.98)
    y = y_all[:, rows]
    im, fc = img[:, rows], face[:, rows]
    xr2 = (ax / mw).square()  # [N, 1, W]
    inside = (1.0 - xr2).clamp(min=0.0)
    curve = _c(p.mouth_curve)
    mid = my + 0.02 * curve - 0.075 * curve * xr2
    opening = _c(p.mouth_open).clamp(min=0.0)
    up = mid - 0.012 - (0.05 * opening + 0.04 * _c(p.upper_lip).clamp(min=0.0)) * inside  # upper edge
    down = mid + 0.012 + 0.13 * opening * inside  # lower edge
    ends = (((1.0 - xr2) * 0.5 * mw) * inv + 0.5).clamp(0.0, 1.0)
    lips = (torch.minimum(y - up + 0.028, down + 0.03 - y) * inv + 0.5).clamp_(0.0, 1.0).mul_(ends * fc)
    _lerp_(im, skin * 0.72, lips)
    mouth = (torch.minimum(y - up, down - y) * inv + 0.5).clamp_(0.0, 1.0).mul_(ends)
    teeth_line = up + _c(p.teeth).clamp(0.0, 1.0) * (down - up) * 0.55  # [N, 1, W]
    teeth = ((teeth_line - y) * inv + 0.5).clamp_(0.0, 1.0).mul_(mouth * fc * (opening > 0.05).float())
    mouth.mul_(fc)
    _lerp_(im, dark * 0.5, mouth)
    _lerp_(im, (skin + 0.25).clamp(max=0.92), teeth)

    img.mul_(alpha)
    left = size // 2
    return (
        torch.cat([img.flip(-1)[..., :left], img], dim=-1),
        torch.cat([alpha.flip(-1)[..., :left], alpha], dim=-1),
    )


# --------------------------------------------------------------------------- public renderer
def render_faces(
    params: FaceParams, size: int = 48, generator: torch.Generator | None = None, chunk: int = 256
) -> torch.Tensor:
    """Draw ``len(params)`` faces as ``uint8 [N, 1, size, size]`` grey images.

    Args:
        params: the faces (see :class:`FaceParams`).
        size: output side in pixels (the faces are drawn at this size directly, anti-aliased).
        generator: source of the background clutter and sensor noise; a fixed seed gives bit-identical
            images (the global RNG is never used). ``None`` means ``torch.Generator().manual_seed(0)``.
        chunk: faces drawn per vectorised step (cache-sized; the random draws, hence the images, depend
            on it, so keep the default for reproducible data).

    The renderer runs on one intra-op thread (restored afterwards): its tensors are small, and torch's
    thread pool costs more than it gives on them, badly so on a loaded machine.

    Example:
        >>> import torch
        >>> p = FaceParams.neutral(2)
        >>> p.eye_open[1] = 1.0
        >>> a = render_faces(p, 48, torch.Generator().manual_seed(1))
        >>> b = render_faces(p, 48, torch.Generator().manual_seed(1))
        >>> bool(torch.equal(a, b)), bool(torch.equal(a[0], a[1]))
        (True, False)
    """
    if not isinstance(size, int) or size < 16:
        raise ConfigError(f"image size must be an int >= 16, got {size!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    n = len(params)
    out = torch.empty(n, 1, size, size, dtype=torch.uint8)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: intra-op threads cost more than they give
    try:
        with torch.no_grad():
            for start in range(0, n, chunk):
                stop = min(n, start + chunk)
                out[start:stop, 0] = _render_chunk(params.slice(start, stop), size, generator)
    finally:
        torch.set_num_threads(threads)
    return out


def _render_chunk(p: FaceParams, size: int, generator: torch.Generator) -> torch.Tensor:
    n = len(p)
    px = 2.0 / size
    img, alpha = _draw_canonical(p, size)

    # pose: output coords -> canonical coords (rotation, squash, scale, shift), warp intensity + coverage
    cos, sin = torch.cos(p.rotation), torch.sin(p.rotation)
    sx, sy = p.scale * p.squash, p.scale
    tx, ty = p.shift_x, p.shift_y
    theta = torch.stack(
        [
            torch.stack([cos / sx, sin / sx, -(cos * tx + sin * ty) / sx], dim=1),
            torch.stack([-sin / sy, cos / sy, -(-sin * tx + cos * ty) / sy], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, [n, 2, size, size], align_corners=False)
    # yaw: features near the midline move sideways more than the face outline (no fold for |dx| < 0.3)
    gx = grid[..., 0]
    gx.sub_(p.feature_dx.view(n, 1, 1) * (1.0 - (gx / 0.65).square()).clamp_(min=0.0))
    warped = F.grid_sample(
        torch.stack([img, alpha], dim=1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    img, alpha = warped[:, 0], warped[:, 1]

    coords = (torch.arange(size, dtype=torch.float32) * 2.0 + 1.0) / size - 1.0
    y = coords.view(1, size, 1)
    x = coords.view(1, 1, size)

    # background: level + gradient + clutter (smooth blobs at two scales and blocky patches)
    bg = _c(p.bg_level) + _c(p.bg_grad_x) * x + _c(p.bg_grad_y) * y
    sel = (p.clutter != 0).nonzero().flatten()
    if len(sel):
        m = len(sel)
        coarse = torch.randn(m, 5, 5, generator=generator)
        fine = torch.randn(m, 11, 11, generator=generator)
        blocks = torch.randn(m, 5, 5, generator=generator)
        a5, a11 = _interp_matrix(5, size), _interp_matrix(11, size)
        near = torch.div(torch.arange(size) * 5, size, rounding_mode="floor")
        texture = a5 @ coarse @ a5.T + 0.6 * (a11 @ fine @ a11.T) + 0.5 * blocks[:, near][:, :, near]
        bg = bg.expand(n, size, size).clone()
        bg[sel] += _c(p.clutter[sel]) * texture
    out = img.add_((1.0 - alpha).mul_(bg))

    # free occluder (hand, bar, object) in the image frame
    sel = (p.occluder != 0).nonzero().flatten()
    if len(sel):
        occ = _ellipse(x, y, _c(p.occ_x[sel]), _c(p.occ_y[sel]), _c(p.occ_rx[sel]), _c(p.occ_ry[sel]), px)
        part = out[sel]
        _lerp_(part, _c(p.occ_tone[sel]) * (1.0 + 0.15 * y), occ.mul_(_c(p.occluder[sel])))
        out[sel] = part

    # lighting, contrast, brightness in one pass: ((out * light) - 0.5) * contrast + 0.5 + brightness
    contrast = _c(p.contrast)
    light = (1.0 + _c(p.light_x) * x) * contrast + (_c(p.light_y) * contrast) * y
    out.mul_(light).add_(0.5 - 0.5 * contrast + _c(p.brightness))

    # blur: blend towards one (blur <= 1) or two (blur > 1) binomial passes, only where asked
    sel = (p.blur > 0).nonzero().flatten()
    if len(sel):
        w = _c(p.blur[sel]).clamp(0.0, 2.0)
        part = out[sel]
        once = _blur3(part)
        twice = _blur3(once)
        out[sel] = part + w.clamp(max=1.0) * (once - part) + (w - 1.0).clamp(min=0.0) * (twice - once)

    # sensor noise and quantisation
    out = out + _c(p.noise) / 255.0 * torch.randn(n, size, size, generator=generator)
    return (out * 255.0).round_().clamp_(0.0, 255.0).to(torch.uint8)
