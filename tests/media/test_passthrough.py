"""The passthrough layer's replacement for aiortc's incoming-bitrate counter."""

import random

from aiortc.rate import RateCounter

from invigilate.media.passthrough import SparseRateCounter


def test_the_sparse_rate_counter_gives_aiortcs_rates():
    rng = random.Random(5)
    ours, theirs = SparseRateCounter(1000, 8000), RateCounter(1000, 8000)
    now, checked = 10_000, 0
    # Camera-like (every 100 ms), bursts (a keyframe's packets in one millisecond) and
    # screen-like gaps longer than the window, as the worker's estimator sees them.
    for _ in range(5000):
        now += rng.choice([0, 0, 1, 33, 100, 100, 1000, 1500, 2500])
        assert ours.rate(now) == theirs.rate(now)
        if ours.rate(now) is None and rng.random() < 0.9:
            ours.reset()  # as RemoteBitrateEstimator.add does after a silent window
            theirs.reset()
        size = rng.randint(50, 1200)
        ours.add(size, now)
        theirs.add(size, now)
        assert ours.rate(now) == theirs.rate(now)
        checked += 1
    assert checked == 5000


def test_new_receivers_use_it_once_the_worker_replaced_it():
    import aiortc.rate

    from invigilate.media.passthrough import aiortc_rate_counter_replace

    original = aiortc.rate.RateCounter
    try:
        aiortc_rate_counter_replace()
        assert isinstance(aiortc.rate.RemoteBitrateEstimator().incoming_bitrate, SparseRateCounter)
    finally:
        aiortc.rate.RateCounter = original
