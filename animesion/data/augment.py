"""Training augmentation, built from torchvision and timm parts: the original's, or a modern recipe's.

``train_transform(image_size, aa=..., scale=..., reprob=...)`` composes three stages, as timm's
``create_transform`` does:

* geometry: ``scale=None`` is the original's ``Resize(s + 32)`` + ``RandomCrop(s)``; a range is timm's
  random-resized crop of that share of the area (aspect 3/4 to 4/3); then a horizontal flip;
* the ``aa`` policy on the PIL picture (the :data:`AUGMENT_POLICIES` registry): the original's
  ``jitter`` (ColorJitter 0.1 each), torchvision's ``trivialaugment`` (TrivialAugmentWide), ``source``
  (another source's framing, resolution and compression, colours kept: :mod:`.source_shift`), both
  (``sourcetrivial``), timm's RandAugment (``rand-m9-mstd0.5-inc1``, …), AugMix (``augmix-m5-w4-d2``) or
  AutoAugment (``original``, ``v0``, ``3a``) strings; None adds nothing;
* ToTensor, Normalize(0.5, 0.5), and timm's per-pixel random erasing with probability ``reprob``.

Every random draw comes from torch's or Python's global generators, which the training loader seeds per
sample and epoch, so augmentation stays per-sample and reproducible. This module imports torchvision and
timm only when a transform is built, so configs can check ``aa`` without them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from ..registry import Registry

Policy = Callable[[str, int], list[Any]]  # (aa string, image_size) -> transforms applied to the PIL picture
AUGMENT_POLICIES: Registry[Policy] = Registry("aa policy")


def _timm_hparams(image_size: int) -> dict[str, Any]:
    """What timm's ``create_transform`` passes its policies: translation in pixels, the fill colour, bilinear."""
    from PIL import Image

    from .transforms import MEAN

    return {"translate_const": int(image_size * 0.45), "img_mean": tuple(round(255 * m) for m in MEAN),
            "interpolation": Image.BILINEAR}


@AUGMENT_POLICIES.register("jitter")
def _jitter(aa: str, image_size: int) -> list[Any]:
    """The original Animesion's colour jitter: brightness, contrast, saturation and hue, 0.1 each."""
    from torchvision import transforms as T

    return [T.ColorJitter(0.1, 0.1, 0.1, 0.1)]


@AUGMENT_POLICIES.register("trivialaugment")
def _trivial(aa: str, image_size: int) -> list[Any]:
    """TrivialAugment (Müller & Hutter, 2021): one random operation at a random strength per picture."""
    from torchvision import transforms as T

    return [T.TrivialAugmentWide()]


@AUGMENT_POLICIES.register("source")
def _source(aa: str, image_size: int) -> list[Any]:
    """Another source's framing, resolution, line weight, compression and tone, with the colours kept
    (:class:`~animesion.data.source_shift.SourceShift`)."""
    from .source_shift import SourceShift

    return [SourceShift()]


@AUGMENT_POLICIES.register("sourcetrivial")
def _source_trivial(aa: str, image_size: int) -> list[Any]:
    """``source``, then ``trivialaugment``: another source's framing and compression, and TrivialAugment's
    one operation."""
    return _source(aa, image_size) + _trivial(aa, image_size)


@AUGMENT_POLICIES.register("rand")
def _rand(aa: str, image_size: int) -> list[Any]:
    """timm's RandAugment from its string, e.g. ``rand-m9-mstd0.5-inc1`` (magnitude 9, noise 0.5, increasing)."""
    from timm.data.auto_augment import rand_augment_transform

    return [rand_augment_transform(aa, _timm_hparams(image_size))]


@AUGMENT_POLICIES.register("augmix")
def _augmix(aa: str, image_size: int) -> list[Any]:
    """timm's AugMix from its string, e.g. ``augmix-m5-w4-d2``."""
    from timm.data.auto_augment import augment_and_mix_transform

    return [augment_and_mix_transform(aa, {**_timm_hparams(image_size), "translate_pct": 0.3})]


def _auto(aa: str, image_size: int) -> list[Any]:
    """timm's AutoAugment policy of that name."""
    from timm.data.auto_augment import auto_augment_transform

    return [auto_augment_transform(aa, _timm_hparams(image_size))]


for _name in ("original", "originalr", "v0", "v0r", "3a"):
    AUGMENT_POLICIES.register(_name)(_auto)


def policy_of(aa: str) -> str:
    """The registry name of an ``aa`` value (its text before the first ``-``); ConfigError when unknown."""
    name = aa.split("-", 1)[0]
    if name not in AUGMENT_POLICIES:
        raise ConfigError(f"aa='{aa}' is not an augmentation policy; choose one of: "
                          f"{', '.join(AUGMENT_POLICIES.names())} (RandAugment and AugMix take timm's strings, "
                          "e.g. rand-m9-mstd0.5-inc1).")
    return name


def train_transform(image_size: int, *, aa: str | None = "jitter", scale: Sequence[float] | None = None,
                    reprob: float = 0.0) -> Any:
    """The training transform of a recipe (see the module docstring); the defaults are the original's."""
    from timm.data.random_erasing import RandomErasing
    from timm.data.transforms import RandomResizedCropAndInterpolation
    from torchvision import transforms as T

    from .transforms import MEAN, STD, decode_size

    if scale is None:
        side = decode_size(image_size)
        geometry = [T.Resize((side, side)), T.RandomCrop(image_size)]
    else:
        geometry = [RandomResizedCropAndInterpolation(image_size, scale=tuple(scale), interpolation="bilinear")]
    try:
        policy = AUGMENT_POLICIES.get(policy_of(aa))(aa, image_size) if aa else []
    except (AssertionError, ValueError, KeyError) as err:  # timm checks its strings with asserts
        raise ConfigError(f"aa='{aa}' is not a policy string timm reads ({err or type(err).__name__}).") from None
    final = [T.ToTensor(), T.Normalize(MEAN, STD)]
    if reprob > 0:
        final.append(RandomErasing(reprob, mode="pixel", device="cpu"))
    return T.Compose([*geometry, T.RandomHorizontalFlip(), *policy, *final])


__all__ = ["AUGMENT_POLICIES", "policy_of", "train_transform"]
