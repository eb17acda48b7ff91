"""The C heap of a long-running media worker: give its free pages back.

A worker's native allocations (aiortc's packets, libav's muxers and decoders, libvpx, SRTP)
come and go at thousands a second. glibc keeps the freed space in its arenas and returns
only the top of the main heap to the system, so a steady worker's resident size creeps up
while what it holds stays flat (bench/media, docs/performance.md: 50 candidates held
~37 MB of live native heap for 25 minutes while RSS grew 40 MB). ``malloc_trim(0)``
releases every free page inside the arenas too (``madvise(MADV_DONTNEED)``); called now and
then it keeps RSS at what the worker really uses.
"""

import ctypes
import os
import time
from dataclasses import dataclass

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _libc_malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; musl and macOS have no such call
    except (AttributeError, OSError):
        return None


_malloc_trim = _libc_malloc_trim()


def rss_bytes() -> int:
    """This process's resident size (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


@dataclass(frozen=True)
class Trim:
    released: bool  # glibc gave memory back
    rss_before: int
    rss_after: int
    seconds: float

    @property
    def freed_bytes(self) -> int:
        return max(0, self.rss_before - self.rss_after)


def heap_trim() -> Trim | None:
    """Return the C heap's free pages to the system. ``None`` where the C library cannot.
    The call releases the GIL (ctypes) and takes each arena's lock in turn: run it in a
    thread, and other threads' allocations wait only for the arena being trimmed."""
    if _malloc_trim is None:
        return None
    before, started = rss_bytes(), time.perf_counter()
    released = bool(_malloc_trim(0))
    return Trim(released=released, rss_before=before, rss_after=rss_bytes(), seconds=time.perf_counter() - started)
