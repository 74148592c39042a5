"""Disk images for the virtio block devices: a host file seen as 512-byte sectors,
opened read-write, read-only, or as a snapshot whose writes go to a temporary
copy-on-write overlay (QEMU's -snapshot) so the file itself never changes.

A file whose size is not a multiple of 512 has its last, partial sector counted
(capacity rounds up, as QEMU's raw files do): the bytes past the end of the file
read as zeros, and a read-write disk that writes that sector grows the file to
the whole sector. An empty file is a disk of capacity 0, as QEMU allows: every
read or write of it fails (VIRTIO_BLK_S_IOERR).

The options as the command line spells them: `FILE`, `FILE,ro` (and
`FILE,snapshot` for one disk), and `NAME=FILE[,ro]` under `emu hv`; see
parse_disk."""
from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from emu.errors import ConfigError

SECTOR_SIZE = 512
OPTIONS = {"ro": "read-only: the guest cannot write",
           "snapshot": "writes go to a temporary overlay, the file is left untouched"}


class DiskError(ConfigError):
    """A disk option or image that cannot be used."""


@dataclass(frozen=True)
class DiskSpec:
    """One --disk value: the file, how it is opened, and (emu hv) whose it is."""
    path: Path
    read_only: bool = False
    snapshot: bool = False
    guest: str | None = None

    def __str__(self) -> str:
        return f"{self.guest}={self.path}" if self.guest else str(self.path)


def parse_disk(text: str, named: bool = False) -> DiskSpec:
    """A --disk value: FILE[,OPTION...], and with named (emu hv) NAME=FILE[,OPTION...].
    OPTIONs are ro and snapshot; a comma in the file name is written twice (,,),
    as QEMU's -drive does."""
    guest = None
    if named:
        guest, equals, text = text.partition("=")
        if not equals or not guest:
            raise DiskError(f"--disk wants NAME=FILE[,ro], not {guest + equals + text!r}")
    parts = text.replace(",,", "\0").split(",")
    path, options = parts[0].replace("\0", ","), [p.replace("\0", ",") for p in parts[1:]]
    if not path:
        raise DiskError(f"--disk {text!r}: no file name")
    unknown = [option for option in options if option not in OPTIONS]
    if unknown:
        known = "; ".join(f"{name}: {about}" for name, about in OPTIONS.items())
        raise DiskError(f"--disk {text!r}: unknown option {unknown[0]!r} (options: {known})")
    return DiskSpec(Path(path), "ro" in options, "snapshot" in options, guest)


class Disk:
    """A disk image: `sectors` sectors of SECTOR_SIZE bytes, read and written by
    byte offset and length (whole sectors; the caller checks the range)."""

    def __init__(self, spec: DiskSpec, snapshot: bool = False):
        self.spec = spec
        self.read_only = spec.read_only
        self.snapshot = (spec.snapshot or snapshot) and not spec.read_only
        writable = not (self.read_only or self.snapshot)
        self._fd = _open_image(spec.path, writable)
        self.writable = writable
        status = os.fstat(self._fd)
        self.identity = (status.st_dev, status.st_ino)     # the same file, however named
        self.sectors = -(-status.st_size // SECTOR_SIZE)
        self._overlay = _Overlay(self.sectors) if self.snapshot else None

    def read(self, offset: int, length: int) -> bytes:
        if self._overlay is not None:
            return self._overlay.read(offset, length, self._read_file)
        return self._read_file(offset, length)

    def write(self, offset: int, data: bytes) -> None:
        if self.read_only:
            raise DiskError(f"{self.spec.path} is read-only")
        if self._overlay is not None:
            self._overlay.write(offset, data)
        else:
            _write_all(self._fd, data, offset)

    def flush(self) -> None:
        """Make the guest's writes durable: the file's (the overlay is thrown away)."""
        if self.writable:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._overlay is not None:
            self._overlay.close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Disk:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_file(self, offset: int, length: int) -> bytes:
        data = os.pread(self._fd, length, offset)
        return data + bytes(length - len(data))        # past the end of the file: zeros


class _Overlay:
    """Copy-on-write sectors in an unnamed temporary file (gone when closed, or when
    emu dies), at the same offsets as in the image, with one bit per sector that
    says which sectors the guest has written. Host memory stays one bit a sector
    however much the guest writes."""

    def __init__(self, sectors: int):
        self._file = tempfile.TemporaryFile(prefix="emu-disk-overlay-")
        self._written = bytearray(-(-sectors // 8))

    def _is_written(self, sector: int) -> bool:
        return bool(self._written[sector >> 3] & (1 << (sector & 7)))

    def read(self, offset: int, length: int, read_image) -> bytes:
        """The sectors in [offset, offset+length): each run of written sectors from
        the overlay, each run of others from the image."""
        pieces, sector, end = [], offset // SECTOR_SIZE, (offset + length) // SECTOR_SIZE
        while sector < end:
            written, run = self._is_written(sector), sector
            while run < end and self._is_written(run) == written:
                run += 1
            start, size = sector * SECTOR_SIZE, (run - sector) * SECTOR_SIZE
            pieces.append(os.pread(self._file.fileno(), size, start) if written
                          else read_image(start, size))
            sector = run
        return b"".join(pieces)

    def write(self, offset: int, data: bytes) -> None:
        _write_all(self._file.fileno(), data, offset)
        for sector in range(offset // SECTOR_SIZE, (offset + len(data)) // SECTOR_SIZE):
            self._written[sector >> 3] |= 1 << (sector & 7)

    def close(self) -> None:
        self._file.close()


def _write_all(fd: int, data: bytes, offset: int) -> None:
    """pwrite until done: a regular file may take fewer bytes than asked."""
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def _open_image(path: Path, writable: bool) -> int:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DiskError(f"disk {path}: no such file") from None
    except OSError as error:
        raise DiskError(f"disk {path}: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        raise DiskError(f"disk {path} is a directory, not a disk image")
    if not stat.S_ISREG(mode):
        raise DiskError(f"disk {path} is not a regular file")
    try:
        return os.open(path, (os.O_RDWR if writable else os.O_RDONLY) | os.O_CLOEXEC)
    except OSError as error:
        if writable:
            raise DiskError(
                f"disk {path}: cannot open it for writing ({error.strerror}): add ,ro "
                "for a read-only disk, or use --snapshot to keep the guest's writes in a "
                "temporary overlay") from None
        raise DiskError(f"disk {path}: cannot read it ({error.strerror})") from None


def open_disks(specs: list[DiskSpec], snapshot: bool = False) -> list[Disk]:
    """Open every disk of a run (all guests' under emu hv), refusing a file that
    one disk would write while another also uses it: each would overwrite what the
    other believes is on its disk. Sharing read-only, or as snapshots, is fine."""
    disks: list[Disk] = []
    try:
        for spec in specs:
            disk = Disk(spec, snapshot)
            disks.append(disk)
            for other in disks[:-1]:
                if other.identity == disk.identity and (other.writable or disk.writable):
                    raise DiskError(
                        f"disks {other.spec} and {spec} are the same file, and one of them "
                        "is read-write: add ,ro to both, or use --snapshot to give each "
                        "its own overlay")
    except BaseException:
        for disk in disks:
            disk.close()
        raise
    return disks
