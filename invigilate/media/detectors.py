"""Automatic flags from sampled frames and audio, off the media path.

The media worker hands this pipeline the JPEG it already made for a thumbnail (about one a
second) and, every few seconds, two seconds of the microphone's Opus packets as received
(decoded in the pool, not on the worker: decoding there woke aiortc's decoder thread 50
times a second per candidate, and the GIL hand-overs cost the worker a third of its loop,
measured by ``bench/media``). The analysis runs
in a process pool (its own core; MediaPipe and silero hold the GIL), the per-candidate
timers run on the worker's loop, and every flag leaves through ``detection_report``, the
one place that hands results to the alert rules.

Flags (thresholds per exam, ``ExamRules``): ``no_face``, ``multiple_faces``,
``looking_away``, ``camera_blocked``, ``camera_frozen`` (each after N seconds),
``face_mismatch`` (every N seconds against the registered photo), ``speech`` (sustained).
"""

import asyncio
import logging
import multiprocessing
import os
import random
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from django.conf import settings

from .db import db

logger = logging.getLogger(__name__)

FLAG_KINDS = ("no_face", "multiple_faces", "face_mismatch", "looking_away", "speech", "camera_blocked", "camera_frozen")
SPEECH_SAMPLE_SECONDS = 2.0
IDENTITY_FIRST_WITHIN_SECONDS = 30
# The identity check after the first comes at a random moment within face_check_seconds, each
# later one 80-100 % of it after the one before: never later than the exam asks, unforeseeable
# to the candidate, and a room that joined together is spread over the whole interval from its
# second check on. At exactly every N seconds the checks of 50 candidates who joined within
# 30 s stayed within 30 s of each other for the whole exam: ~4.5 s of dlib a burst, and the
# wall's thumbnails were late (p95 2-3.5 s) every 3 minutes (run 47); with 80-100 % from the
# first check on, they took 10 checks (30 minutes) to spread over 2 minutes, and run 50 still
# saw the bursts in its first minutes.
IDENTITY_INTERVAL_SPREAD = 0.8
DETECTOR_LATENCIES_KEPT = 200  # batches: ~100 s of them at one every 0.5 s
# A batch whose results come this long after its first sample was handed over is late: the
# pictures' timers run a second apart, and a face sample is due every 2 s.
DETECTOR_LATE_SECONDS = 2.0


# --- Analysis (runs in the pool's processes) ------------------------------------------
SIGNATURE_SIZE = (16, 12)
GRAIN_SIZE = (32, 24)
# A picture "moved" (its faces may have changed) when its 16x12 luma signature differs from
# the one last analysed by this much on average, or in any one cell (a face-sized region).
# Sensor noise averages out in a cell (< 0.5); a person leaving, entering or turning does not.
PICTURE_MOVED_MEAN = 1.5
PICTURE_MOVED_CELL = 12
# The scene changed (someone may have come or gone) when the picture differs from the one the
# full-range face model last analysed, once the two are aligned, by this much: then that model
# looks again, not the short-range one, which finds only one of two faces side by side. The
# pictures are compared as 64x48 luma ``layout``s (5 px cells of a 320x240 thumbnail), the
# new one shifted by up to SCENE_SHIFT cells each way to where it fits the old one best, since
# a seated person sways and leans: unaligned, a sway of 6-12 px differed as much as someone
# leaving. Measured on thumbnails of tests/media/material.py's pictures (aligned mean /
# largest 4x4-cell average): a seated face swaying by 1-12 px, 4.5-11 / 17-49; someone
# leaving 40-44 / 128-131; two people instead of one 40-43 / 133-135; a blank picture 38-59
# / 131-167; a second face leaning in at a side while the first stays 9-15 / 196 (the
# cell, not the mean, sees it).
SCENE_LAYOUT_SIZE = (64, 48)
SCENE_SHIFT = 4
SCENE_CELL = 4
SCENE_CHANGED_MEAN = 20
SCENE_CHANGED_CELL = 80
# The short-range model's answer is asked for only when the full-range one last saw a face at
# least this wide (relative to the picture's longer side, 58 px of a 320x240 thumbnail): its
# yaw strayed from the full-range model's by up to 0.15 above it, 0.29 on faces of 0.12-0.18,
# and 0.5-2.2 on smaller ones, where it sometimes took something else for the face.
CONFIRM_MIN_FACE_WIDTH = 0.18


def picture_summary(gray: np.ndarray) -> dict:
    """Brightness, contrast, a 16x12 luma ``signature`` (cell averages: what moved), a
    32x24 ``grain`` (single pixels: a live camera's noise, which averages out of the cells)
    and a 64x48 ``layout`` (what ``scene_changed`` aligns)
    of a grey picture (2-D uint8 array). Cheap (~0.1 ms for 320x240), so the worker makes one
    for every camera thumbnail."""
    import cv2

    small = cv2.resize(gray, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).astype(np.int16)
    grain = cv2.resize(gray, GRAIN_SIZE, interpolation=cv2.INTER_NEAREST).astype(np.int16)
    mean, deviation = cv2.meanStdDev(gray)
    return {"brightness": float(mean[0, 0]), "contrast": float(deviation[0, 0]),
            "signature": small.tobytes(), "grain": grain.tobytes(),
            "layout": cv2.resize(gray, SCENE_LAYOUT_SIZE, interpolation=cv2.INTER_AREA).tobytes()}


def picture_difference(before: bytes, after: bytes) -> np.ndarray:
    return np.abs(np.frombuffer(before, np.int16) - np.frombuffer(after, np.int16))


def picture_moved(before: bytes, after: bytes) -> bool:
    difference = picture_difference(before, after)
    return float(difference.mean()) >= PICTURE_MOVED_MEAN or int(difference.max()) >= PICTURE_MOVED_CELL


def scene_changed(before: bytes, after: bytes) -> bool:
    """Do two pictures' ``layout``s differ by more than a sway? The middle of ``after`` (all
    but SCENE_SHIFT cells at each edge) is matched against ``before`` at every shift up to
    SCENE_SHIFT cells; at the best one, the mean difference or one 4x4-cell block's says."""
    import cv2

    width, height = SCENE_LAYOUT_SIZE
    old = np.frombuffer(before, np.uint8).reshape(height, width).astype(np.float32)
    new = np.frombuffer(after, np.uint8).reshape(height, width).astype(np.float32)
    middle = new[SCENE_SHIFT:-SCENE_SHIFT, SCENE_SHIFT:-SCENE_SHIFT]
    fit = cv2.matchTemplate(old, middle, cv2.TM_SQDIFF)
    top, left = np.unravel_index(int(np.argmin(fit)), fit.shape)
    difference = np.abs(old[top:top + middle.shape[0], left:left + middle.shape[1]] - middle)
    rows, columns = (size // SCENE_CELL for size in difference.shape)
    blocks = difference[:rows * SCENE_CELL, :columns * SCENE_CELL].reshape(rows, SCENE_CELL, columns, SCENE_CELL)
    return float(difference.mean()) >= SCENE_CHANGED_MEAN or float(blocks.mean(axis=(1, 3)).max()) >= SCENE_CHANGED_CELL


def faces_analyse(jpeg: bytes, confirm: bool = False) -> dict:
    """Faces and gaze of one camera frame: ``{"faces", "yaw", "face_width", "model"}``.

    With ``confirm`` (the full-range model saw one face lately, ``CandidateFlags.picture``),
    the short-range model looks first and its answer stands if it finds exactly one face;
    any other answer is the full-range model's to give. ``model`` says which answered.
    (``confirm`` is positional too: the pool's jobs take their arguments in order.)"""
    from .faces import image_decode

    return _faces_and_gaze(image_decode(jpeg), confirm=confirm)


def _faces_and_gaze(image: np.ndarray, *, confirm: bool = False) -> dict:
    from .faces import faces_detect

    if confirm:
        faces = faces_detect(image, model="short")
        if len(faces) == 1:
            return _faces_answer(faces, image, "short")
    return _faces_answer(faces_detect(image), image, "full")


def _faces_answer(faces: list, image: np.ndarray, model: str) -> dict:
    yaw = face_width = None
    if len(faces) == 1:
        # Keypoints: 0 right eye, 1 left eye, 2 nose tip. The nose far off the eyes' middle,
        # relative to the eyes' distance, means the head is turned away.
        (right_eye, _), (left_eye, _), (nose, _) = faces[0].keypoints[:3]
        eye_middle = (right_eye + left_eye) / 2
        eye_distance = abs(left_eye - right_eye) or 1e-6
        yaw = (nose - eye_middle) / eye_distance
        face_width = faces[0].width / max(image.shape[:2])
    return {"faces": len(faces), "yaw": yaw, "face_width": face_width, "model": model}


def frame_analyse(jpeg: bytes) -> dict:
    """Faces, gaze and picture statistics of one camera frame (the worker makes the
    statistics with the thumbnail and asks the pool for ``faces_analyse`` only)."""
    import cv2

    from .faces import image_decode

    image = image_decode(jpeg)
    return {**_faces_and_gaze(image), **picture_summary(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))}


def identity_check(photo: bytes, jpeg: bytes, max_distance: float) -> dict:
    from .faces import face_match

    match = face_match(registered_photo=photo, frame=jpeg, max_distance=max_distance)
    return {"score": match.score, "matched": match.matched, "faces": match.faces_found}


def opus_decoder():
    """FFmpeg's Opus decoder giving mono: a stereo packet comes out downmixed (the same samples
    as decoding it in stereo and mixing down), and a mono one, what browsers send, costs ~20 %
    less to decode than in stereo (docs/performance.md)."""
    import av

    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate, decoder.layout = 48000, "mono"
    return decoder


def opus_decode_16k(packets: list[bytes]) -> bytes:
    """Opus packets (48 kHz, as WebRTC sends them) as 16 kHz mono 16-bit PCM."""
    import av

    decoder = opus_decoder()
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    pcm = []
    for data in packets:
        try:
            frames = decoder.decode(av.Packet(data))
        except av.FFmpegError:
            continue  # one damaged packet: the rest still tell speech from silence
        for frame in frames:
            for out in resampler.resample(frame):
                pcm.append(bytes(out.planes[0])[: out.samples * 2])
    return b"".join(pcm)


QUIET_PROBE_STRIDE = 3


def opus_quiet(packets: list[bytes], *, stride: int = QUIET_PROBE_STRIDE) -> bool:
    """True when every ``stride``-th packet, decoded, is below the speech detector's silence
    level: a third of the decoding says the window holds no talking (speech for the 30 % of
    a window that flags it spans many packets in a row; one loud probe is enough to listen).
    Measured at 48 kHz, which keeps noise above 8 kHz: a quiet verdict is never too eager."""
    import av

    from .voice import SILENCE_RMS

    decoder = opus_decoder()
    for data in packets[::stride]:
        try:
            frames = decoder.decode(av.Packet(data))
        except av.FFmpegError:
            continue
        for frame in frames:
            samples = frame.to_ndarray().astype(np.float32)
            if "flt" in frame.format.name:  # FFmpeg's decoder gives floats in -1..1
                samples *= 32767
            if samples.size and float(np.sqrt(np.mean(samples**2))) >= SILENCE_RMS:
                return False
    return True


def opus_analyse(packets: list[bytes], enough: float | None = None) -> float:
    """Share of the packets' audio that holds speech. With ``enough`` (the exam's threshold),
    a quiet window is not decoded whole (``opus_quiet``): 0.0."""
    from .voice import speech_fraction

    if enough is not None and opus_quiet(packets):
        return 0.0
    return speech_fraction(opus_decode_16k(packets))


def analyse_batch(jobs: list[tuple]) -> list[tuple[bool, object]]:
    """Run ``(function, args)`` jobs one after another: (True, result) or (False, error)."""
    results = []
    for function, args in jobs:
        try:
            results.append((True, function(*args)))
        except Exception as error:  # noqa: BLE001 - one bad sample must not lose the batch
            results.append((False, repr(error)))
    return results


def identity_next(after: float, every: float, *, checks_done: int) -> float:
    """When the next identity check is due, ``checks_done`` checks in (``IDENTITY_INTERVAL_SPREAD``)."""
    return after + every * random.uniform(0.0 if checks_done == 1 else IDENTITY_INTERVAL_SPREAD, 1.0)


# --- Turning samples into flags (pure; the pipeline feeds it) --------------------------
@dataclass
class Condition:
    """A condition that must hold for ``after`` seconds to flag, once per episode."""

    after: float
    since: float | None = None
    flagged: bool = False

    def update(self, holds: bool, now: float) -> bool:
        """True exactly when the episode crosses its duration."""
        if not holds:
            self.since, self.flagged = None, False
            return False
        if self.since is None:
            self.since = now
        if not self.flagged and now - self.since >= self.after:
            self.flagged = True
            return True
        return False


@dataclass
class CandidateFlags:
    """One candidate's conditions, fed a camera picture about every second.

    The face models look at a picture only when it moved since the picture they last looked
    at (``picture_moved``), at most every ``faces_min_interval`` seconds, and at least every
    ``faces_refresh`` seconds. A picture that did not move has the faces of the one analysed,
    so the face conditions' timers still run every picture: a flag fires within a picture's
    interval of its duration once a model has seen the change.

    The full-range model decides; the cheaper short-range one only confirms that one face is
    still there (``faces_analyse`` with ``confirm``). It is asked when the full-range model saw
    one face, big enough (``CONFIRM_MIN_FACE_WIDTH``), less than ``faces_refresh`` seconds ago,
    and the scene has not changed since (``scene_changed``); so the full-range model still
    looks at least every ``faces_refresh`` seconds and at every coming or going it can see.
    While the scene stays as the full-range model saw it, a confirm comes at most every
    ``confirm_interval`` seconds, and the pictures between keep the last answer: what a confirm
    can add then is the gaze (``looking_away``), whose flag takes 10 s by default.
    """

    rules: object
    faces_min_interval: float = 0.0
    faces_refresh: float = 10.0
    confirm_interval: float = 0.0
    conditions: dict[str, Condition] = field(default_factory=dict)
    last_grain: bytes | None = None
    blocked: bool = False
    known: dict | None = None  # the faces of the picture last analysed and its signature
    full: dict | None = None  # the full-range model's last answer, its picture's layout and when
    asked_at: float = float("-inf")

    def __post_init__(self):
        rules = self.rules
        self.conditions = {
            "no_face": Condition(rules.face_absent_seconds),
            "multiple_faces": Condition(rules.multiple_faces_seconds),
            "looking_away": Condition(rules.looking_away_seconds),
            "camera_blocked": Condition(rules.camera_blocked_seconds),
            "camera_frozen": Condition(rules.camera_frozen_seconds),
            "speech": Condition(rules.speech_seconds),
        }

    def _raised(self, checks: dict[str, bool], data: dict, now: float) -> list[tuple[str, dict]]:
        return [(kind, data) for kind, holds in checks.items() if self.conditions[kind].update(holds, now)]

    def _picture_conditions(self, picture: dict, now: float) -> list[tuple[str, dict]]:
        blocked = picture["brightness"] < 25 or picture["contrast"] < 8
        frozen = False
        if self.last_grain is not None:
            # A live camera always has noise, pixel by pixel.
            frozen = float(picture_difference(self.last_grain, picture["grain"]).mean()) < 0.5
        self.last_grain = picture["grain"]
        self.blocked = blocked
        data = {"brightness": round(picture["brightness"], 1), "contrast": round(picture["contrast"], 1)}
        return self._raised({"camera_blocked": blocked, "camera_frozen": frozen and not blocked}, data, now)

    def _face_conditions(self, faces: int, yaw: float | None, now: float) -> list[tuple[str, dict]]:
        checks = {
            "no_face": faces == 0 and not self.blocked,
            "multiple_faces": faces > 1,
            "looking_away": yaw is not None and abs(yaw) > self.rules.looking_away_yaw,
        }
        return self._raised(checks, {"faces": faces, "yaw": yaw}, now)

    def picture(self, picture: dict, now: float) -> tuple[list[tuple[str, dict]], Literal["confirm", "full"] | None]:
        """A camera picture's summary (``picture_summary``). Returns the flags raised and
        what should look at this picture: None (nothing), "confirm" (``faces_analyse`` with
        ``confirm``) or "full" (the full-range model); then call ``faces``."""
        raised = self._picture_conditions(picture, now)
        known, full = self.known, self.full
        recent = full is not None and now - full["at"] < self.faces_refresh
        if recent and not picture_moved(known["signature"], picture["signature"]):
            return raised + self._face_conditions(known["faces"], known["yaw"], now), None
        if now - self.asked_at < self.faces_min_interval:
            return raised, None
        if (recent and full["faces"] == 1 and full["face_width"] >= CONFIRM_MIN_FACE_WIDTH
                and not scene_changed(full["layout"], picture["layout"])):
            if now - self.asked_at < self.confirm_interval:
                return raised + self._face_conditions(known["faces"], known["yaw"], now), None
            self.asked_at = now
            return raised, "confirm"
        self.asked_at = now
        return raised, "full"

    def faces(self, analysis: dict, picture: dict, now: float) -> list[tuple[str, dict]]:
        """A face model's answer (``faces_analyse``) for the picture ``picture`` summarises."""
        self.known = {"faces": analysis["faces"], "yaw": analysis["yaw"], "signature": picture["signature"]}
        if analysis["model"] == "full":
            self.full = {"faces": analysis["faces"], "face_width": analysis["face_width"], "layout": picture["layout"],
                         "at": now}
        return self._face_conditions(analysis["faces"], analysis["yaw"], now)

    def frame(self, analysis: dict, now: float) -> list[tuple[str, dict]]:
        """One picture analysed whole (``frame_analyse``): picture and faces."""
        return self._picture_conditions(analysis, now) + self.faces(analysis, analysis, now)

    def audio(self, fraction: float, now: float) -> list[tuple[str, dict]]:
        holds = fraction >= self.rules.speech_min_fraction
        return [("speech", {"score": round(fraction, 3)})] if self.conditions["speech"].update(holds, now) else []


# --- Results leave through here -------------------------------------------------------
def detection_report(*, registration_id: int, kind: str, data: dict) -> None:
    """Hand one automatic flag to the alert rules, with its evidence in ``data``."""
    from invigilate.exams.models import Registration
    from invigilate.proctoring.services import signal_record

    if kind not in FLAG_KINDS:
        raise ValueError(f"unknown detector flag {kind}")
    registration = Registration.objects.select_related("exam").get(pk=registration_id)
    signal_record(registration=registration, kind=kind, source="detector", data=data)


def evidence_store(*, registration_id: int, kind: str, jpeg: bytes, taken_at: float) -> str:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    return default_storage.save(f"detections/{registration_id}/{kind}-{int(taken_at * 1000)}.jpg", ContentFile(jpeg))


def pool_process_start(niceness: int) -> None:
    """Each pool process runs at a lower priority than the worker (``os.nice``): where they
    share a core, the media path goes first and the detectors, whose flags take seconds
    anyway, take what is left. ``DetectorPipeline.timeliness`` says whether that is enough."""
    if niceness:
        os.nice(niceness)


# --- The pipeline on the media worker's loop ------------------------------------------
class DetectorPipeline:
    """Samples go to the pool in batches, every ``batch_seconds``: one hand-over per batch,
    not per sample (each submission woke the pool's manager and feeder threads, and the GIL
    hand-overs cost the worker's loop a tenth of its time at 30 candidates, py-spy).

    A sample that comes while the candidate's previous one of its kind is still being analysed is
    skipped, never queued (``skipped``); ``timeliness`` gives the batches' time from the first
    sample's hand-over to the results, and the samples skipped, for the worker's stats."""

    def __init__(self, *, processes: int = 1, batch_seconds: float = 0.5, niceness: int = 0):
        self.processes = processes
        self.batch_seconds = batch_seconds
        self.niceness = niceness
        self.pool: ProcessPoolExecutor | None = None
        self.runtime = None
        self.state: dict[int, dict] = {}
        self.busy: set[tuple[int, str]] = set()
        self.pending: list[tuple] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self.latencies: deque[float] = deque(maxlen=DETECTOR_LATENCIES_KEPT)
        self.submitted = 0
        self.skipped = 0
        self.batches = 0
        self.batches_late = 0

    def start(self, runtime) -> None:
        self.runtime = runtime
        # Spawned, not forked: the worker has threads and an event loop a fork would copy.
        self.pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=pool_process_start, initargs=(self.niceness,))
        if not isinstance(getattr(self.pool, "_processes", None), dict):
            raise RuntimeError("this Python's ProcessPoolExecutor keeps no _processes where process_ids expects it")

    def process_ids(self) -> list[int]:
        """The pool's processes, whose CPU counts in the worker's load (``worker.CpuMeter``)."""
        return list(self.pool._processes or {}) if self.pool is not None else []  # by pid; checked in start()

    def timeliness(self) -> dict:
        """The last batches' latency (s, p95 and max); since the worker started, the batches
        done and those late (``DETECTOR_LATE_SECONDS``), the samples submitted and skipped."""
        latencies = sorted(self.latencies)
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else None
        return {"latency_p95_s": p95, "latency_max_s": latencies[-1] if latencies else None,
                "batches": self.batches, "batches_late": self.batches_late,
                "submitted": self.submitted, "skipped": self.skipped}

    def stop(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def attach(self, peer, name: str, hub) -> None:
        entry = self.state.setdefault(peer.peer_id, {"flags": None, "photo": None, "next_identity": float("inf"), "audio": [],
                                                     "ready": False})
        if not entry["ready"]:
            entry["ready"] = True
            peer.runtime.spawn(self._load(peer, entry))
        if name == "microphone":
            peer.tasks.append(asyncio.ensure_future(self._sample_audio(peer, hub)))

    def detach(self, peer) -> None:
        self.state.pop(peer.peer_id, None)

    async def _load(self, peer, entry) -> None:
        entry["rules"], entry["photo"] = await db(_rules_and_photo)(peer.registration_id)
        # The first identity check comes within IDENTITY_FIRST_WITHIN_SECONDS of connecting (a
        # reconnect is when someone else could sit down), at a random moment: a room joining
        # at once would otherwise put ~90 ms per candidate on the pool in the same second.
        entry["next_identity"] = time.time() + random.uniform(
            0, min(IDENTITY_FIRST_WITHIN_SECONDS, entry["rules"].face_check_seconds))
        entry["flags"] = CandidateFlags(entry["rules"], faces_min_interval=settings.MEDIA_DETECTOR_FRAME_SECONDS,
                                        faces_refresh=settings.MEDIA_DETECTOR_FACE_REFRESH_SECONDS,
                                        confirm_interval=settings.MEDIA_DETECTOR_CONFIRM_SECONDS)

    async def _sample_audio(self, peer, hub) -> None:
        while not peer.closed:
            entry = self.state.get(peer.peer_id)
            every = entry["rules"].speech_sample_seconds if entry and entry.get("rules") else 5
            packets: list[bytes] = []
            unsubscribe = hub.subscribe(lambda frame, into=packets: into.append(frame.data))
            try:
                await asyncio.sleep(SPEECH_SAMPLE_SECONDS)
            finally:
                unsubscribe()
            if entry and packets and entry.get("flags") is not None:
                self._submit(peer, "audio", opus_analyse, packets, entry["rules"].speech_min_fraction,
                             on_done=self._audio_done)
            await asyncio.sleep(max(0.0, every - SPEECH_SAMPLE_SECONDS))

    def video_frame(self, peer, name: str, jpeg: bytes, taken_at: float, picture: dict) -> None:
        """A camera thumbnail (about one a second) and its ``picture_summary``."""
        entry = self.state.get(peer.peer_id)
        if entry is None or entry["flags"] is None or name != "camera":
            return
        raised, faces_pass = entry["flags"].picture(picture, time.monotonic())
        for kind, data in raised:
            self._report(peer, kind, data, jpeg, taken_at)
        if faces_pass is not None:
            self._submit(peer, "frame", faces_analyse, jpeg, faces_pass == "confirm",
                         on_done=lambda p, r: self._frame_done(p, r, picture, jpeg, taken_at))
        rules = entry["rules"]
        # Identity: dlib embeddings, ~90 ms a check; soon after connecting, then every
        # face_check_seconds (an exam's knob, 3 minutes by default).
        if entry["photo"] and taken_at >= entry["next_identity"]:
            entry["identity_checks"] = entry.get("identity_checks", 0) + 1
            entry["next_identity"] = identity_next(taken_at, rules.face_check_seconds,
                                                   checks_done=entry["identity_checks"])
            self._submit(peer, "identity", identity_check, entry["photo"], jpeg, rules.face_match_max_distance,
                         on_done=lambda p, r: self._identity_done(p, r, jpeg, taken_at))

    def _submit(self, peer, what: str, function, *args, on_done) -> None:
        key = (peer.peer_id, what)
        if self.pool is None:
            return
        if key in self.busy:
            self.skipped += 1  # the previous sample is still being analysed: skip, never queue up
            return
        self.submitted += 1
        self.busy.add(key)
        self.pending.append((key, peer, what, function, args, on_done))
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(self.batch_seconds, self._flush)

    def _flush(self) -> None:
        # The batch's first sample was handed over when its timer was set (loop time).
        loop = asyncio.get_running_loop()
        handed_over = self._flush_handle.when() - self.batch_seconds
        self._flush_handle = None
        jobs, self.pending = self.pending, []
        if not jobs or self.pool is None:
            return
        try:
            future = asyncio.wrap_future(self.pool.submit(analyse_batch, [(job[3], job[4]) for job in jobs]))
        except RuntimeError:  # the pool is shutting down
            return

        def finished(done):
            for key, *_ in jobs:
                self.busy.discard(key)
            if done.cancelled():
                return
            latency = loop.time() - handed_over
            self.latencies.append(latency)
            self.batches += 1
            self.batches_late += latency >= DETECTOR_LATE_SECONDS
            if done.exception() is not None:
                logger.warning("detector batch failed: %s", done.exception())
                return
            for (_key, peer, what, _function, _args, on_done), (ok, result) in zip(jobs, done.result(), strict=True):
                if not ok:
                    logger.warning("detector %s failed: %s", what, result)
                    continue
                try:
                    on_done(peer, result)
                except Exception:
                    logger.exception("detector %s result not handled", what)

        future.add_done_callback(finished)

    def _frame_done(self, peer, analysis: dict, picture: dict, jpeg: bytes, taken_at: float) -> None:
        entry = self.state.get(peer.peer_id)
        if entry is None:
            return
        for kind, data in entry["flags"].faces(analysis, picture, time.monotonic()):
            self._report(peer, kind, data, jpeg, taken_at)

    def _identity_done(self, peer, result: dict, jpeg: bytes, taken_at: float) -> None:
        if result["faces"] == 1 and not result["matched"]:
            self._report(peer, "face_mismatch", {"score": result["score"]}, jpeg, taken_at)

    def _audio_done(self, peer, fraction: float) -> None:
        entry = self.state.get(peer.peer_id)
        if entry is None:
            return
        for kind, data in entry["flags"].audio(fraction, time.monotonic()):
            self._report(peer, kind, data, None, time.time())

    def _report(self, peer, kind: str, data: dict, jpeg: bytes | None, taken_at: float) -> None:
        async def report():
            if jpeg is not None:
                data["snapshot"] = await db(evidence_store)(
                    registration_id=peer.registration_id, kind=kind, jpeg=jpeg, taken_at=taken_at)
            await db(detection_report)(
                registration_id=peer.registration_id, kind=kind, data=data)

        peer.runtime.spawn(report())


def _rules_and_photo(registration_id: int):
    from invigilate.exams.models import Registration
    from invigilate.exams.rules import exam_rules

    registration = Registration.objects.select_related("exam", "candidate").get(pk=registration_id)
    photo = None
    if registration.candidate.photo:
        with registration.candidate.photo.open("rb") as handle:
            photo = handle.read()
    return exam_rules(registration.exam), photo


def detector_pipeline_for_worker() -> DetectorPipeline | None:
    return DetectorPipeline(niceness=settings.MEDIA_DETECTOR_NICENESS) if settings.MEDIA_DETECTORS else None
