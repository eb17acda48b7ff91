"""The media worker's UDP reads: every queued datagram per wake-up, not one."""

import asyncio
import socket

import pytest

from invigilate.media.datagrams import datagram_reads_drain_install, datagram_reads_drain_uninstall


class Collect(asyncio.DatagramProtocol):
    def __init__(self):
        self.datagrams: list[bytes] = []
        self.errors: list[Exception] = []

    def datagram_received(self, data, address):
        self.datagrams.append(data)

    def error_received(self, error):
        self.errors.append(error)


async def _one_wakeup_reads(queued: int) -> int:
    """Queue ``queued`` datagrams on a fresh endpoint, then let its transport wake once."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        await asyncio.sleep(0)  # connection_made, then the reader is registered
        loop._remove_reader(transport.get_extra_info("socket").fileno())  # wake it ourselves, once
        for index in range(queued):
            sender.sendto(b"%d" % index, transport.get_extra_info("sockname"))
        await asyncio.sleep(0.05)
        transport._read_ready()
        return len(protocol.datagrams)
    finally:
        sender.close()
        transport.close()


@pytest.fixture
def draining():
    datagram_reads_drain_install()
    yield
    datagram_reads_drain_uninstall()


def test_asyncio_alone_reads_one_datagram_per_wakeup():
    datagram_reads_drain_uninstall()
    assert asyncio.run(_one_wakeup_reads(20)) == 1


def test_it_reads_every_queued_datagram_in_one_wakeup(draining):
    assert asyncio.run(_one_wakeup_reads(20)) == 20


def test_it_reads_at_most_a_bounded_batch_so_other_sockets_get_their_turn(draining):
    from invigilate.media.datagrams import DATAGRAMS_PER_WAKEUP

    assert asyncio.run(_one_wakeup_reads(DATAGRAMS_PER_WAKEUP + 10)) == DATAGRAMS_PER_WAKEUP


def test_a_socket_error_goes_to_the_protocol_and_ends_the_batch(draining):
    async def scenario():
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
        await asyncio.sleep(0)

        class Broken:
            def recvfrom(self, size):
                raise ConnectionRefusedError("ICMP port unreachable")

            def fileno(self):
                return -1

        real, transport._sock = transport._sock, Broken()
        transport._read_ready()
        transport._sock = real
        transport.close()
        return protocol

    protocol = asyncio.run(scenario())
    assert len(protocol.errors) == 1 and protocol.datagrams == []


def test_the_media_worker_installs_it():
    from asyncio import selector_events

    from invigilate.media.datagrams import _read_ready_draining
    from invigilate.media.worker import MediaWorkerRuntime

    datagram_reads_drain_uninstall()
    try:
        MediaWorkerRuntime(name="datagrams-test")
        assert selector_events._SelectorDatagramTransport._read_ready is _read_ready_draining
    finally:
        datagram_reads_drain_uninstall()
