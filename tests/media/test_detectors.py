"""Detector flags from labelled frames made of pictures shipped in packages."""

import numpy as np
import pytest

from invigilate.audit.models import AuditEvent
from invigilate.exams.rules import ExamRules
from invigilate.media.detectors import (
    CONFIRM_MIN_FACE_WIDTH,
    CandidateFlags,
    detection_report,
    faces_analyse,
    frame_analyse,
    picture_summary,
    scene_changed,
)
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


SWAY = (0, 3, 6, 3)  # added to webcam_like's shift: Grace Hopper moves up to 7.5 px of 640 across, 5 of 480 down


def swaying(face: np.ndarray, seconds: int, seed: int = 0) -> list[np.ndarray]:
    """Someone seated in front of the camera, moving a few pixels every second."""
    return [camera_noise(material.webcam_like(face, shift=20 + SWAY[n % len(SWAY)]), seed + n) for n in range(seconds)]


def labelled_sequence(seated: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """One picture a second: seated 4 s (or ``seated``), an empty seat 5 s, two people 3 s, a
    covered camera 4 s, a frozen picture 6 s."""
    if seated is None:
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


def thumbnail(image: np.ndarray) -> tuple[bytes, dict]:
    import av

    return thumbnail_make(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24"), summary=True)


def run_as_the_worker(frames: list[np.ndarray], *, min_interval: float = 2, refresh: float = 10,
                      confirm_interval: float = 0):
    """Feed one thumbnail a second as the worker does: every picture's summary, and a face
    pass only on the pictures the flags ask for, as they ask. Returns (flags raised, {second:
    the model that answered})."""
    flags = CandidateFlags(RULES, faces_min_interval=min_interval, faces_refresh=refresh,
                           confirm_interval=confirm_interval)
    raised, looked = [], {}
    for second, image in enumerate(frames):
        jpeg, picture = thumbnail(image)
        found, faces_pass = flags.picture(picture, float(second))
        if faces_pass is not None:
            analysis = faces_analyse(jpeg, confirm=faces_pass == "confirm")
            looked[second] = analysis["model"]
            found += flags.faces(analysis, picture, float(second))
        raised += [(second, kind) for kind, _ in found]
    return raised, looked


def test_the_face_model_looks_only_at_pictures_that_moved_and_flags_keep_their_durations():
    raised, looked = run_as_the_worker(labelled_sequence())
    # The same flags at the same seconds as with every picture analysed ...
    assert raised == run(labelled_sequence())
    # ... with the model run on 5 pictures of 22: each change, not the noise. The seated
    # astronaut's face is 0.13 of the thumbnail's width, too small to confirm.
    assert looked == dict.fromkeys([0, 4, 9, 12, 16], "full")


def test_the_cascade_raises_the_labelled_sequence_s_flags_at_the_same_seconds():
    # Grace Hopper seated, swaying: her face is big enough for the short-range model to confirm.
    sequence = labelled_sequence(seated=swaying(material.grace_hopper(), 8))
    raised, looked = run_as_the_worker(sequence)
    assert raised == run(sequence)
    assert [kind for _, kind in raised] == ["no_face", "multiple_faces", "camera_blocked", "camera_frozen"]
    # The short-range model confirmed the swaying face; every coming and going was the full one's.
    assert looked == {0: "full", 2: "short", 4: "short", 6: "short", 8: "full", 13: "full", 16: "full", 20: "full"}


def test_a_still_picture_is_looked_at_again_after_the_refresh_time():
    seated = [camera_noise(material.webcam_like(material.astronaut()), seed) for seed in range(25)]
    raised, looked = run_as_the_worker(seated, refresh=10)
    assert raised == [] and looked == dict.fromkeys([0, 10, 20], "full")


def test_a_swaying_face_is_confirmed_by_the_short_model_with_a_full_pass_every_refresh_time():
    raised, looked = run_as_the_worker(swaying(material.grace_hopper(), 25), refresh=10)
    assert raised == []
    assert list(looked) == list(range(0, 25, 2))
    assert [second for second, model in looked.items() if model == "full"] == [0, 10, 20]


def test_with_a_confirm_interval_an_unchanged_scene_is_confirmed_less_often_and_a_change_is_not_delayed():
    raised, looked = run_as_the_worker(swaying(material.grace_hopper(), 25), confirm_interval=4)
    assert raised == []
    # Seconds 4, 8, 9, 14, 19, 24: back where an analysed picture was (the sway's period is 4 s).
    assert looked == {0: "full", 5: "short", 10: "full", 15: "short", 20: "full"}
    # Someone sitting down is a scene change: the full model looks at once (without the interval
    # it had looked 1 s before, so it waited a second), and multiple_faces comes its 2 s later.
    seated = swaying(material.grace_hopper(), 9)
    crowd = [camera_noise(material.webcam_like(material.two_people()), 40 + seed) for seed in range(5)]
    raised, looked = run_as_the_worker(seated + crowd, confirm_interval=4)
    assert looked == {0: "full", 5: "short", 9: "full"}
    assert raised == [(9 + RULES.multiple_faces_seconds, "multiple_faces")]
    # The labelled sequence keeps its flags and their seconds.
    sequence = labelled_sequence(seated=swaying(material.grace_hopper(), 8))
    raised, _ = run_as_the_worker(sequence, confirm_interval=4)
    assert raised == run(sequence)


def test_a_second_person_sitting_down_goes_to_the_full_model_and_raises_multiple_faces_on_time():
    seated = swaying(material.grace_hopper(), 9)
    crowd = [camera_noise(material.webcam_like(material.two_people()), 40 + seed) for seed in range(5)]
    raised, looked = run_as_the_worker(seated + crowd)
    assert looked == {0: "full", 2: "short", 4: "short", 6: "short", 8: "short", 10: "full"}
    # As soon as the model may look again (every 2 s), and the flag after its 2 s.
    assert raised == [(10 + RULES.multiple_faces_seconds, "multiple_faces")]


def test_someone_leaning_in_at_the_side_is_a_scene_change_for_the_full_model():
    # The seated face stays: the mean barely moves, one cell does.
    seated = swaying(material.grace_hopper(), 4)
    leaning = [camera_noise(material.leaning_in(material.webcam_like(material.grace_hopper(), shift=20)), 50 + seed)
               for seed in range(4)]
    _, before = thumbnail(seated[0])
    _, after = thumbnail(leaning[0])
    assert scene_changed(before["layout"], after["layout"])
    raised, looked = run_as_the_worker(seated + leaning)
    assert looked == {0: "full", 2: "short", 4: "full"}
    assert raised == [(4 + RULES.multiple_faces_seconds, "multiple_faces")]


def test_a_sway_is_not_a_scene_change_and_someone_coming_or_going_is():
    for face in (material.grace_hopper(), material.astronaut()):
        _, seated = thumbnail(camera_noise(material.webcam_like(face, shift=20), 1))
        # Up to 12 px of the thumbnail across (webcam_like shifts the 640-wide picture), and
        # down and across at once.
        for moved in [material.webcam_like(face, shift=20 + sway) for sway in (2, 4, 8, 12, 16, 24)] + [
                np.roll(material.webcam_like(face, shift=20), (10, -14), axis=(0, 1))]:
            _, picture = thumbnail(camera_noise(moved, 2))
            assert not scene_changed(seated["layout"], picture["layout"])
        for changed in (material.webcam_like(material.FACELESS["coffee"]()), material.webcam_like(material.two_people()),
                        material.leaning_in(material.webcam_like(face, shift=20)),
                        material.leaning_in(material.webcam_like(face, shift=28)), np.zeros((480, 640, 3), np.uint8)):
            _, picture = thumbnail(camera_noise(changed, 3))
            assert scene_changed(seated["layout"], picture["layout"])


def faces_after(seen: np.ndarray, shown: np.ndarray) -> dict:
    """The answer of the face pass the flags ask for on ``shown`` (at its own size, as
    test_faces.py looks), 2 s after the full-range model looked at ``seen``."""
    import cv2

    flags = CandidateFlags(RULES, faces_min_interval=2)
    for second, image in enumerate([seen, shown]):
        image = np.ascontiguousarray(image)
        picture = picture_summary(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        _, faces_pass = flags.picture(picture, 2.0 * second)
        analysis = faces_analyse(material.jpeg(image), confirm=faces_pass == "confirm")
        flags.faces(analysis, picture, 2.0 * second)
    return analysis


def test_the_cascade_finds_both_people_where_the_short_range_model_alone_finds_one():
    seated, crowd = material.webcam_like(material.grace_hopper()), material.two_people()
    assert faces_analyse(material.jpeg(crowd), confirm=True)["faces"] == 1  # the short-range model alone
    assert faces_after(seated, crowd) == {"faces": 2, "yaw": None, "face_width": None, "model": "full"}


def test_the_cascade_counts_faces_on_labelled_pictures_with_full_precision_and_recall():
    """Each labelled picture shown 2 s after the full-range model saw Grace Hopper seated, and
    2 s after it saw the same picture 4 pixels away."""
    seated = material.webcam_like(material.grace_hopper())
    labelled = [(material.astronaut(), 1), (material.grace_hopper(), 1), (material.webcam_like(material.astronaut()), 1),
                (material.webcam_like(material.grace_hopper()), 1), (material.two_people(), 2),
                (material.webcam_like(material.two_people()), 2)] + [(make(), 0) for make in material.FACELESS.values()]
    true_positive = false_positive = false_negative = 0
    models = []
    for image, expected in labelled:
        for seen in (seated, np.roll(image, 4, axis=1)):
            analysis = faces_after(seen, image)
            models.append(analysis["model"])
            true_positive += min(analysis["faces"], expected)
            false_positive += max(0, analysis["faces"] - expected)
            false_negative += max(0, expected - analysis["faces"])
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"cascade: precision={precision:.2f} recall={recall:.2f} on {len(models)} pictures, "
          f"{models.count('short')} answered by the short-range model")
    assert precision == 1.0 and recall == 1.0
    assert "short" in models


def test_the_short_range_model_s_yaw_agrees_with_the_full_one_on_frontal_faces_big_enough_to_confirm():
    """Thumbnails as the worker makes them, each face swaying; the confirm is asked only for
    faces at least CONFIRM_MIN_FACE_WIDTH wide (the seated astronaut's is not)."""
    pictures = {"astronaut": material.astronaut(), "grace_hopper": material.grace_hopper(),
                "webcam_like(grace_hopper)": material.webcam_like(material.grace_hopper()),
                "webcam_like(astronaut)": material.webcam_like(material.astronaut())}
    worst = {}
    for name, image in pictures.items():
        for sway in range(0, 13, 2):
            jpeg, _ = thumbnail(np.roll(image, sway, axis=1))
            full, short = faces_analyse(jpeg), faces_analyse(jpeg, confirm=True)
            assert full["faces"] == 1
            # (The short-range model sees two faces on some of the astronaut's: the full one answers.)
            if full["face_width"] >= CONFIRM_MIN_FACE_WIDTH and short["model"] == "short":
                worst[name] = max(worst.get(name, 0.0), abs(short["yaw"] - full["yaw"]))
    print("yaw, short against full range, largest difference: "
          + ", ".join(f"{name} {difference:.3f}" for name, difference in worst.items()))
    assert set(worst) == {"astronaut", "grace_hopper", "webcam_like(grace_hopper)"}
    # A quarter of the threshold for looking away (0.6): seen 0.08 at most.
    assert max(worst.values()) < RULES.looking_away_yaw / 4


def test_a_flag_on_a_moving_picture_comes_within_one_model_interval_of_its_duration():
    """Someone leaves and the picture keeps changing: the model looks every 2 s, so no_face
    (3 s here) fires between 3 and 3 + 2 s after the model first saw the empty seat."""
    seated = [camera_noise(material.webcam_like(material.astronaut()), seed) for seed in range(3)]
    scenes = list(material.FACELESS.values())[1:]  # coffee, cat, rocket: each picture differs
    moving = [camera_noise(material.webcam_like(scenes[n % len(scenes)]()), 30 + n) for n in range(8)]
    raised, looked = run_as_the_worker(seated + moving)
    assert looked == dict.fromkeys([0, 3, 5, 7, 9], "full")
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


def test_identity_checks_come_within_their_interval_and_a_room_that_joined_together_spreads_out():
    import random

    from invigilate.media.detectors import identity_next

    random.seed(8)
    every = 180.0
    due = [random.uniform(0, 30) for _ in range(50)]  # the first checks, as the pipeline spreads them
    second = [identity_next(at, every, checks_done=1) for at in due]
    assert all(0 <= next_at - at <= every for at, next_at in zip(due, second, strict=True))
    # From the second check on, the room lies over the whole interval: at exactly every 180 s
    # it would lie within 30 s, ~20 checks in the busiest 10 s; 50 at random over 180 s put ~3
    # in 10 s on average, and chance up to 12 in the busiest (200 seeds, ten checks each).
    assert max(second) - min(second) > 150
    due = second
    for checks_done in range(2, 12):
        later = [identity_next(at, every, checks_done=checks_done) for at in due]
        assert all(0.8 * every <= next_at - at <= every for at, next_at in zip(due, later, strict=True))
        due = later
        assert max(sum(1 for at in due if start <= at < start + 10) for start in due) <= 12


def test_the_pool_runs_nicer_than_the_worker_and_counts_late_batches_and_skipped_samples():
    import asyncio
    import os
    import time
    from types import SimpleNamespace

    from invigilate.media.detectors import DETECTOR_LATE_SECONDS, DetectorPipeline

    async def scenario():
        pipeline = DetectorPipeline(niceness=5, batch_seconds=0.05)
        pipeline.start(runtime=None)
        answers: dict[str, asyncio.Future] = {}

        def submit(peer, what, function, *args):
            answer = answers.setdefault(what, asyncio.get_running_loop().create_future())
            pipeline._submit(peer, what, function, *args, on_done=lambda _peer, result: answer.set_result(result))

        try:
            peer = SimpleNamespace(peer_id=1)
            submit(peer, "niceness", os.nice, 0)  # the pool process's niceness, as it reads it
            submit(peer, "niceness", os.nice, 0)  # the same candidate's next sample while busy: skipped
            pool_niceness = await asyncio.wait_for(answers["niceness"], 60)
            submit(peer, "slow", time.sleep, DETECTOR_LATE_SECONDS + 0.1)
            await asyncio.wait_for(answers["slow"], 60)
            return pool_niceness, pipeline.timeliness()
        finally:
            pipeline.stop()

    pool_niceness, timeliness = asyncio.run(scenario())
    assert pool_niceness == min(19, os.nice(0) + 5)
    assert timeliness["submitted"] == 2 and timeliness["skipped"] == 1
    assert timeliness["batches"] == 2 and timeliness["batches_late"] >= 1
    assert timeliness["latency_max_s"] >= DETECTOR_LATE_SECONDS
