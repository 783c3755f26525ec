"""The evaluation transform of every model input, and the decode size that training and evaluation share.

Training's augmentation is built by :mod:`.augment` (``train_transform``).
"""

from __future__ import annotations

from torchvision import transforms as T

MEAN = STD = (0.5, 0.5, 0.5)


def decode_size(image_size: int) -> int:
    """The smallest side a JPEG may be decoded at (``Image.draft``) for a model input of ``image_size``:
    the original training resize (``image_size + 32``), so training, evaluation and inference decode alike."""
    return image_size + 32


def eval_transform(image_size: int) -> T.Compose:
    """Resize(s) to a square (so batches always stack), ToTensor, Normalize(0.5, 0.5): the original's eval."""
    return T.Compose([T.Resize((image_size, image_size)), T.ToTensor(), T.Normalize(MEAN, STD)])
