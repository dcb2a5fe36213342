"""Files for the document tests, built here (no fixture files): a real small PDF, a PNG, a
JPEG, an executable, the EICAR test string, and a clamd stand-in that speaks clamd's
INSTREAM protocol on a unix socket."""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The anti-virus test file of the European Institute for Computer Antivirus Research:
# harmless, and every scanner reports it (ClamAV as "Eicar-Test-Signature").
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# The start of a Linux executable (ELF, 64-bit, little-endian).
EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def pdf(text: str = "Mietvertrag", padding: int = 0) -> bytes:
    """A one-page PDF 1.4 that PDF readers open: objects, a cross-reference table with the
    true byte offsets, the trailer. ``padding`` adds a comment to make it bigger."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def pdf_of_size(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes (the offsets grow with the padding: adjust until it fits)."""
    padding = size - len(pdf()) - 2
    while len(made := pdf(padding=padding)) != size:
        padding -= len(made) - size
    return made


def png() -> bytes:
    """A 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class ClamdStandIn:
    """clamd on a unix socket: reads ``zINSTREAM\\0``, then chunks (4-byte big-endian length,
    data) up to a zero length, and answers ``stream: OK\\0`` or, when the data holds the
    EICAR string, ``stream: Eicar-Test-Signature FOUND\\0``. Counts the files it scanned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.scanned: list[bytes] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with connection:
                self._answer(connection)

    @staticmethod
    def _exactly(connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = connection.recv(size - len(data))
            if not part:
                raise ConnectionError("client went away")
            data += part
        return data

    def _answer(self, connection: socket.socket) -> None:
        if self._exactly(connection, 10) != b"zINSTREAM\0":
            connection.sendall(b"UNKNOWN COMMAND\0")
            return
        data = b""
        while True:
            (length,) = struct.unpack(">I", self._exactly(connection, 4))
            if length == 0:
                break
            data += self._exactly(connection, length)
        self.scanned.append(data)
        found = EICAR in data
        connection.sendall(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")

    def stop(self) -> None:
        self._server.close()
        self.path.unlink(missing_ok=True)


@contextmanager
def clamd_stand_in() -> Iterator[ClamdStandIn]:
    """A clamd stand-in on a socket in a short folder of its own (unix socket paths are
    limited to about 100 bytes, which pytest's tmp_path can exceed)."""
    folder = Path(tempfile.mkdtemp(prefix="clamd-"))
    server = ClamdStandIn(folder / "clamd.sock")
    try:
        yield server
    finally:
        server.stop()
        folder.rmdir()
