"""A TCP proxy on loopback between the app and PostgreSQL, to cut the line like a restart.

Restarting the shared PostgreSQL server would disturb every other session using it; from
the app's side a restart is exactly this: open connections die, new ones are refused for a
while, then the server is back."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


def _close(sock: socket.socket) -> None:
    with suppress(OSError):  # wakes a thread blocked in recv()/accept(); close() alone would not
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = "127.0.0.1"
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)

    def cut_connections(self) -> None:
        """Every open connection dies at once (the server went away mid-conversation)."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def stop(self) -> None:
        """Down: open connections die, new ones are refused."""
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        self.cut_connections()
