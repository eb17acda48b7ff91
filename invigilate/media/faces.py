"""Faces: detection (MediaPipe's BlazeFace models, full and short range) and identity (dlib
embeddings).

The models ship inside installed packages (``mediapipe`` 0.10.21 carries the detectors'
``.tflite`` files, ``face-recognition-models`` dlib's); nothing is downloaded at run time. The
detectors run in LiteRT's interpreter (``ai-edge-litert``) with their output decoded here, not
in MediaPipe's graph: the same models and the same faces (``tests/media/test_faces.py``
compares the two), in about 30 % less time a picture (docs/performance.md). The full-range
model, the one that decides, finds 1 face on scikit-image's astronaut, 2 on the astronaut and
Grace Hopper side by side, none on a blank frame, a cat or a coffee cup. The short-range model
costs less but finds only Hopper of the two, so it only confirms a face the full-range model
has seen (``detectors.faces_analyse``). CPU a 320x240 camera thumbnail, JPEG decoded, on a
2-core VM (``time.process_time``, 400 calls each, alternating; two quiet runs, the machine's
speed drifted between them): full range 4.4-5.6 ms, short range 1.8-2.2 ms; the cascade on a
seated face swaying 2-4 px (a full pass every 10 s, 4 confirms between) 2.4-2.9 ms a pass, 52 %
of full range; on bench/media.py's candidate, whose face sways by up to 24 px, 3.1-3.8 ms
against 5.8-6.0 for full range in the same run (48 confirms and 12 full passes in 60, since
``detectors.scene_changed`` aligns the pictures before it compares them; unaligned, 3 passes
in 5 went to full range). A dlib embedding costs ~120 ms, so it runs only for identity checks
(login, and every N seconds), never per frame.

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


@dataclass(frozen=True)
class BlazeFace:
    """One of MediaPipe's BlazeFace models: its file, its square input's side in pixels and its
    anchor grids, each ``(cells a side, anchors a cell)`` in the model's output order. The
    values are the options of MediaPipe's subgraph for the model (``FaceDetectionShortRange``,
    ``FaceDetectionFullRange``, compiled into mediapipe's framework bindings; the ``.binarypb``
    files beside the models only name them): SSD anchors of a fixed size 1 centred at
    (i + 0.5) / cells, coordinates scaled by the input's side."""

    file: str
    size: int
    grids: tuple[tuple[int, int], ...]


BLAZE_FACES = {
    # Stride 4: one 48x48 grid, one anchor a cell (2304).
    "full": BlazeFace("face_detection_full_range_sparse.tflite", 192, ((48, 1),)),
    # Strides 8, 16, 16, 16: a 16x16 grid with 2 anchors a cell, then an 8x8 grid with the
    # three stride-16 layers' 2 each (896).
    "short": BlazeFace("face_detection_short_range.tflite", 128, ((16, 2), (8, 6))),
}


class FaceModel:
    """A BlazeFace model (``BLAZE_FACES``): a square picture in, one candidate face per anchor
    out, each a box, six keypoints and a score; overlapping candidates are merged by weighted
    non-maximum suppression. The decoding follows MediaPipe's face detection graph, the same
    for both models (letterboxed input scaled to -1..1, sigmoid scores, IoU 0.3)."""

    MERGE_IOU = 0.3

    def __init__(self, blaze_face: BlazeFace):
        from importlib.util import find_spec

        from ai_edge_litert.interpreter import Interpreter

        self.size = blaze_face.size
        # The file only: importing mediapipe would load its whole framework into the process.
        package = Path(find_spec("mediapipe").submodule_search_locations[0])
        path = package / "modules" / "face_detection" / blaze_face.file
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = {detail["shape"][-1]: detail["index"] for detail in self.interpreter.get_output_details()}
        self.regressors, self.logits = outputs[16], outputs[1]
        anchors = []
        for cells, per_cell in blaze_face.grids:
            centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
            rows, columns = np.meshgrid(centres, centres, indexing="ij")
            anchors.append(np.repeat(np.stack([columns.ravel(), rows.ravel()], axis=1), per_cell, axis=0))
        self.anchors = np.concatenate(anchors)

    def detect(self, image: np.ndarray, min_confidence: float) -> list[FaceBox]:
        """Faces in an RGB picture, in its own pixels, best first."""
        import cv2

        size = self.size
        height, width = image.shape[:2]
        scale = size / max(height, width)
        left, top = (size - width * scale) / 2, (size - height * scale) / 2
        # The picture warped onto the model's square, black borders around it, as MediaPipe's
        # graph does: pixel edges line up, not pixel centres as in cv2.resize, whose half-pixel
        # shift moved the short-range model's boxes by up to 15 % of a face and its scores by 0.1.
        to_square = np.float32([[scale, 0, left], [0, scale, top]])
        square = cv2.warpAffine(image, to_square, (size, size), flags=cv2.INTER_LINEAR)
        self.interpreter.set_tensor(self.input, (square / np.float32(127.5) - 1)[None])
        self.interpreter.invoke()
        logits = self.interpreter.get_tensor(self.logits)[0, :, 0].astype(np.float64)
        scores = 1 / (1 + np.exp(-np.clip(logits, -100, 100)))
        chosen = np.flatnonzero(scores >= min_confidence)
        if not chosen.size:
            return []
        raw = self.interpreter.get_tensor(self.regressors)[0, chosen] / size
        anchors = self.anchors[chosen]
        centres, sizes = raw[:, :2] + anchors, raw[:, 2:4]
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        points = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        # From the model's square back to the picture's pixels.
        offset = np.array([left, top], np.float32)
        boxes = (boxes * size - np.tile(offset, 2)) / scale
        points = (points * size - offset) / scale
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
def _face_model(model: str) -> FaceModel:
    return FaceModel(BLAZE_FACES[model])


def faces_detect(image: np.ndarray, *, min_confidence: float = 0.5, model: str = "full") -> list[FaceBox]:
    """Faces in an RGB picture, in its pixels, best first. ``model`` is a key of
    ``BLAZE_FACES``; "short" finds one face where "full" finds two side by side, so it only
    confirms a face already seen (``detectors.faces_analyse``)."""
    return _face_model(model).detect(image, min_confidence)


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
