"""Voice activity on speech made with espeak-ng vs silence vs noise; prints precision/recall."""

import shutil
import subprocess

import pytest

from invigilate.media.voice import speech_fraction

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")

SPEECH_FRACTION = 0.3
SENTENCE = "I am reading the second question aloud, so that my friend can tell me the answer."


def pcm(tmp_path, name: str, *make: str) -> bytes:
    """Raw 16 kHz mono 16-bit audio produced by ``make`` (a sox or espeak-ng command line)."""
    wav = tmp_path / f"{name}.wav"
    if make[0] == "espeak-ng":
        command = [*make, str(wav), SENTENCE]
    else:  # sox -n <output> synth ...
        command = [make[0], make[1], *make[2:4], str(wav), *make[4:]]
    subprocess.run(command, check=True, capture_output=True)
    raw = tmp_path / f"{name}.raw"
    subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", str(raw)],
                   check=True, capture_output=True)
    return raw.read_bytes()


def test_it_hears_speech_and_ignores_silence_and_noise(tmp_path):
    samples = [
        (pcm(tmp_path, "speech-en", "espeak-ng", "-s", "150", "-w"), True),
        (pcm(tmp_path, "speech-zh", "espeak-ng", "-v", "cmn", "-w"), True),
        (pcm(tmp_path, "silence", "sox", "-n", "-r", "16000", "synth", "3", "sine", "0", "vol", "0"), False),
        (pcm(tmp_path, "white", "sox", "-n", "-r", "16000", "synth", "3", "whitenoise", "vol", "0.3"), False),
        (pcm(tmp_path, "brown", "sox", "-n", "-r", "16000", "synth", "3", "brownnoise", "vol", "0.5"), False),
        (pcm(tmp_path, "hum", "sox", "-n", "-r", "16000", "synth", "3", "sine", "50", "vol", "0.5"), False),
    ]
    predicted = [(speech_fraction(audio) >= SPEECH_FRACTION, speech) for audio, speech in samples]
    true_positive = sum(p and s for p, s in predicted)
    false_positive = sum(p and not s for p, s in predicted)
    false_negative = sum(s and not p for p, s in predicted)
    precision = true_positive / max(1, true_positive + false_positive)
    recall = true_positive / max(1, true_positive + false_negative)
    print(f"speech: precision={precision:.2f} recall={recall:.2f} on {len(samples)} clips")
    assert precision == 1.0 and recall == 1.0


def test_a_window_is_heard_on_its_own_whatever_came_before(tmp_path):
    # The pool hears many candidates' windows one after another: none may colour the next
    # (the model's state starts fresh with every window).
    speech = pcm(tmp_path, "speech-en", "espeak-ng", "-s", "150", "-w")
    noise = pcm(tmp_path, "white", "sox", "-n", "-r", "16000", "synth", "3", "whitenoise", "vol", "0.3")
    first = speech_fraction(speech)
    for other in (noise, speech, noise):
        speech_fraction(other)
    assert speech_fraction(speech) == first and speech_fraction(noise) < SPEECH_FRACTION <= first


def opus_packets(pcm16k: bytes) -> list[bytes]:
    """16 kHz PCM as the 20 ms Opus packets a browser sends."""
    import av
    import numpy as np

    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "mono", "s16"
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    source = av.AudioFrame.from_ndarray(np.frombuffer(pcm16k, np.int16).reshape(1, -1), format="s16", layout="mono")
    source.sample_rate = 16000
    packets = []
    for frame in [*resampler.resample(source), *resampler.resample(None)]:
        packets += [bytes(packet) for packet in encoder.encode(frame)]
    return packets + [bytes(packet) for packet in encoder.encode(None)]


def test_it_hears_speech_in_the_opus_packets_the_worker_hands_over(tmp_path):
    from invigilate.media.detectors import opus_analyse

    speech = opus_packets(pcm(tmp_path, "speech-en", "espeak-ng", "-s", "150", "-w"))
    silence = opus_packets(pcm(tmp_path, "silence", "sox", "-n", "-r", "16000", "synth", "3", "sine", "0", "vol", "0"))
    noise = opus_packets(pcm(tmp_path, "white", "sox", "-n", "-r", "16000", "synth", "3", "whitenoise", "vol", "0.3"))
    assert len(speech) > 100  # several seconds of 20 ms packets
    assert opus_analyse(speech) >= SPEECH_FRACTION
    assert opus_analyse(silence) < SPEECH_FRACTION
    assert opus_analyse(noise) < SPEECH_FRACTION


def test_the_worker_skips_quiet_windows_and_still_hears_speech(tmp_path):
    from invigilate.media.detectors import opus_analyse, opus_quiet

    speech = opus_packets(pcm(tmp_path, "speech-en", "espeak-ng", "-s", "150", "-w"))
    silence = opus_packets(pcm(tmp_path, "silence", "sox", "-n", "-r", "16000", "synth", "3", "sine", "0", "vol", "0"))
    noise = opus_packets(pcm(tmp_path, "white", "sox", "-n", "-r", "16000", "synth", "3", "whitenoise", "vol", "0.3"))
    assert opus_quiet(silence) and not opus_quiet(speech) and not opus_quiet(noise)
    # Two seconds as the worker samples them (20 ms packets), from anywhere in the sentence.
    for start in range(0, len(speech) - 100, 25):
        window = speech[start:start + 100]
        assert opus_analyse(window, SPEECH_FRACTION) >= SPEECH_FRACTION, start
    assert opus_analyse(silence, SPEECH_FRACTION) == 0.0
    assert opus_analyse(noise, SPEECH_FRACTION) < SPEECH_FRACTION
