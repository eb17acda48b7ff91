"""Detector flags from labelled frames made of pictures shipped in packages."""

import numpy as np
import pytest

from invigilate.audit.models import AuditEvent
from invigilate.exams.rules import ExamRules
from invigilate.media.detectors import CandidateFlags, detection_report, frame_analyse
from invigilate.media.thumbnails import thumbnail_make
from tests.media import material

RULES = ExamRules(face_absent_seconds=3, multiple_faces_seconds=2, camera_blocked_seconds=3, camera_frozen_seconds=4)


def camera_noise(image: np.ndarray, seed: int) -> np.ndarray:
    """A live camera never repeats a frame exactly: add sensor noise."""
    noise = np.random.default_rng(seed).integers(-6, 7, image.shape)
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def run(frames: list[np.ndarray]) -> list[tuple[int, str]]:
    """Feed one frame a second; return (second, flag) for every flag raised."""
    flags = CandidateFlags(RULES)
    raised = []
    for second, image in enumerate(frames):
        for kind, _ in flags.frame(frame_analyse(material.jpeg(image)), float(second)):
            raised.append((second, kind))
    return raised


def labelled_sequence() -> list[np.ndarray]:
    """One picture a second: seated 4 s, an empty seat 5 s, two people 3 s, a covered camera
    4 s, a frozen picture 6 s."""
    seated = [camera_noise(material.webcam_like(material.astronaut()), seed) for seed in range(4)]
    empty = [camera_noise(material.webcam_like(material.FACELESS["coffee"]()), 10 + seed) for seed in range(5)]
    crowd = [camera_noise(material.webcam_like(material.two_people()), 20 + seed) for seed in range(3)]
    covered = [np.full((480, 640, 3), 8, np.uint8)] * 4
    frozen = [material.webcam_like(material.astronaut())] * 6
    return seated + empty + crowd + covered + frozen


def test_it_flags_each_condition_after_its_duration_and_once_per_episode():
    raised = run(labelled_sequence())
    kinds = [kind for _, kind in raised]
    assert kinds == ["no_face", "multiple_faces", "camera_blocked", "camera_frozen"], raised
    assert dict((kind, second) for second, kind in raised) == {
        "no_face": 4 + 3, "multiple_faces": 9 + 2, "camera_blocked": 12 + 3, "camera_frozen": 16 + 4 + 1,
    }


def run_as_the_worker(frames: list[np.ndarray], *, min_interval: float = 2, refresh: float = 10):
    """Feed one thumbnail a second as the worker does: every picture's summary, and the face
    model only on the pictures it asks for. Returns (flags raised, seconds the model ran)."""
    import av

    flags = CandidateFlags(RULES, faces_min_interval=min_interval, faces_refresh=refresh)
    raised, looked = [], []
    for second, image in enumerate(frames):
        jpeg, picture = thumbnail_make(av.VideoFrame.from_ndarray(image, format="rgb24"), summary=True)
        found, look = flags.picture(picture, float(second))
        if look:
            looked.append(second)
            found += flags.faces(frame_analyse(jpeg), picture["signature"], float(second))
        raised += [(second, kind) for kind, _ in found]
    return raised, looked


def test_the_face_model_looks_only_at_pictures_that_moved_and_flags_keep_their_durations():
    raised, looked = run_as_the_worker(labelled_sequence())
    # The same flags at the same seconds as with every picture analysed ...
    assert raised == run(labelled_sequence())
    # ... with the model run on 5 pictures of 22: each change, not the noise.
    assert looked == [0, 4, 9, 12, 16]


def test_a_still_picture_is_looked_at_again_after_the_refresh_time():
    seated = [camera_noise(material.webcam_like(material.astronaut()), seed) for seed in range(25)]
    raised, looked = run_as_the_worker(seated, refresh=10)
    assert raised == [] and looked == [0, 10, 20]


def test_a_flag_on_a_moving_picture_comes_within_one_model_interval_of_its_duration():
    """Someone leaves and the picture keeps changing: the model looks every 2 s, so no_face
    (3 s here) fires between 3 and 3 + 2 s after the model first saw the empty seat."""
    seated = [camera_noise(material.webcam_like(material.astronaut()), seed) for seed in range(3)]
    scenes = list(material.FACELESS.values())[1:]  # coffee, cat, rocket: each picture differs
    moving = [camera_noise(material.webcam_like(scenes[n % len(scenes)]()), 30 + n) for n in range(8)]
    raised, looked = run_as_the_worker(seated + moving)
    assert looked == [0, 3, 5, 7, 9]
    assert [kind for _, kind in raised] == ["no_face"]
    seen, fired = 3, raised[0][0]
    assert RULES.face_absent_seconds <= fired - seen <= RULES.face_absent_seconds + 2


def test_it_sees_a_frontal_face_as_looking_at_the_screen():
    analysis = frame_analyse(material.jpeg(material.webcam_like(material.astronaut())))
    assert analysis["faces"] == 1 and abs(analysis["yaw"]) < RULES.looking_away_yaw


@pytest.mark.django_db
def test_a_flag_raises_an_alert_with_its_evidence(world):
    from invigilate.proctoring.models import Alert, Signal

    detection_report(registration_id=world.candidate.pk, kind="no_face", data={"snapshot": "detections/x.jpg"})
    signal = Signal.objects.get(registration=world.candidate, kind="no_face")
    assert signal.source == "detector" and signal.data == {"snapshot": "detections/x.jpg"}
    alert = Alert.objects.get(registration=world.candidate)
    assert alert.kind == "no_face" and alert.severity == "high"
    assert AuditEvent.objects.filter(event_type="alert.raised", registration_id=world.candidate.pk).exists()
    with pytest.raises(ValueError):
        detection_report(registration_id=world.candidate.pk, kind="bored", data={})
