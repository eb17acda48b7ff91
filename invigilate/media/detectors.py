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
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from asgiref.sync import sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)

FLAG_KINDS = ("no_face", "multiple_faces", "face_mismatch", "looking_away", "speech", "camera_blocked", "camera_frozen")
SPEECH_SAMPLE_SECONDS = 2.0


# --- Analysis (runs in the pool's processes) ------------------------------------------
def frame_analyse(jpeg: bytes) -> dict:
    """Faces, gaze and picture statistics of one camera frame."""
    import cv2

    from .faces import _detector, _fit, image_decode

    image = _fit(image_decode(jpeg))
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    result = _detector(0.5).process(image)
    detections = result.detections or []
    yaw = None
    if len(detections) == 1:
        # Keypoints: 0 right eye, 1 left eye, 2 nose tip. The nose far off the eyes' middle,
        # relative to the eyes' distance, means the head is turned away.
        points = detections[0].location_data.relative_keypoints
        eye_middle = (points[0].x + points[1].x) / 2
        eye_distance = abs(points[1].x - points[0].x) or 1e-6
        yaw = (points[2].x - eye_middle) / eye_distance
    small = cv2.resize(gray, (16, 12), interpolation=cv2.INTER_AREA)
    return {
        "faces": len(detections),
        "yaw": yaw,
        "brightness": float(gray.mean()),
        "contrast": float(gray.std()),
        "signature": small.astype(np.int16).tobytes(),
    }


def identity_check(photo: bytes, jpeg: bytes, max_distance: float) -> dict:
    from .faces import face_match

    match = face_match(registered_photo=photo, frame=jpeg, max_distance=max_distance)
    return {"score": match.score, "matched": match.matched, "faces": match.faces_found}


def audio_analyse(pcm16k: bytes) -> float:
    from .voice import speech_fraction

    return speech_fraction(pcm16k)


def opus_decode_16k(packets: list[bytes]) -> bytes:
    """Opus packets (48 kHz, as WebRTC sends them) as 16 kHz mono 16-bit PCM."""
    import av

    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate, decoder.layout = 48000, "stereo"
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


def opus_analyse(packets: list[bytes]) -> float:
    return audio_analyse(opus_decode_16k(packets))


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
    rules: object
    conditions: dict[str, Condition] = field(default_factory=dict)
    last_signature: bytes | None = None

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

    def frame(self, analysis: dict, now: float) -> list[tuple[str, dict]]:
        blocked = analysis["brightness"] < 25 or analysis["contrast"] < 8
        frozen = False
        if self.last_signature is not None:
            previous = np.frombuffer(self.last_signature, np.int16)
            current = np.frombuffer(analysis["signature"], np.int16)
            frozen = float(np.abs(previous - current).mean()) < 0.5  # a live camera always has noise
        self.last_signature = analysis["signature"]
        yaw = analysis["yaw"]
        checks = {
            "camera_blocked": blocked,
            "camera_frozen": frozen and not blocked,
            "no_face": analysis["faces"] == 0 and not blocked,
            "multiple_faces": analysis["faces"] > 1,
            "looking_away": yaw is not None and abs(yaw) > self.rules.looking_away_yaw,
        }
        return [(kind, {"faces": analysis["faces"], "yaw": yaw})
                for kind, holds in checks.items() if self.conditions[kind].update(holds, now)]

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


# --- The pipeline on the media worker's loop ------------------------------------------
class DetectorPipeline:
    def __init__(self, *, processes: int = 1):
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None
        self.runtime = None
        self.state: dict[int, dict] = {}
        self.busy: set[tuple[int, str]] = set()

    def start(self, runtime) -> None:
        self.runtime = runtime
        # Spawned, not forked: the worker has threads and an event loop a fork would copy.
        self.pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"))

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def attach(self, peer, name: str, hub) -> None:
        entry = self.state.setdefault(peer.peer_id, {"flags": None, "photo": None, "last_identity": 0.0, "audio": [],
                                                     "ready": False})
        if not entry["ready"]:
            entry["ready"] = True
            peer.runtime.spawn(self._load(peer, entry))
        if name == "microphone":
            peer.tasks.append(asyncio.ensure_future(self._sample_audio(peer, hub)))

    def detach(self, peer) -> None:
        self.state.pop(peer.peer_id, None)

    async def _load(self, peer, entry) -> None:
        entry["rules"], entry["photo"] = await sync_to_async(_rules_and_photo, thread_sensitive=False)(peer.registration_id)
        entry["flags"] = CandidateFlags(entry["rules"])

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
                self._submit(peer, "audio", opus_analyse, packets, on_done=self._audio_done)
            await asyncio.sleep(max(0.0, every - SPEECH_SAMPLE_SECONDS))

    def video_frame(self, peer, name: str, jpeg: bytes, taken_at: float) -> None:
        entry = self.state.get(peer.peer_id)
        if entry is None or entry["flags"] is None or name != "camera":
            return
        # Faces cost ~7 ms a frame; every thumbnail (1 s) would be 0.7 % of a core per
        # candidate. The shortest flag duration (multiple_faces, 3 s) needs no more than this.
        if taken_at - entry.get("last_frame", 0.0) >= settings.MEDIA_DETECTOR_FRAME_SECONDS:
            entry["last_frame"] = taken_at
            self._submit(peer, "frame", frame_analyse, jpeg,
                         on_done=lambda p, r: self._frame_done(p, r, jpeg, taken_at))
        rules = entry["rules"]
        if entry["photo"] and taken_at - entry["last_identity"] >= rules.face_check_seconds:
            entry["last_identity"] = taken_at
            self._submit(peer, "identity", identity_check, entry["photo"], jpeg, rules.face_match_max_distance,
                         on_done=lambda p, r: self._identity_done(p, r, jpeg, taken_at))

    def _submit(self, peer, what: str, function, *args, on_done) -> None:
        key = (peer.peer_id, what)
        if key in self.busy or self.pool is None:
            return  # the previous sample is still being analysed: skip, never queue up
        self.busy.add(key)
        future = asyncio.wrap_future(self.pool.submit(function, *args))

        def finished(done):
            self.busy.discard(key)
            if done.cancelled() or done.exception() is not None:
                if not done.cancelled():
                    logger.warning("detector %s failed: %s", what, done.exception())
                return
            on_done(peer, done.result())

        future.add_done_callback(finished)

    def _frame_done(self, peer, analysis: dict, jpeg: bytes, taken_at: float) -> None:
        entry = self.state.get(peer.peer_id)
        if entry is None:
            return
        for kind, data in entry["flags"].frame(analysis, time.monotonic()):
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
                data["snapshot"] = await sync_to_async(evidence_store, thread_sensitive=False)(
                    registration_id=peer.registration_id, kind=kind, jpeg=jpeg, taken_at=taken_at)
            await sync_to_async(detection_report, thread_sensitive=False)(
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
    return DetectorPipeline() if settings.MEDIA_DETECTORS else None
