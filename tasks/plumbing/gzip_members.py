"""A ``.tgz`` written as a series of gzip members (RFC 1952: "a gzip file consists of a series
of members"): runs of compressible bytes deflated at level 6 on several threads, runs of
already-compressed files (wheels, zips) in stored deflate blocks, which cost a CRC and a copy.
Every gzip reader (GNU tar, bsdtar, Python's gzip and tarfile, Node's zlib) reads the members
as one stream. Deterministic: mtime 0 in every member header, fixed block boundaries."""

from __future__ import annotations

import os
import struct
from typing import Any, BinaryIO

from zlib_ng import gzip_ng_threaded, zlib_ng

HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])  # deflate, no flags, mtime 0, unknown OS
STORED_MAX = 0xFFFF  # bytes in one stored deflate block


class GzipMembers:
    """A binary writer that puts each run of writes in a member of its kind (see :meth:`store`)."""

    def __init__(self, raw: BinaryIO, threads: int) -> None:
        self.raw, self.threads = raw, threads
        self.storing: bool | None = None  # the kind of the open member; None: no member open
        self.deflating: Any = None
        self.crc = self.size = self.position = 0

    def store(self, stored: bool) -> None:
        """Put the next writes in a stored member (True) or a deflated one (False)."""
        if stored != self.storing:
            self.end_member()
            self.storing = stored
            if stored:
                self.raw.write(HEADER)
            else:
                self.deflating = gzip_ng_threaded.open(self.raw, "wb", compresslevel=6, threads=self.threads)

    def write(self, data: Any) -> int:
        if self.storing is None:
            self.store(False)
        view = memoryview(data).cast("B")
        if self.storing:
            self.crc = zlib_ng.crc32(view, self.crc)
            self.size += len(view)
            parts: list[Any] = []
            for start in range(0, len(view), STORED_MAX):
                block = view[start : start + STORED_MAX]
                parts += [struct.pack("<BHH", 0, len(block), len(block) ^ 0xFFFF), block]
            write_all(self.raw, parts)
        else:
            self.deflating.write(view)
        self.position += len(view)
        return len(view)

    def tell(self) -> int:
        """Bytes written before compression (what tarfile counts)."""
        return self.position

    def end_member(self) -> None:
        if self.storing:
            self.raw.write(struct.pack("<BHH", 1, 0, 0xFFFF))  # the final, empty stored block
            self.raw.write(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
            self.crc = self.size = 0
        elif self.deflating is not None:
            self.deflating.close()
            self.deflating = None
        self.storing = None

    def close(self) -> None:
        self.end_member()


def write_all(raw: BinaryIO, parts: list[Any]) -> None:
    """Every part, in order, in as few system calls as the OS takes (*raw* is unbuffered)."""
    while parts:
        written = os.writev(raw.fileno(), parts[:1024])
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if written:
            parts[0] = memoryview(parts[0])[written:]
