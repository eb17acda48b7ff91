"""UDP reads that keep up with a busy connection: every queued datagram per wake-up, not one.

asyncio's selector loop reads ONE datagram each time a UDP socket is ready, then goes round
the whole loop (every other ready socket, timer and task) before it reads the next. A media
worker has one socket per peer connection (BUNDLE), so a socket can be read only as often as
the loop goes round: at 50 candidates and ~90 % of the core a round takes ~10 ms, while a
watched candidate's socket gets ~95 packets a second (camera at 20 fps, screen at 5, Opus,
RTCP). Its kernel queue (212 KB, 92 packets of 1.1 KB on loopback) then fills and drops, and
aiortc's jitter buffer turns one lost packet into up to 128 packets' worth of lost frames:
the watched candidates fell behind first, on every track (bench/media, runs 9-13).

``datagram_reads_drain_install`` makes the loop's datagram transports read up to
``DATAGRAMS_PER_WAKEUP`` datagrams per wake-up (until the socket is empty), so a socket is
served at its own rate and the loop goes round less often. It replaces the method on
asyncio's (private) datagram transport class, so every UDP transport of this process reads
this way, those already open included: the media worker's, or the web process's in the
embedded default, where aiortc's ICE sockets are the only UDP transports. The install
refuses to run on an asyncio whose class does not look like the one this was written for.
"""

from asyncio import selector_events

DATAGRAMS_PER_WAKEUP = 32

_original_read_ready = selector_events._SelectorDatagramTransport._read_ready


def _read_ready_draining(self) -> None:
    # asyncio's own _read_ready (CPython 3.11-3.13), repeated while datagrams are queued.
    for _ in range(DATAGRAMS_PER_WAKEUP):
        if self._conn_lost:
            return
        try:
            data, address = self._sock.recvfrom(self.max_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            self._protocol.error_received(error)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as error:
            self._fatal_error(error, "Fatal read error on datagram transport")
            return
        self._protocol.datagram_received(data, address)


def datagram_reads_drain_install() -> None:
    """Datagram transports created from now on read every queued datagram per wake-up."""
    transport = selector_events._SelectorDatagramTransport
    if transport._read_ready is not _original_read_ready and transport._read_ready is not _read_ready_draining:
        raise RuntimeError("asyncio's datagram transport was already patched by something else")
    if not hasattr(transport, "max_size"):
        raise RuntimeError("this asyncio's datagram transport has no max_size where datagrams expects it")
    transport._read_ready = _read_ready_draining


def datagram_reads_drain_uninstall() -> None:
    """Back to asyncio's one datagram per wake-up (tests)."""
    selector_events._SelectorDatagramTransport._read_ready = _original_read_ready
