"""Image transforms of the original Animesion training and evaluation, and the decode size they need."""

from __future__ import annotations

from torchvision import transforms as T

MEAN = STD = (0.5, 0.5, 0.5)


def decode_size(image_size: int) -> int:
    """The smallest side a JPEG may be decoded at (``Image.draft``) for a model input of ``image_size``:
    the training resize (``image_size + 32``), so training, evaluation and inference decode alike."""
    return image_size + 32


def build_transform(image_size: int, train: bool) -> T.Compose:
    """Train: Resize(s+32), RandomCrop(s), flip, ColorJitter(0.1 each), Normalize(0.5, 0.5).
    Eval: Resize(s), Normalize(0.5, 0.5). Sizes are square so batches always stack."""
    if train:
        steps = [
            T.Resize((image_size + 32, image_size + 32)),
            T.RandomCrop(image_size),
            T.RandomHorizontalFlip(),
            T.ColorJitter(0.1, 0.1, 0.1, 0.1),
        ]
    else:
        steps = [T.Resize((image_size, image_size))]
    return T.Compose([*steps, T.ToTensor(), T.Normalize(MEAN, STD)])
