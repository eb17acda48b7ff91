"""A worker gives its C heap's free pages back: the fix for a steady worker's creeping RSS."""

import asyncio

import pytest

from invigilate.media import native_memory
from invigilate.media.native_memory import heap_trim, rss_bytes

glibc_only = pytest.mark.skipif(native_memory._malloc_trim is None, reason="the C library has no malloc_trim")


@glibc_only
def test_a_trim_returns_the_free_pages_between_live_blocks():
    # 80 MB of malloc'd blocks (bytes over 512 bytes come from malloc), then every block but
    # one in sixteen freed: the heap cannot shrink from its top, the freed pages stay resident.
    blocks = [bytes(4000) for _ in range(20_000)]
    kept = blocks[::16]
    del blocks
    trim = heap_trim()
    assert trim.released
    assert trim.freed_bytes > 40 * 2**20, f"only {trim.freed_bytes / 2**20:.1f} MB came back"
    assert trim.rss_after == pytest.approx(rss_bytes(), abs=8 * 2**20)
    assert trim.seconds < 1
    assert all(block == bytes(4000) for block in kept)  # what was live is untouched


@glibc_only
async def test_the_worker_trims_its_heap_every_interval_and_reports_it_in_its_stats():
    from invigilate.media.worker import MediaWorkerRuntime

    runtime = MediaWorkerRuntime(name="trim-test")
    trimming = asyncio.ensure_future(runtime.heap_trim_loop(0.05))
    try:
        for _ in range(100):
            if len(runtime.heap_trims) >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        trimming.cancel()
        runtime.segment_closer.shutdown()
    assert len(runtime.heap_trims) >= 3
    summary = runtime.heap_trim_summary()
    assert summary["count"] == len(runtime.heap_trims)
    assert summary["freed_mb"] >= 0 and 0 <= summary["max_ms"] < 1000
    assert summary["rss_after_mb"] == round(runtime.heap_trims[-1].rss_after / 2**20, 1) > 0


def test_without_malloc_trim_the_trim_is_skipped(monkeypatch):
    monkeypatch.setattr(native_memory, "_malloc_trim", None)
    assert heap_trim() is None
