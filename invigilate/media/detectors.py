"""Automatic flags from sampled frames and audio (filled in by the detector pipeline)."""


def detector_pipeline_for_worker():
    return None
