"""Faces: detection (MediaPipe's shipped full-range detector) and identity (dlib embeddings).

Both models ship inside installed packages (``mediapipe`` 0.10.21, ``face-recognition-models``);
nothing is downloaded at run time. Measured on this machine (docs/performance.md): MediaPipe
finds 1 face on scikit-image's astronaut, 2 on two of them side by side, none on a blank frame,
a cat or a coffee cup, in 10-20 ms a 640-wide frame; a dlib embedding costs ~120 ms, so it
runs only for identity checks (login, and every N seconds), never per frame.

The detectors are not thread-safe: each process (worker of the detector pool) keeps its own.
"""

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

MATCH_MAX_DISTANCE = 0.6  # dlib's published threshold for "same person" (LFW 99.38 %)


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int
    score: float


@dataclass(frozen=True)
class FaceMatch:
    """``score`` in 0..1 (1 - embedding distance); ``matched`` only with exactly one face."""

    score: float
    matched: bool
    faces_found: int


def image_decode(data: bytes) -> np.ndarray:
    """JPEG/PNG bytes as an RGB array; ValueError if it is not an image."""
    import cv2

    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if array is None:
        raise ValueError("not an image")
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)


def _fit(image: np.ndarray, width: int = 640) -> np.ndarray:
    import cv2

    if image.shape[1] <= width:
        return np.ascontiguousarray(image)
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


@cache
def _detector(min_confidence: float):
    import mediapipe as mp

    return mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=min_confidence)


def faces_detect(image: np.ndarray, *, min_confidence: float = 0.5) -> list[FaceBox]:
    image = _fit(image)
    result = _detector(min_confidence).process(image)
    boxes = []
    height, width = image.shape[:2]
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        boxes.append(FaceBox(
            x=max(0, int(box.xmin * width)), y=max(0, int(box.ymin * height)),
            width=int(box.width * width), height=int(box.height * height),
            score=float(detection.score[0]),
        ))
    return boxes


@cache
def _embedder():
    import dlib
    import face_recognition_models

    return (
        dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location()),
    )


def face_embedding(image: np.ndarray, box: FaceBox) -> np.ndarray:
    import dlib

    predictor, model = _embedder()
    rectangle = dlib.rectangle(box.x, box.y, box.x + box.width, box.y + box.height)
    return np.array(model.compute_face_descriptor(image, predictor(image, rectangle)))


@lru_cache(maxsize=256)
def _photo_reference(registered_photo: bytes) -> np.ndarray:
    """The registered photo's embedding, computed once per photo in each process (the
    periodic identity check compares many frames with the same photo: half its cost)."""
    photo = _fit(image_decode(registered_photo))
    photo_faces = faces_detect(photo)
    if not photo_faces:
        raise ValueError("the registered photo shows no face")
    return face_embedding(photo, max(photo_faces, key=lambda box: box.width * box.height))


def face_match(*, registered_photo: bytes, frame: bytes, max_distance: float = MATCH_MAX_DISTANCE) -> FaceMatch:
    """Is the one person in ``frame`` the person of ``registered_photo``?

    ``faces_found`` counts faces in the frame; with none or several, ``matched`` is False
    (the caller tells the candidate to sit alone, facing the camera). ValueError if either
    input is not an image or the registered photo shows no face.
    """
    reference = _photo_reference(registered_photo)
    picture = _fit(image_decode(frame))
    frame_faces = faces_detect(picture)
    if len(frame_faces) != 1:
        return FaceMatch(score=0.0, matched=False, faces_found=len(frame_faces))
    distance = float(np.linalg.norm(reference - face_embedding(picture, frame_faces[0])))
    return FaceMatch(score=round(max(0.0, 1.0 - distance), 4), matched=distance <= max_distance, faces_found=1)
