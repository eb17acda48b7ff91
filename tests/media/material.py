"""Labelled test material made from pictures that ship inside installed packages."""

from pathlib import Path

import cv2
import matplotlib
import numpy as np
from skimage import data


def jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


def astronaut() -> np.ndarray:
    return data.astronaut()


def grace_hopper() -> np.ndarray:
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def two_people() -> np.ndarray:
    left, right = astronaut(), cv2.resize(grace_hopper(), (512, 512))
    return np.hstack([left, right])


def webcam_like(image: np.ndarray, *, shift: int = 20, scale: float = 0.8) -> np.ndarray:
    """The same picture as a camera would see it later: moved, smaller, darker, 640x480."""
    height, width = image.shape[:2]
    moved = cv2.warpAffine(image, np.float32([[scale, 0, shift], [0, scale, shift]]), (width, height))
    darker = cv2.convertScaleAbs(moved, alpha=0.85, beta=-10)
    return cv2.resize(darker, (640, 480))


def leaning_in(image: np.ndarray, *, scale: float = 0.35) -> np.ndarray:
    """A 640x480 ``image`` with a second person leaning in at its top right corner, small and
    partly cut off (the astronaut's head and shoulders), while the first stays where they are."""
    guest = cv2.resize(astronaut()[:400, 60:460], None, fx=scale * 1.6, fy=scale * 1.2)
    crowded = image.copy()
    crowded[:guest.shape[0], crowded.shape[1] - guest.shape[1]:] = guest
    return crowded


FACELESS = {
    "blank": lambda: np.zeros((480, 640, 3), np.uint8),
    "coffee": data.coffee,
    "cat": data.chelsea,
    "rocket": data.rocket,
}
