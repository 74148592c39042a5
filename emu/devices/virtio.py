"""A virtio block device on the virtio-mmio transport, as QEMU's virt board has
them: virtio spec v1.2 section 4.2 (Virtio Over MMIO) in both of its versions,
legacy (version 1, section 4.2.4: QEMU's default, what xv6 and most tutorials
drive) and modern (version 2); the split virtqueue of section 2.7; the block
device of section 5.2.

Requests complete synchronously, inside the store to QueueNotify, so a run is
as deterministic as the guest. Nothing the guest writes reaches the host: every
ring, descriptor and buffer access goes through the Memory accessor, which
raises DmaError outside the machine's RAM. A request the device can answer gets
a status byte (VIRTIO_BLK_S_IOERR for a bad one); a queue it cannot make sense
of (a bad ring address, a descriptor loop, no status byte to answer in) sets
DEVICE_NEEDS_RESET and raises a configuration change interrupt (section 2.1.2),
and the device ignores the queue until the driver resets it."""
from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from typing import Sequence

from emu.devices import DmaError, IrqLine, Memory, Registers
from emu.devices.disk import SECTOR_SIZE, Disk, DiskError
from emu.devices.plic import Plic

# The board's virtio-mmio slots (as QEMU virt): slot n at SLOT_BASE + n *
# SLOT_SIZE, its interrupt PLIC source SLOT_IRQ + n.
SLOT_BASE = 0x1000_1000
SLOT_SIZE = 0x1000
SLOT_COUNT = 8
SLOT_IRQ = 1

LEGACY, MODERN = 1, 2               # the Version register
MAGIC = 0x7472_6976                 # "virt"
VENDOR_QEMU = 0x554D_4551           # "QEMU", as QEMU's devices say
DEVICE_BLOCK = 2


class Register(enum.IntEnum):
    """Register offsets (4.2.2; 4.2.4 for the legacy ones). All are 32 bits wide;
    the configuration space from CONFIG on may be read with any width."""
    MAGIC_VALUE = 0x000
    VERSION = 0x004
    DEVICE_ID = 0x008
    VENDOR_ID = 0x00C
    DEVICE_FEATURES = 0x010
    DEVICE_FEATURES_SEL = 0x014
    DRIVER_FEATURES = 0x020
    DRIVER_FEATURES_SEL = 0x024
    GUEST_PAGE_SIZE = 0x028         # legacy
    QUEUE_SEL = 0x030
    QUEUE_NUM_MAX = 0x034
    QUEUE_NUM = 0x038
    QUEUE_ALIGN = 0x03C             # legacy
    QUEUE_PFN = 0x040               # legacy
    QUEUE_READY = 0x044             # modern
    QUEUE_NOTIFY = 0x050
    INTERRUPT_STATUS = 0x060
    INTERRUPT_ACK = 0x064
    STATUS = 0x070
    QUEUE_DESC_LOW = 0x080          # modern, these six
    QUEUE_DESC_HIGH = 0x084
    QUEUE_DRIVER_LOW = 0x090
    QUEUE_DRIVER_HIGH = 0x094
    QUEUE_DEVICE_LOW = 0x0A0
    QUEUE_DEVICE_HIGH = 0x0A4
    CONFIG_GENERATION = 0x0FC       # 0: the configuration never changes
    CONFIG = 0x100


R = Register

# Device status bits (2.1)
ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK = 1, 2, 4, 8
DEVICE_NEEDS_RESET, FAILED = 64, 128
# InterruptStatus bits (4.2.2)
INT_USED_BUFFER, INT_CONFIG_CHANGE = 1, 2

# Feature bits offered (5.2.3, 6): few. Not offered: indirect descriptors, event
# idx, multiple queues, discard, write zeroes, size_max, geometry, blk_size,
# topology, writeback control (so the configuration space holds only capacity
# and seg_max).
VIRTIO_BLK_F_SEG_MAX = 2            # without it Linux sends one data buffer a request
VIRTIO_BLK_F_RO = 5
VIRTIO_BLK_F_FLUSH = 9
VIRTIO_F_VERSION_1 = 32             # modern only: legacy devices predate it

# Queue sizes: QEMU's legacy virtio-mmio says 1024 (its VIRTQUEUE_MAX_SIZE) and
# its modern one the block device's queue-size, 256. A size must be a power of 2
# (2.7: the split ring's indexes wrap at 65536).
QUEUE_NUM_MAX = {LEGACY: 1024, MODERN: 256}
LEGACY_QUEUE_ALIGN = 4096           # QueueAlign until the driver writes it (QEMU's)

# The split virtqueue (2.7)
DESCRIPTOR = struct.Struct("<QIHH")  # addr, len, flags, next
VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT = 1, 2, 4
VIRTQ_AVAIL_F_NO_INTERRUPT = 1

# Block requests (5.2.6)
REQUEST_HEADER = struct.Struct("<IIQ")  # type, reserved, sector
VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID = 0, 1, 4, 8
VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP = 0, 1, 2
VIRTIO_BLK_ID_BYTES = 20
SEG_MAX = 126                       # data buffers a request: with header and status, 128
TRANSFER_CHUNK = 64 * 1024          # bytes moved per host call: bounds host memory


def slot_base(n: int) -> int:
    return SLOT_BASE + n * SLOT_SIZE


def slot_irq(n: int) -> int:
    return SLOT_IRQ + n


def disk_slots(disks: Sequence[Disk], memory: Memory, plic: Plic,
               version: int = LEGACY) -> list[VirtioBlock | EmptySlot]:
    """A machine's virtio slots: its disks in order, each interrupting through
    plic, then empty slots, as QEMU virt has all eight whatever is plugged in."""
    if len(disks) > SLOT_COUNT:
        raise DiskError(f"{len(disks)} disks: the board has {SLOT_COUNT} virtio slots")
    return [VirtioBlock(slot_base(n), disks[n], memory,
                        lambda raised, n=n: plic.set_level(slot_irq(n), raised), version)
            if n < len(disks) else EmptySlot(slot_base(n), version)
            for n in range(SLOT_COUNT)]


class EmptySlot(Registers):
    """A virtio-mmio slot with nothing plugged in: device ID 0, which drivers
    take as "no device here" (section 4.2.3.1.1), as on QEMU."""
    size = SLOT_SIZE

    def __init__(self, base: int, version: int = LEGACY):
        self.base, self.version = base, version

    def load(self, offset: int, size: int) -> int:
        answers = {R.MAGIC_VALUE: MAGIC, R.VERSION: self.version, R.VENDOR_ID: VENDOR_QEMU}
        return answers.get(offset, 0) if size == 4 else 0

    def store(self, offset: int, size: int, value: int) -> None:
        pass


class QueueError(Exception):
    """The driver broke the virtqueue: the device needs a reset."""


class RequestError(Exception):
    """A request answered with a status other than OK."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status = status


@dataclass
class Segment:
    """One descriptor's buffer."""
    addr: int
    length: int
    writable: bool


@dataclass
class Queue:
    """The one request queue (a block device without VIRTIO_BLK_F_MQ has one)."""
    num: int
    ready: bool = False             # modern QueueReady; legacy: QueuePFN != 0
    desc: int = 0
    driver: int = 0
    device: int = 0
    pfn: int = 0                    # legacy
    align: int = LEGACY_QUEUE_ALIGN  # legacy
    last_avail: int = 0             # the next available ring entry to serve
    used_idx: int = 0               # the device's own copy: never read back from RAM


class VirtioBlock(Registers):
    """A virtio-mmio block device at `base`, over `disk`, doing DMA through
    `memory`, its interrupt on `irq`. version is LEGACY (1) or MODERN (2); serial
    is what VIRTIO_BLK_T_GET_ID answers (default: the image's file name). Its
    state for checkpoints is its registers' (not the disk's contents)."""

    size = SLOT_SIZE
    STATE = ("status", "error", "interrupt_status", "driver_features", "device_features_sel",
             "driver_features_sel", "queue_sel", "queue", "line", "page_shift")

    def __init__(self, base: int, disk: Disk, memory: Memory, irq: IrqLine,
                 version: int = LEGACY, serial: str | None = None):
        if version not in (LEGACY, MODERN):
            raise ValueError(f"virtio-mmio version {version}: 1 (legacy) or 2 (modern)")
        self.base, self.disk, self.memory, self.irq, self.version = \
            base, disk, memory, irq, version
        name = disk.spec.path.name if serial is None else serial
        self.serial = name.encode()[:VIRTIO_BLK_ID_BYTES].ljust(VIRTIO_BLK_ID_BYTES, b"\0")
        self.device_features = 1 << VIRTIO_BLK_F_SEG_MAX | 1 << VIRTIO_BLK_F_FLUSH
        if disk.read_only:
            self.device_features |= 1 << VIRTIO_BLK_F_RO
        if version == MODERN:
            self.device_features |= 1 << VIRTIO_F_VERSION_1
        # virtio_blk_config: capacity, size_max (not offered: 0), seg_max
        self.config = struct.pack("<QII", disk.sectors, 0, SEG_MAX)
        self.line = False
        self.page_shift = 0     # legacy GuestPageSize, as log2 (QEMU's default 0); it
        self.reset()            # outlives a reset: Linux writes it once, before resetting

    def reset(self) -> None:
        """The device's state after a write of 0 to Status (2.4)."""
        self.status = 0
        self.error: str | None = None   # why DEVICE_NEEDS_RESET is set, for diagnostics
        self.interrupt_status = 0
        self.driver_features = 0
        self.device_features_sel = self.driver_features_sel = 0
        self.queue_sel = 0
        self.queue = Queue(QUEUE_NUM_MAX[self.version])
        self._update_line()

    # -- registers --------------------------------------------------------

    def load(self, offset: int, size: int) -> int:
        if offset >= R.CONFIG:
            field = self.config[offset - R.CONFIG:offset - R.CONFIG + size]
            return int.from_bytes(field, "little")     # past seg_max: 0
        if size != 4:
            return 0                    # registers are 32-bit only (4.2.2); as QEMU
        queue = self._selected()
        legacy, modern = self.version == LEGACY, self.version == MODERN
        match offset:
            case R.MAGIC_VALUE: return MAGIC
            case R.VERSION: return self.version
            case R.DEVICE_ID: return DEVICE_BLOCK
            case R.VENDOR_ID: return VENDOR_QEMU
            case R.DEVICE_FEATURES:
                return self.device_features >> (32 * self.device_features_sel) & 0xFFFF_FFFF \
                    if self.device_features_sel < 2 else 0
            case R.QUEUE_NUM_MAX: return QUEUE_NUM_MAX[self.version] if queue else 0
            case R.QUEUE_PFN if legacy: return queue.pfn if queue else 0
            case R.QUEUE_READY if modern: return int(queue.ready) if queue else 0
            case R.INTERRUPT_STATUS: return self.interrupt_status
            case R.STATUS: return self.status | (DEVICE_NEEDS_RESET if self.error else 0)
            case R.QUEUE_DESC_LOW | R.QUEUE_DESC_HIGH if modern and queue:
                return _half(queue.desc, offset)
            case R.QUEUE_DRIVER_LOW | R.QUEUE_DRIVER_HIGH if modern and queue:
                return _half(queue.driver, offset)
            case R.QUEUE_DEVICE_LOW | R.QUEUE_DEVICE_HIGH if modern and queue:
                return _half(queue.device, offset)
            case _: return 0            # write-only, absent, or the other version's

    def store(self, offset: int, size: int, value: int) -> None:
        if offset >= R.CONFIG or size != 4:
            return                      # nothing in virtio_blk_config we offer is writable
        queue = self._selected()
        legacy, modern = self.version == LEGACY, self.version == MODERN
        match offset:
            case R.DEVICE_FEATURES_SEL: self.device_features_sel = value
            case R.DRIVER_FEATURES: self._write_driver_features(value)
            case R.DRIVER_FEATURES_SEL: self.driver_features_sel = value
            case R.GUEST_PAGE_SIZE if legacy:
                # QEMU's rule: the page size as a power of two, 0 taken as 1.
                self.page_shift = (value & -value).bit_length() - 1 if value else 0
            case R.QUEUE_SEL: self.queue_sel = value
            case R.QUEUE_NUM if queue and not queue.ready: self._write_queue_num(queue, value)
            case R.QUEUE_ALIGN if legacy and queue: queue.align = value
            case R.QUEUE_PFN if legacy and queue:
                queue.pfn, queue.ready = value, value != 0
            case R.QUEUE_READY if modern and queue: queue.ready = bool(value & 1)
            case R.QUEUE_NOTIFY: self._notify(value)
            case R.INTERRUPT_ACK:
                self.interrupt_status &= ~value
                self._update_line()
            case R.STATUS: self._write_status(value & 0xFF)
            case R.QUEUE_DESC_LOW | R.QUEUE_DESC_HIGH if modern and queue and not queue.ready:
                queue.desc = _set_half(queue.desc, offset, value)
            case R.QUEUE_DRIVER_LOW | R.QUEUE_DRIVER_HIGH if modern and queue and not queue.ready:
                queue.driver = _set_half(queue.driver, offset, value)
            case R.QUEUE_DEVICE_LOW | R.QUEUE_DEVICE_HIGH if modern and queue and not queue.ready:
                queue.device = _set_half(queue.device, offset, value)
            case _: pass                # read-only, absent, or the other version's

    def _selected(self) -> Queue | None:
        return self.queue if self.queue_sel == 0 else None

    def _write_driver_features(self, value: int) -> None:
        if self.status & (FEATURES_OK | DRIVER_OK) or self.driver_features_sel > 1:
            return                      # negotiation is over (3.1.1), or no such word
        shift = 32 * self.driver_features_sel
        self.driver_features = self.driver_features & ~(0xFFFF_FFFF << shift) | value << shift

    def _write_status(self, value: int) -> None:
        if value == 0:
            self.reset()
            return
        # FEATURES_OK is refused for features the device did not offer (3.1.1).
        # VIRTIO_F_VERSION_1 is not required: xv6 writes only the low word and
        # QEMU accepts that.
        if value & FEATURES_OK and not self.status & FEATURES_OK and \
                self.driver_features & ~self.device_features:
            value &= ~FEATURES_OK
        self.status = value & ~DEVICE_NEEDS_RESET       # the device's bit, not the driver's

    def _write_queue_num(self, queue: Queue, value: int) -> None:
        if 0 < value <= QUEUE_NUM_MAX[self.version] and value & (value - 1) == 0:
            queue.num = value
        else:
            self._needs_reset(f"QueueNum {value} is not a power of 2 from 1 to "
                              f"{QUEUE_NUM_MAX[self.version]}")

    # -- interrupts -------------------------------------------------------

    def _interrupt(self, bits: int) -> None:
        """Each interrupt is signalled, even with the line already raised: a new
        request at the PLIC (as QEMU's virtio-mmio does, and drivers written for
        it, like xv6's first versions that never write InterruptACK, rely on)."""
        self.interrupt_status |= bits
        self.line = True
        self.irq(True)

    def _update_line(self) -> None:
        level = self.interrupt_status != 0
        if level != self.line:
            self.line = level
            self.irq(level)

    def _needs_reset(self, why: str) -> None:
        """An error the device cannot report in a request (2.1.2): set
        DEVICE_NEEDS_RESET and notify a configuration change."""
        if self.error is None:
            self.error = why
            self._interrupt(INT_CONFIG_CHANGE)

    # -- the virtqueue ----------------------------------------------------

    def _notify(self, index: int) -> None:
        """Serve every request the driver made available since the last time,
        then notify the driver unless it asked not to be (2.7.7)."""
        queue = self.queue
        if index != 0 or self.error or not self.status & DRIVER_OK or not queue.ready:
            return
        served = 0
        try:
            self._place_rings(queue)
            avail_idx = self._read_u16(queue.driver + 2)
            if (avail_idx - queue.last_avail) & 0xFFFF > queue.num:
                raise QueueError(f"avail idx {avail_idx} is more than {queue.num} entries "
                                 f"ahead of the device's {queue.last_avail}")
            while queue.last_avail != avail_idx:
                self._serve_next(queue)
                served += 1
            wanted = served and not self._read_u16(queue.driver) & VIRTQ_AVAIL_F_NO_INTERRUPT
        except QueueError as error:
            self._needs_reset(str(error))
            wanted = served
        if wanted:
            self._interrupt(INT_USED_BUFFER)

    def _serve_next(self, queue: Queue) -> None:
        """Serve the request at the next available ring entry and return it in
        the used ring (2.7.8), with the bytes written to it."""
        head = self._read_u16(queue.driver + 4 + 2 * (queue.last_avail % queue.num))
        written = self._serve_chain(self._chain(queue, head))
        used = queue.device + 4 + 8 * (queue.used_idx % queue.num)
        self._write_ring(used, struct.pack("<II", head, written))
        queue.last_avail = (queue.last_avail + 1) & 0xFFFF
        queue.used_idx = (queue.used_idx + 1) & 0xFFFF
        self._write_ring(queue.device + 2, struct.pack("<H", queue.used_idx))

    def _place_rings(self, queue: Queue) -> None:
        """Where the rings are, and a check of their alignment (2.7, table of
        alignments; legacy 2.7.2: one area from QueuePFN, the used ring at the
        next multiple of QueueAlign)."""
        if self.version == LEGACY:
            align = queue.align
            if align == 0 or align & (align - 1):
                raise QueueError(f"QueueAlign {align} is not a power of 2")
            queue.desc = queue.pfn << self.page_shift
            queue.driver = queue.desc + 16 * queue.num
            queue.device = -(-(queue.driver + 6 + 2 * queue.num) // align) * align
        for name, addr, alignment in (("descriptor table", queue.desc, 16),
                                      ("available ring", queue.driver, 2),
                                      ("used ring", queue.device, 4)):
            if addr % alignment:
                raise QueueError(f"the {name} at {addr:#x} is not {alignment}-byte aligned")

    def _chain(self, queue: Queue, head: int) -> list[Segment]:
        """The descriptors of the chain from head (2.7.5); at most num of them,
        so a loop ends as an error."""
        segments, index = [], head
        for _ in range(queue.num):
            if index >= queue.num:
                raise QueueError(f"descriptor {index} is outside the queue of {queue.num}")
            addr, length, flags, following = DESCRIPTOR.unpack(
                self._read_ring(queue.desc + DESCRIPTOR.size * index, DESCRIPTOR.size))
            if flags & VIRTQ_DESC_F_INDIRECT:
                raise QueueError(f"descriptor {index} is indirect, a feature not offered")
            segments.append(Segment(addr, length, bool(flags & VIRTQ_DESC_F_WRITE)))
            if not flags & VIRTQ_DESC_F_NEXT:
                return segments
            index = following
        raise QueueError(f"the descriptor chain from {head} is longer than the queue "
                         f"({queue.num}): a loop")

    def _read_u16(self, addr: int) -> int:
        return int.from_bytes(self._read_ring(addr, 2), "little")

    def _read_ring(self, addr: int, size: int) -> bytes:
        try:
            return self.memory.read(addr, size)
        except DmaError:
            raise QueueError(f"the ring at {addr:#x} is not in RAM") from None

    def _write_ring(self, addr: int, data: bytes) -> None:
        try:
            self.memory.write(addr, data)
        except DmaError:
            raise QueueError(f"the ring at {addr:#x} is not in RAM") from None

    # -- block requests ---------------------------------------------------

    def _serve_chain(self, segments: list[Segment]) -> int:
        """Serve one request; the bytes written to its device-writable buffers,
        the status byte included (the used ring's len)."""
        last = segments[-1]
        if not last.writable or last.length == 0:
            raise QueueError("a request has no status byte (its last descriptor is not "
                             "device-writable, or empty)")
        status_at = last.addr + last.length - 1
        self._read_ring(status_at, 1)   # not in RAM: do nothing that cannot be answered
        body = segments[:-1] + [Segment(last.addr, last.length - 1, True)]
        try:
            written, status = self._request([s for s in body if s.length]), VIRTIO_BLK_S_OK
        except RequestError as error:
            written, status = 0, error.status
        self._write_ring(status_at, bytes([status]))
        return written + 1

    def _request(self, segments: list[Segment]) -> int:
        first_writable = next((i for i, s in enumerate(segments) if s.writable), len(segments))
        readable, writable = segments[:first_writable], segments[first_writable:]
        if any(not s.writable for s in writable):
            raise RequestError(VIRTIO_BLK_S_IOERR, "a device-readable buffer after a "
                                                   "device-writable one (2.7.4.2)")
        source = _Cursor(self.memory, readable)
        header = source.read(REQUEST_HEADER.size)
        if len(header) < REQUEST_HEADER.size:
            raise RequestError(VIRTIO_BLK_S_IOERR, "a request header shorter than 16 bytes")
        kind, _, sector = REQUEST_HEADER.unpack(header)
        handler = self.HANDLERS.get(kind)
        if handler is None:
            raise RequestError(VIRTIO_BLK_S_UNSUPP, f"request type {kind}")
        try:
            return handler(self, sector, source, _Cursor(self.memory, writable))
        except OSError as error:        # the host's disk failed (full, I/O error)
            raise RequestError(VIRTIO_BLK_S_IOERR, f"the disk image: {error.strerror}") \
                from None

    def _read_sectors(self, sector: int, source: _Cursor, sink: _Cursor) -> int:
        if source.remaining:
            raise RequestError(VIRTIO_BLK_S_IOERR, "a read with a device-readable buffer")
        offset, length = self._disk_range(sector, sink)
        for start in range(0, length, TRANSFER_CHUNK):
            sink.write(self.disk.read(offset + start, min(TRANSFER_CHUNK, length - start)))
        return length

    def _write_sectors(self, sector: int, source: _Cursor, sink: _Cursor) -> int:
        if sink.remaining:
            raise RequestError(VIRTIO_BLK_S_IOERR, "a write with a device-writable buffer")
        if self.disk.read_only:
            raise RequestError(VIRTIO_BLK_S_IOERR, "a write to a read-only disk")
        offset, length = self._disk_range(sector, source)
        for start in range(0, length, TRANSFER_CHUNK):
            self.disk.write(offset + start, source.read(min(TRANSFER_CHUNK, length - start)))
        return 0

    def _flush(self, sector: int, source: _Cursor, sink: _Cursor) -> int:
        self.disk.flush()
        return 0

    def _get_id(self, sector: int, source: _Cursor, sink: _Cursor) -> int:
        if not sink.remaining:
            raise RequestError(VIRTIO_BLK_S_IOERR, "GET_ID without a buffer for the id")
        count = min(sink.remaining, VIRTIO_BLK_ID_BYTES)
        sink.check_in_ram()
        sink.write(self.serial[:count])
        return count

    HANDLERS = {VIRTIO_BLK_T_IN: _read_sectors, VIRTIO_BLK_T_OUT: _write_sectors,
                VIRTIO_BLK_T_FLUSH: _flush, VIRTIO_BLK_T_GET_ID: _get_id}

    def _disk_range(self, sector: int, data: _Cursor) -> tuple[int, int]:
        """The byte range of a read or write, checked against the disk, with its
        buffers checked against RAM before any byte moves."""
        length = data.remaining
        if length == 0 or length % SECTOR_SIZE:
            raise RequestError(VIRTIO_BLK_S_IOERR,
                               f"a data length of {length}, not a non-zero multiple of 512")
        if sector + length // SECTOR_SIZE > self.disk.sectors:
            raise RequestError(VIRTIO_BLK_S_IOERR, f"sectors past the disk's end "
                                                   f"({self.disk.sectors} sectors)")
        data.check_in_ram()
        return sector * SECTOR_SIZE, length


class _Cursor:
    """Reads or writes a list of guest buffers as one stream of bytes. A buffer
    that is not in RAM ends the request with VIRTIO_BLK_S_IOERR."""

    def __init__(self, memory: Memory, segments: list[Segment]):
        self.memory = memory
        self.segments = [(s.addr, s.length) for s in segments]
        self.remaining = sum(s.length for s in segments)

    def check_in_ram(self) -> None:
        """Every buffer inside RAM: its first and last byte are (RAM is one range)."""
        for addr, length in self.segments:
            self._access(self.memory.read, addr, 1)
            self._access(self.memory.read, addr + length - 1, 1)

    def read(self, size: int) -> bytes:
        pieces = []
        for addr, count in self._take(size):
            pieces.append(self._access(self.memory.read, addr, count))
        return b"".join(pieces)

    def write(self, data: bytes) -> None:
        done = 0
        for addr, count in self._take(len(data)):
            self._access(self.memory.write, addr, data[done:done + count])
            done += count

    def _take(self, size: int) -> list[tuple[int, int]]:
        """The next size bytes' pieces, one per buffer they fall in."""
        pieces = []
        while size and self.segments:
            addr, length = self.segments[0]
            count = min(size, length)
            pieces.append((addr, count))
            if count == length:
                self.segments.pop(0)
            else:
                self.segments[0] = (addr + count, length - count)
            size -= count
            self.remaining -= count
        return pieces

    @staticmethod
    def _access(function, addr, argument):
        try:
            return function(addr, argument)
        except DmaError:
            raise RequestError(VIRTIO_BLK_S_IOERR, f"a buffer at {addr:#x} is not in RAM") \
                from None


def _half(value: int, offset: int) -> int:
    """The low (offset % 8 == 0) or high 32 bits of a 64-bit register pair."""
    return value >> 32 if offset & 4 else value & 0xFFFF_FFFF


def _set_half(value: int, offset: int, half: int) -> int:
    if offset & 4:
        return value & 0xFFFF_FFFF | half << 32
    return value & ~0xFFFF_FFFF | half
