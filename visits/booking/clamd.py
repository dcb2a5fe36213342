"""A virus scan by clamd (ClamAV's daemon) over its unix socket, with the INSTREAM command.

The framing is clamd's (clamd(8), "INSTREAM"): the command ``zINSTREAM\\0``, then the data
in chunks, each preceded by its length as four bytes in network order (big-endian), ended
by a chunk of length zero. clamd answers one line ending in NUL: ``stream: OK``, or
``stream: <signature> FOUND``, or an error such as ``INSTREAM size limit exceeded. ERROR``
(its StreamMaxLength must allow DOCUMENT_MAX_BYTES). No framework, no database."""

from __future__ import annotations

import socket
import struct

CHUNK_BYTES = 64 * 1024
TIMEOUT_SECONDS = 30.0


class ScanUnavailable(RuntimeError):
    """clamd could not be asked or gave no clear answer: the caller must not trust the file."""


def scan(data: bytes, socket_path: str, *, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None if clamd finds nothing in ``data``, else the name of what it found."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(socket_path)
            connection.sendall(b"zINSTREAM\0")
            for offset in range(0, len(data), CHUNK_BYTES):
                chunk = data[offset : offset + CHUNK_BYTES]
                connection.sendall(struct.pack(">I", len(chunk)) + chunk)
            connection.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
    except OSError as error:
        raise ScanUnavailable(f"clamd at {socket_path}: {error}") from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(" FOUND"):
        return answer.removesuffix(" FOUND").removeprefix("stream:").strip() or "unknown"
    if answer.endswith(" OK"):
        return None
    raise ScanUnavailable(f"clamd at {socket_path} answered {answer!r}")
