"""Faces: detection (MediaPipe's full-range BlazeFace model) and identity (dlib embeddings).

Both models ship inside installed packages (``mediapipe`` 0.10.21 carries the detector's
``.tflite`` file, ``face-recognition-models`` dlib's); nothing is downloaded at run time. The
detector runs in LiteRT's interpreter (``ai-edge-litert``) with its output decoded here, not in
MediaPipe's graph: the same model and the same faces (``tests/media/test_faces.py`` compares
the two), in about 30 % less time a picture (docs/performance.md). It finds 1 face on
scikit-image's astronaut, 2 on two of them side by side, none on a blank frame, a cat or a
coffee cup. A dlib embedding costs ~120 ms, so it runs only for identity checks (login, and
every N seconds), never per frame.

The detectors are not thread-safe: each process (worker of the detector pool) keeps its own.
"""

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

MATCH_MAX_DISTANCE = 0.6  # dlib's published threshold for "same person" (LFW 99.38 %)


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int
    score: float
    # (x, y) in pixels: right eye, left eye, nose tip, mouth, right ear, left ear.
    keypoints: tuple[tuple[float, float], ...] = ()


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


class FaceModel:
    """BlazeFace full range: a 192x192 picture in, one candidate face per 4x4-pixel cell out
    (2304 anchors of a fixed size), each a box, six keypoints and a score; overlapping
    candidates are merged by weighted non-maximum suppression. The decoding follows MediaPipe's
    face detection graph for this model (letterboxed input scaled to -1..1, sigmoid scores,
    IoU 0.3)."""

    FILE = "face_detection_full_range_sparse.tflite"
    SIZE = 192
    GRID = 48
    MERGE_IOU = 0.3

    def __init__(self):
        from importlib.util import find_spec

        from ai_edge_litert.interpreter import Interpreter

        # The file only: importing mediapipe would load its whole framework into the process.
        package = Path(find_spec("mediapipe").submodule_search_locations[0])
        path = package / "modules" / "face_detection" / self.FILE
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = {detail["shape"][-1]: detail["index"] for detail in self.interpreter.get_output_details()}
        self.regressors, self.logits = outputs[16], outputs[1]
        centres = (np.arange(self.GRID, dtype=np.float32) + 0.5) / self.GRID
        rows, columns = np.meshgrid(centres, centres, indexing="ij")
        self.anchors = np.stack([columns.ravel(), rows.ravel()], axis=1)

    def detect(self, image: np.ndarray, min_confidence: float) -> list[FaceBox]:
        """Faces in an RGB picture, in its own pixels, best first."""
        import cv2

        height, width = image.shape[:2]
        scale = self.SIZE / max(height, width)
        inner_width, inner_height = max(1, round(width * scale)), max(1, round(height * scale))
        left, top = (self.SIZE - inner_width) // 2, (self.SIZE - inner_height) // 2
        tensor = np.full((1, self.SIZE, self.SIZE, 3), -1.0, np.float32)  # black borders
        resized = cv2.resize(image, (inner_width, inner_height), interpolation=cv2.INTER_LINEAR)
        tensor[0, top:top + inner_height, left:left + inner_width] = resized / np.float32(127.5) - 1
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        logits = self.interpreter.get_tensor(self.logits)[0, :, 0].astype(np.float64)
        scores = 1 / (1 + np.exp(-np.clip(logits, -100, 100)))
        chosen = np.flatnonzero(scores >= min_confidence)
        if not chosen.size:
            return []
        raw = self.interpreter.get_tensor(self.regressors)[0, chosen] / self.SIZE
        anchors = self.anchors[chosen]
        centres, sizes = raw[:, :2] + anchors, raw[:, 2:4]
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        points = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        # From the model's square back to the picture's pixels.
        offset = np.array([left, top], np.float32)
        boxes = (boxes * self.SIZE - np.tile(offset, 2)) / scale
        points = (points * self.SIZE - offset) / scale
        return [
            FaceBox(x=max(0, int(box[0])), y=max(0, int(box[1])), width=int(box[2] - box[0]),
                    height=int(box[3] - box[1]), score=float(score),
                    keypoints=tuple((float(x), float(y)) for x, y in keypoints))
            for box, keypoints, score in _weighted_merge(boxes, points, scores[chosen], self.MERGE_IOU)
        ]


def _weighted_merge(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, min_iou: float):
    """Weighted non-maximum suppression: the best remaining candidate and every other that
    overlaps it by more than ``min_iou`` become one face, their boxes and keypoints averaged
    by score, with the best one's score."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    left = np.ones(len(scores), bool)
    merged = []
    for best in range(len(scores)):
        if not left[best]:
            continue
        low, high = np.maximum(boxes[best, :2], boxes[:, :2]), np.minimum(boxes[best, 2:], boxes[:, 2:])
        overlap = np.prod(np.clip(high - low, 0, None), axis=1)
        iou = overlap / np.maximum(areas[best] + areas - overlap, 1e-9)
        group = left & (iou > min_iou)
        group[best] = True
        weights = scores[group] / scores[group].sum()
        merged.append((weights @ boxes[group], np.tensordot(weights, points[group], axes=1), scores[best]))
        left &= ~group
    return merged


@cache
def _face_model() -> FaceModel:
    return FaceModel()


def faces_detect(image: np.ndarray, *, min_confidence: float = 0.5) -> list[FaceBox]:
    """Faces in an RGB picture, in its pixels, best first."""
    return _face_model().detect(image, min_confidence)


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
