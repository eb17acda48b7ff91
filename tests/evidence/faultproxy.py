"""A TCP proxy on loopback that misbehaves like a bad mobile network: it throttles what the
client sends, and cuts each connection with a reset after a number of bytes."""

import socket
import struct
import threading
import time


class FaultProxy:
    """``cut_after`` counts the bytes a client sends on a connection, or, with ``cut_from``
    (e.g. ``b"PATCH "``), the bytes from where that marker first appears in them."""

    def __init__(self, upstream_port: int, *, cut_after: int, bytes_per_second: int, cuts: int,
                 cut_from: bytes | None = None):
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cut_from = cut_from
        self.delay_per_kib = 1024 / bytes_per_second
        self.cuts_left = cuts
        self.cuts_made = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                # With a marker, any connection may carry it: the cut is taken when it happens.
                cut = self.cut_from is not None or self.cuts_left > 0
                if self.cut_from is None:
                    self.cuts_left -= 1
            threading.Thread(target=self._pump, args=(client, upstream, cut), daemon=True).start()
            threading.Thread(target=self._pump_back, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _reset(*sockets):
        for sock in sockets:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Wake the other pump blocked in recv() on this socket first: while a thread is
                # inside recv(), close() alone does not release the socket, and the server would
                # never see the reset (its request would stay open, holding the upload).
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass

    def _pump(self, client, upstream, cut: bool):
        sent = 0
        counting = self.cut_from is None
        seen = b""
        try:
            while not self.stopping.is_set():
                data = client.recv(1024)
                if not data:
                    break
                if cut and not counting:
                    seen = seen[-len(self.cut_from):] + data
                    if self.cut_from in seen:
                        counting = True
                        # Count from the marker: the bytes of this read before it are not counted.
                        sent = -max(0, seen.index(self.cut_from) - (len(seen) - len(data)))
                if cut and counting and sent + len(data) > self.cut_after and self._cut_taken():
                    upstream.sendall(data[: self.cut_after - sent])
                    self.cuts_made += 1
                    self._reset(client, upstream)
                    return
                upstream.sendall(data)
                sent += len(data)
                time.sleep(self.delay_per_kib * len(data) / 1024)
        except OSError:
            pass
        self._reset(client, upstream)

    def _cut_taken(self) -> bool:
        if self.cut_from is None:
            return True  # taken when the connection was accepted
        with self.lock:
            self.cuts_left -= 1
            return self.cuts_left >= 0

    @staticmethod
    def _pump_back(upstream, client):
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass

    def close(self):
        self.stopping.set()
        self.listener.close()
