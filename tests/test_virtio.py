"""The virtio block device (emu/devices/virtio.py) and its disk images
(emu/devices/disk.py), driven as a guest's driver would: register loads and
stores, rings and buffers in a RAM of bytes at 0x80000000, and an interrupt
line whose levels are recorded."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emu.devices import DmaError
from emu.devices import disk as disk_module
from emu.devices.disk import Disk, DiskError, DiskSpec, open_disks, parse_disk
from emu.devices.virtio import (
    DEVICE_NEEDS_RESET, DRIVER_OK, FEATURES_OK, INT_CONFIG_CHANGE, INT_USED_BUFFER,
    LEGACY, MODERN, QUEUE_NUM_MAX, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX,
    VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_FLUSH,
    VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_F_VERSION_1,
    VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, R, VirtioBlock,
    slot_base, slot_irq)

RAM_BASE = 0x8000_0000
RAM_SIZE = 1 << 20
RAM_END = RAM_BASE + RAM_SIZE
RINGS = RAM_BASE + 0x1000           # legacy: one area; modern: desc, +0x1000, +0x2000
HEADERS = RAM_BASE + 0x8000         # request headers, 16 bytes each
STATUSES = RAM_BASE + 0x9000        # status bytes
DATA = RAM_BASE + 0x10000           # data buffers
SECTOR = 512


class Ram:
    """The machine's RAM as a device sees it: DmaError outside it."""

    def __init__(self):
        self.data = bytearray(RAM_SIZE)

    def _offset(self, addr: int, size: int) -> int:
        if addr < RAM_BASE or addr + size > RAM_END:
            raise DmaError(f"{size} bytes at {addr:#x}")
        return addr - RAM_BASE

    def read(self, addr: int, size: int) -> bytes:
        offset = self._offset(addr, size)
        return bytes(self.data[offset:offset + size])

    def write(self, addr: int, data: bytes) -> None:
        offset = self._offset(addr, len(data))
        self.data[offset:offset + len(data)] = data


class Line:
    """An interrupt line that records every level it is set to."""

    def __init__(self):
        self.levels: list[bool] = []

    def __call__(self, level: bool) -> None:
        self.levels.append(level)

    @property
    def raised(self) -> bool:
        return bool(self.levels) and self.levels[-1]


class Driver:
    """A virtio-blk driver, as a kernel's: it reaches the device only through its
    registers and the RAM they share (virtio spec 3.1, 4.2.3, 4.2.4)."""

    def __init__(self, device: VirtioBlock, ram: Ram, num: int = 8):
        self.device, self.ram, self.num = device, ram, num
        self.next_desc = 0
        self.avail_idx = 0
        self.used_seen = 0
        self.requests = 0
        if device.version == LEGACY:
            self.desc, self.avail = RINGS, RINGS + 16 * num
            self.used = -(-(self.avail + 6 + 2 * num) // 4096) * 4096
        else:
            self.desc, self.avail, self.used = RINGS, RINGS + 0x1000, RINGS + 0x2000

    # registers
    def get(self, register: int) -> int:
        return self.device.load(register, 4)

    def set(self, register: int, value: int) -> None:
        self.device.store(register, 4, value)

    def features(self) -> int:
        self.set(R.DEVICE_FEATURES_SEL, 0)
        low = self.get(R.DEVICE_FEATURES)
        self.set(R.DEVICE_FEATURES_SEL, 1)
        return self.get(R.DEVICE_FEATURES) << 32 | low

    def capacity(self) -> int:
        return self.get(R.CONFIG) | self.get(R.CONFIG + 4) << 32

    def start(self, accept: int | None = None, page_size_first: bool = False) -> None:
        """Device initialization (3.1.1) and the queue's setup. page_size_first:
        GuestPageSize written before the reset, as Linux does."""
        assert self.get(R.MAGIC_VALUE) == 0x74726976
        assert self.get(R.DEVICE_ID) == 2
        if page_size_first:
            self.set(R.GUEST_PAGE_SIZE, 4096)
        self.set(R.STATUS, 0)
        self.set(R.STATUS, 1)                                   # ACKNOWLEDGE
        self.set(R.STATUS, 1 | 2)                               # DRIVER
        accept = self.features() if accept is None else accept
        for word in (0, 1):
            self.set(R.DRIVER_FEATURES_SEL, word)
            self.set(R.DRIVER_FEATURES, accept >> 32 * word & 0xFFFF_FFFF)
        if self.device.version == MODERN:
            self.set(R.STATUS, 1 | 2 | FEATURES_OK)
            assert self.get(R.STATUS) & FEATURES_OK
        self.set(R.QUEUE_SEL, 0)
        assert self.get(R.QUEUE_NUM_MAX) >= self.num
        self.set(R.QUEUE_NUM, self.num)
        if self.device.version == LEGACY:
            if not page_size_first:
                self.set(R.GUEST_PAGE_SIZE, 4096)
            self.set(R.QUEUE_PFN, RINGS >> 12)
        else:
            assert self.get(R.QUEUE_READY) == 0
            for low, addr in ((R.QUEUE_DESC_LOW, self.desc), (R.QUEUE_DRIVER_LOW, self.avail),
                              (R.QUEUE_DEVICE_LOW, self.used)):
                self.set(low, addr & 0xFFFF_FFFF)
                self.set(low + 4, addr >> 32)
            self.set(R.QUEUE_READY, 1)
        self.set(R.STATUS, self.get(R.STATUS) | DRIVER_OK)

    # rings
    def write_desc(self, index: int, addr: int, length: int, flags: int, following: int = 0):
        self.ram.write(self.desc + 16 * index, struct.pack("<QIHH", addr, length, flags, following))

    def chain(self, buffers: list[tuple[int, int, bool]]) -> int:
        """Descriptors for buffers (addr, length, device-writable); the head."""
        indexes = [(self.next_desc + i) % self.num for i in range(len(buffers))]
        self.next_desc = (self.next_desc + len(buffers)) % self.num
        for i, (addr, length, writable) in enumerate(buffers):
            more = i + 1 < len(buffers)
            flags = (VIRTQ_DESC_F_WRITE if writable else 0) | (VIRTQ_DESC_F_NEXT if more else 0)
            self.write_desc(indexes[i], addr, length, flags, indexes[i + 1] if more else 0)
        return indexes[0]

    def make_available(self, head: int) -> None:
        self.ram.write(self.avail + 4 + 2 * (self.avail_idx % self.num), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.ram.write(self.avail + 2, struct.pack("<H", self.avail_idx))

    def notify(self) -> None:
        self.set(R.QUEUE_NOTIFY, 0)

    def used_idx(self) -> int:
        return struct.unpack("<H", self.ram.read(self.used + 2, 2))[0]

    def take_used(self) -> list[tuple[int, int]]:
        """The used ring's new entries: (head, length written)."""
        entries = []
        while self.used_seen != self.used_idx():
            at = self.used + 4 + 8 * (self.used_seen % self.num)
            entries.append(struct.unpack("<II", self.ram.read(at, 8)))
            self.used_seen = (self.used_seen + 1) & 0xFFFF
        return entries

    # requests
    def request(self, kind: int, sector: int = 0, data: bytes | None = None,
                length: int = 0) -> tuple[int, int, bytes]:
        """One request, header / data / status in three descriptors: data is
        written (OUT), or length bytes are read (IN, GET_ID). Its status, the used
        length and the bytes read."""
        slot = self.requests % 64
        self.requests += 1
        header, status = HEADERS + 16 * slot, STATUSES + slot
        self.ram.write(header, struct.pack("<IIQ", kind, 0, sector))
        self.ram.write(status, b"\xEE")
        buffers = [(header, 16, False)]
        if data is not None:
            self.ram.write(DATA, data)
            buffers.append((DATA, len(data), False))
        elif length:
            buffers.append((DATA, length, True))
        buffers.append((status, 1, True))
        head = self.chain(buffers)
        self.make_available(head)
        self.notify()
        [(used_head, written)] = self.take_used()
        assert used_head == head
        return self.ram.read(status, 1)[0], written, self.ram.read(DATA, length)

    def read(self, sector: int, count: int) -> bytes:
        status, written, data = self.request(VIRTIO_BLK_T_IN, sector, length=count * SECTOR)
        assert (status, written) == (VIRTIO_BLK_S_OK, count * SECTOR + 1)
        return data

    def write(self, sector: int, data: bytes) -> None:
        status, written, _ = self.request(VIRTIO_BLK_T_OUT, sector, data=data)
        assert (status, written) == (VIRTIO_BLK_S_OK, 1)

    def ack(self) -> None:
        self.set(R.INTERRUPT_ACK, self.get(R.INTERRUPT_STATUS))


def image(tmp_path: Path, sectors: int = 16, name: str = "disk.img") -> Path:
    """A disk image whose every byte says where it is."""
    path = tmp_path / name
    path.write_bytes(bytes((i * 7 + i // 512) & 0xFF for i in range(sectors * SECTOR)))
    return path


OPENED: list[Disk] = []


@pytest.fixture(autouse=True)
def close_disks():
    """Close every disk a test opened through board() (and its overlay)."""
    yield
    while OPENED:
        OPENED.pop().close()


def board(path: Path, version: int = LEGACY, snapshot: bool = False, read_only: bool = False,
          start: bool = True):
    ram, line = Ram(), Line()
    disk = Disk(DiskSpec(path, read_only=read_only), snapshot=snapshot)
    OPENED.append(disk)
    device = VirtioBlock(slot_base(0), disk, ram, line, version)
    driver = Driver(device, ram)
    if start:
        driver.start()
    return device, driver, line, ram


BOTH = pytest.mark.parametrize("version", [LEGACY, MODERN], ids=["legacy", "modern"])


# -- identity and configuration ------------------------------------------------

@BOTH
def test_identity_registers(tmp_path, version):
    device, driver, _, _ = board(image(tmp_path, 33), version, start=False)
    assert [driver.get(r) for r in (R.MAGIC_VALUE, R.VERSION, R.DEVICE_ID, R.VENDOR_ID)] == \
        [0x74726976, version, 2, 0x554D4551]
    assert driver.capacity() == 33
    assert device.load(R.CONFIG, 1) == 33 and device.load(R.CONFIG, 2) == 33
    assert device.load(R.CONFIG + 8, 4) == 0          # size_max: not offered
    assert device.load(R.CONFIG + 12, 4) == 126       # seg_max
    assert device.load(R.CONFIG + 16, 4) == 0         # nothing past it
    expected = 1 << VIRTIO_BLK_F_SEG_MAX | 1 << VIRTIO_BLK_F_FLUSH | \
        (1 << VIRTIO_F_VERSION_1 if version == MODERN else 0)
    assert driver.features() == expected
    assert driver.get(R.QUEUE_NUM_MAX) == QUEUE_NUM_MAX[version]
    driver.set(R.QUEUE_SEL, 1)                        # a block device has one queue
    assert driver.get(R.QUEUE_NUM_MAX) == 0
    assert device.load(R.MAGIC_VALUE, 2) == 0         # registers are 32-bit only
    assert driver.get(R.CONFIG_GENERATION) == 0


def test_slots_follow_the_board():
    assert [(slot_base(n), slot_irq(n)) for n in (0, 1, 7)] == \
        [(0x1000_1000, 1), (0x1000_2000, 2), (0x1000_8000, 8)]


def test_read_only_disk_offers_the_ro_feature(tmp_path):
    _, driver, _, _ = board(image(tmp_path), read_only=True, start=False)
    assert driver.features() & 1 << VIRTIO_BLK_F_RO


def test_modern_refuses_features_it_did_not_offer(tmp_path):
    _, driver, _, _ = board(image(tmp_path), MODERN, start=False)
    driver.set(R.STATUS, 3)
    driver.set(R.DRIVER_FEATURES_SEL, 0)
    driver.set(R.DRIVER_FEATURES, 1 << 28)            # indirect descriptors: not offered
    driver.set(R.STATUS, 3 | FEATURES_OK)
    assert not driver.get(R.STATUS) & FEATURES_OK


def test_modern_accepts_a_driver_that_leaves_out_version_1(tmp_path):
    """xv6 writes only the low feature word; QEMU accepts it, so must we."""
    _, driver, _, _ = board(image(tmp_path), MODERN, start=False)
    driver.start(accept=1 << VIRTIO_BLK_F_FLUSH)
    assert driver.read(1, 1) == image(tmp_path).read_bytes()[SECTOR:2 * SECTOR]


def test_legacy_page_size_outlives_a_reset(tmp_path):
    path = image(tmp_path)
    _, driver, _, _ = board(path, start=False)
    driver.start(page_size_first=True)
    assert driver.get(R.QUEUE_PFN) == RINGS >> 12
    assert driver.read(5, 1) == path.read_bytes()[5 * SECTOR:6 * SECTOR]


# -- reading and writing -------------------------------------------------------

@BOTH
def test_reads_sectors_from_the_file(tmp_path, version):
    path = image(tmp_path)
    _, driver, _, _ = board(path, version)
    contents = path.read_bytes()
    assert driver.read(0, 1) == contents[:SECTOR]
    assert driver.read(3, 5) == contents[3 * SECTOR:8 * SECTOR]
    assert driver.read(15, 1) == contents[15 * SECTOR:]


@BOTH
def test_writes_sectors_to_the_file(tmp_path, version):
    path = image(tmp_path)
    before = path.read_bytes()
    _, driver, _, _ = board(path, version)
    data = bytes(range(256)) * 4
    driver.write(6, data)
    assert path.read_bytes() == before[:6 * SECTOR] + data + before[8 * SECTOR:]
    assert driver.read(6, 2) == data


@BOTH
def test_interrupt_after_a_request_until_acknowledged(tmp_path, version):
    _, driver, line, _ = board(image(tmp_path), version)
    assert line.levels == []
    driver.read(0, 1)
    assert line.levels == [True]
    assert driver.get(R.INTERRUPT_STATUS) == INT_USED_BUFFER
    driver.read(1, 1)           # still raised, and signalled again: a new request
    assert line.levels == [True, True]
    driver.ack()
    assert driver.get(R.INTERRUPT_STATUS) == 0 and line.levels == [True, True, False]


def test_no_interrupt_when_the_driver_asks_for_none(tmp_path):
    _, driver, line, ram = board(image(tmp_path))
    ram.write(driver.avail, struct.pack("<H", VIRTQ_AVAIL_F_NO_INTERRUPT))
    assert driver.read(2, 1) == image(tmp_path).read_bytes()[2 * SECTOR:3 * SECTOR]
    assert line.levels == [] and driver.get(R.INTERRUPT_STATUS) == 0


def test_several_requests_in_one_notify(tmp_path):
    path = image(tmp_path)
    _, driver, line, ram = board(path)
    heads = []
    for n in range(2):
        ram.write(HEADERS + 16 * n, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 4 + n))
        heads.append(driver.chain([(HEADERS + 16 * n, 16, False),
                                   (DATA + SECTOR * n, SECTOR, True), (STATUSES + n, 1, True)]))
        driver.make_available(heads[-1])
    driver.notify()
    assert driver.take_used() == [(heads[0], SECTOR + 1), (heads[1], SECTOR + 1)]
    assert ram.read(DATA, 2 * SECTOR) == path.read_bytes()[4 * SECTOR:6 * SECTOR]
    assert line.levels == [True]


def test_header_data_and_status_in_any_layout(tmp_path):
    """The header split over two descriptors, the data over three of odd sizes,
    the status byte sharing the last data descriptor (VIRTIO_F_ANY_LAYOUT)."""
    path = image(tmp_path)
    _, driver, _, ram = board(path)
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 2))
    head = driver.chain([(HEADERS, 5, False), (HEADERS + 5, 11, False),
                         (DATA, 100, True), (DATA + 0x1000, 700, True),
                         (DATA + 0x2000, 225, True)])
    driver.make_available(head)
    driver.notify()
    assert driver.take_used() == [(head, 1025)]
    expected = path.read_bytes()[2 * SECTOR:4 * SECTOR]
    got = ram.read(DATA, 100) + ram.read(DATA + 0x1000, 700) + ram.read(DATA + 0x2000, 224)
    assert got == expected and ram.read(DATA + 0x2000 + 224, 1)[0] == VIRTIO_BLK_S_OK


def test_flush_get_id_and_unsupported_requests(tmp_path):
    _, driver, _, _ = board(image(tmp_path, name="root.img"))
    assert driver.request(VIRTIO_BLK_T_FLUSH)[:2] == (VIRTIO_BLK_S_OK, 1)
    assert driver.request(VIRTIO_BLK_T_GET_ID, length=20) == \
        (VIRTIO_BLK_S_OK, 21, b"root.img" + bytes(12))
    assert driver.request(VIRTIO_BLK_T_GET_ID, length=4) == (VIRTIO_BLK_S_OK, 5, b"root")
    assert driver.request(11, length=512)[:2] == (VIRTIO_BLK_S_UNSUPP, 1)    # DISCARD


def test_get_id_of_an_explicit_serial(tmp_path):
    ram, line = Ram(), Line()
    OPENED.append(Disk(DiskSpec(image(tmp_path))))
    device = VirtioBlock(slot_base(0), OPENED[-1], ram, line,
                         serial="a-serial-longer-than-twenty-bytes")
    driver = Driver(device, ram)
    driver.start()
    assert driver.request(VIRTIO_BLK_T_GET_ID, length=20)[2] == b"a-serial-longer-than"


def test_avail_idx_wraps_at_16_bits(tmp_path):
    """65536 + 5 requests: the device's indexes wrap as the driver's do."""
    path = image(tmp_path)
    ram, line = Ram(), Line()
    OPENED.append(Disk(DiskSpec(path)))
    device = VirtioBlock(slot_base(0), OPENED[-1], ram, line)
    driver = Driver(device, ram, num=1024)
    driver.start()
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_FLUSH, 0, 0))
    head = driver.chain([(HEADERS, 16, False), (STATUSES, 1, True)])
    ram.write(driver.avail + 4, struct.pack("<H", head) * 1024)
    for batch in range(1, 65):          # the same request, 1024 at a time
        ram.write(driver.avail + 2, struct.pack("<H", batch * 1024 & 0xFFFF))
        driver.notify()
        assert driver.used_idx() == batch * 1024 & 0xFFFF
    driver.avail_idx = driver.used_seen = 0
    for _ in range(5):
        assert driver.read(9, 1) == path.read_bytes()[9 * SECTOR:10 * SECTOR]
    assert driver.used_idx() == 5 and not driver.get(R.STATUS) & DEVICE_NEEDS_RESET


# -- read-only and snapshot disks ----------------------------------------------

def test_write_to_a_read_only_disk_is_an_io_error(tmp_path):
    path = image(tmp_path)
    before = path.read_bytes()
    _, driver, _, _ = board(path, read_only=True)
    assert driver.request(VIRTIO_BLK_T_OUT, 0, data=bytes(SECTOR))[:2] == (VIRTIO_BLK_S_IOERR, 1)
    assert driver.read(0, 1) == before[:SECTOR]
    assert path.read_bytes() == before


@BOTH
def test_snapshot_keeps_the_file_and_reads_back_the_guests_writes(tmp_path, version):
    path = image(tmp_path)
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    device, driver, _, _ = board(path, version, snapshot=True)
    driver.write(2, b"\xAA" * SECTOR)
    driver.write(4, b"\xBB" * 2 * SECTOR)
    assert driver.read(1, 6) == before[SECTOR:2 * SECTOR] + b"\xAA" * SECTOR + \
        before[3 * SECTOR:4 * SECTOR] + b"\xBB" * 2 * SECTOR + before[6 * SECTOR:7 * SECTOR]
    assert driver.request(VIRTIO_BLK_T_FLUSH)[0] == VIRTIO_BLK_S_OK
    device.disk.close()
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


# -- bad requests: an error status, and the device goes on ---------------------

def bad_request(driver: Driver, ram: Ram, buffers, header=(VIRTIO_BLK_T_IN, 0)) -> tuple[int, int]:
    """A request with the given buffers after a 16-byte header; its status byte
    (at STATUSES, the last buffer) and used length."""
    ram.write(HEADERS, struct.pack("<IIQ", header[0], 0, header[1]))
    ram.write(STATUSES, b"\xEE")
    head = driver.chain([(HEADERS, 16, False)] + buffers + [(STATUSES, 1, True)])
    driver.make_available(head)
    driver.notify()
    [(used_head, written)] = driver.take_used()
    assert used_head == head
    return ram.read(STATUSES, 1)[0], written


@pytest.mark.parametrize("buffers", [
    [(RAM_BASE - SECTOR, SECTOR, True)],             # below RAM
    [(0x1000_0000, SECTOR, True)],                   # a device: the UART
    [(RAM_END - 256, SECTOR, True)],                 # straddles the end of RAM
    [(RAM_END, SECTOR, True)],                       # just past it
    [(2**64 - 256, SECTOR, True)],                   # address + length overflows 64 bits
    [(DATA, SECTOR, True), (2**64 - 1, 0xFFFF_FFFF, True)],
    [(DATA, 0, True)],                               # zero-length data
    [],                                              # no data at all
    [(DATA, 100, True)],                             # not whole sectors
    [(DATA, SECTOR, False)],                         # data the wrong way for a read
], ids=["below", "device", "straddles", "past", "overflow", "second", "zero", "none",
        "partial", "direction"])
@BOTH
def test_bad_data_buffers_are_io_errors(tmp_path, version, buffers):
    _, driver, line, ram = board(image(tmp_path), version)
    ram.write(DATA, b"\x55" * SECTOR)
    assert bad_request(driver, ram, buffers) == (VIRTIO_BLK_S_IOERR, 1)
    assert driver.get(R.STATUS) & DEVICE_NEEDS_RESET == 0
    assert driver.get(R.INTERRUPT_STATUS) == INT_USED_BUFFER and line.raised
    if buffers and buffers[0][0] == DATA:             # a read that failed wrote nothing
        assert ram.read(DATA, SECTOR) == b"\x55" * SECTOR
    assert driver.read(0, 1) == (tmp_path / "disk.img").read_bytes()[:SECTOR]


def test_a_write_from_outside_ram_changes_nothing(tmp_path):
    path = image(tmp_path)
    before = path.read_bytes()
    _, driver, _, ram = board(path)
    status = bad_request(driver, ram, [(DATA, SECTOR, False), (RAM_END - 8, SECTOR, False)],
                         header=(VIRTIO_BLK_T_OUT, 0))
    assert status == (VIRTIO_BLK_S_IOERR, 1)
    assert path.read_bytes() == before


@pytest.mark.parametrize("sector, count", [(16, 1), (15, 2), (2**64 - 1, 1)])
def test_sectors_past_the_end_are_io_errors(tmp_path, sector, count):
    _, driver, _, ram = board(image(tmp_path))
    assert bad_request(driver, ram, [(DATA, count * SECTOR, True)], (VIRTIO_BLK_T_IN, sector)) \
        == (VIRTIO_BLK_S_IOERR, 1)
    assert bad_request(driver, ram, [(DATA, count * SECTOR, False)], (VIRTIO_BLK_T_OUT, sector)) \
        == (VIRTIO_BLK_S_IOERR, 1)


def test_a_short_header_is_an_io_error(tmp_path):
    _, driver, _, ram = board(image(tmp_path))
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 0))
    head = driver.chain([(HEADERS, 8, False), (DATA, SECTOR, True), (STATUSES, 1, True)])
    driver.make_available(head)
    driver.notify()
    # 8 header bytes only: the data descriptor is writable, so the header ends short.
    assert driver.take_used() == [(head, 1)]
    assert ram.read(STATUSES, 1)[0] == VIRTIO_BLK_S_IOERR


def test_a_header_outside_ram_is_an_io_error(tmp_path):
    _, driver, _, ram = board(image(tmp_path))
    head = driver.chain([(RAM_END - 8, 16, False), (DATA, SECTOR, True), (STATUSES, 1, True)])
    driver.make_available(head)
    driver.notify()
    assert driver.take_used() == [(head, 1)]
    assert ram.read(STATUSES, 1)[0] == VIRTIO_BLK_S_IOERR


# -- broken queues: DEVICE_NEEDS_RESET -----------------------------------------

def assert_needs_reset(driver: Driver, line: Line) -> None:
    assert driver.get(R.STATUS) & DEVICE_NEEDS_RESET
    assert driver.get(R.INTERRUPT_STATUS) & INT_CONFIG_CHANGE and line.raised


def test_a_descriptor_loop_needs_a_reset(tmp_path):
    _, driver, line, ram = board(image(tmp_path))
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 0))
    driver.write_desc(0, HEADERS, 16, VIRTQ_DESC_F_NEXT, 1)
    driver.write_desc(1, DATA, SECTOR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0)
    driver.make_available(0)
    driver.notify()
    assert driver.take_used() == []
    assert_needs_reset(driver, line)
    assert "loop" in driver.device.error


@pytest.mark.parametrize("last", [(STATUSES, 1, False), (STATUSES, 0, True),
                                  (RAM_END, 1, True), (2**64 - 1, 1, True)],
                         ids=["readable", "empty", "past-ram", "top"])
def test_no_status_byte_to_answer_in_needs_a_reset(tmp_path, last):
    path = image(tmp_path)
    before = path.read_bytes()
    _, driver, line, ram = board(path)
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_OUT, 0, 0))
    head = driver.chain([(HEADERS, 16, False), (DATA, SECTOR, False), last])
    driver.make_available(head)
    driver.notify()
    assert_needs_reset(driver, line)
    assert driver.take_used() == []
    assert path.read_bytes() == before      # a request that cannot be answered is not done


def test_a_descriptor_index_outside_the_queue_needs_a_reset(tmp_path):
    _, driver, line, ram = board(image(tmp_path))
    driver.write_desc(0, HEADERS, 16, VIRTQ_DESC_F_NEXT, 8)     # num is 8
    driver.make_available(0)
    driver.notify()
    assert_needs_reset(driver, line)
    _, driver, line, ram = board(image(tmp_path))
    driver.make_available(8)                                    # a head out of range
    driver.notify()
    assert_needs_reset(driver, line)


def test_an_indirect_descriptor_needs_a_reset(tmp_path):
    _, driver, line, _ = board(image(tmp_path))
    driver.write_desc(0, DATA, 16 * 3, 4)                       # VIRTQ_DESC_F_INDIRECT
    driver.make_available(0)
    driver.notify()
    assert_needs_reset(driver, line)
    assert "indirect" in driver.device.error


def test_an_avail_idx_too_far_ahead_needs_a_reset(tmp_path):
    _, driver, line, ram = board(image(tmp_path))
    ram.write(driver.avail + 2, struct.pack("<H", 9))           # 9 new entries in a ring of 8
    driver.notify()
    assert_needs_reset(driver, line)


@pytest.mark.parametrize("register, addr", [
    (R.QUEUE_DESC_LOW, RINGS + 8), (R.QUEUE_DRIVER_LOW, RINGS + 0x1001),
    (R.QUEUE_DEVICE_LOW, RINGS + 0x2002), (R.QUEUE_DEVICE_LOW, 0x1000),
    (R.QUEUE_DESC_HIGH, 1)], ids=["desc", "driver", "device", "outside", "high"])
def test_misplaced_modern_rings_need_a_reset(tmp_path, register, addr):
    path = image(tmp_path)
    device, driver, line, ram = board(path, MODERN, start=False)
    driver.start()
    driver.set(R.QUEUE_READY, 0)
    driver.set(register, addr)
    driver.set(R.QUEUE_READY, 1)
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_FLUSH, 0, 0))
    driver.make_available(driver.chain([(HEADERS, 16, False), (STATUSES, 1, True)]))
    driver.notify()
    assert_needs_reset(driver, line)
    assert path.read_bytes() == image(tmp_path, name="same.img").read_bytes()


def test_legacy_queue_align_must_be_a_power_of_two(tmp_path):
    _, driver, line, _ = board(image(tmp_path))
    driver.set(R.QUEUE_ALIGN, 3000)
    driver.notify()
    assert_needs_reset(driver, line)


@pytest.mark.parametrize("num", [0, 6, 2048])
def test_a_bad_queue_size_needs_a_reset(tmp_path, num):
    _, driver, line, _ = board(image(tmp_path), start=False)
    driver.set(R.QUEUE_NUM, num)
    assert_needs_reset(driver, line)


def test_a_broken_device_ignores_the_queue_until_reset(tmp_path):
    path = image(tmp_path)
    _, driver, line, ram = board(path)
    driver.make_available(8)
    driver.notify()
    assert_needs_reset(driver, line)
    assert driver.device.error == "descriptor 8 is outside the queue of 8"
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 0))
    driver.make_available(driver.chain([(HEADERS, 16, False), (DATA, SECTOR, True),
                                        (STATUSES, 1, True)]))
    driver.notify()
    assert driver.take_used() == []
    driver.set(R.STATUS, 0)             # reset: the line goes down, everything restarts
    assert driver.get(R.STATUS) == 0 and driver.get(R.INTERRUPT_STATUS) == 0
    assert line.levels[-1] is False
    fresh = Driver(driver.device, ram)
    fresh.start()
    assert fresh.read(3, 1) == path.read_bytes()[3 * SECTOR:4 * SECTOR]


def test_requests_wait_for_driver_ok(tmp_path):
    path = image(tmp_path)
    _, driver, line, ram = board(path, start=False)
    driver.start()
    driver.set(R.STATUS, 1 | 2)         # DRIVER_OK cleared (a driver must not, but may)
    ram.write(HEADERS, struct.pack("<IIQ", VIRTIO_BLK_T_IN, 0, 0))
    driver.make_available(driver.chain([(HEADERS, 16, False), (DATA, SECTOR, True),
                                        (STATUSES, 1, True)]))
    driver.notify()
    assert driver.used_idx() == 0 and line.levels == []
    driver.set(R.STATUS, 1 | 2 | DRIVER_OK)
    driver.notify()
    assert driver.used_idx() == 1


@pytest.mark.parametrize("snapshot", [False, True], ids=["file", "overlay"])
def test_a_failing_host_disk_is_an_io_error(tmp_path, monkeypatch, snapshot):
    _, driver, _, ram = board(image(tmp_path), snapshot=snapshot)

    def disk_full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(disk_module.os, "pwrite", disk_full)
    assert bad_request(driver, ram, [(DATA, SECTOR, False)], (VIRTIO_BLK_T_OUT, 0)) == \
        (VIRTIO_BLK_S_IOERR, 1)
    assert driver.get(R.STATUS) & DEVICE_NEEDS_RESET == 0


# -- disk images ---------------------------------------------------------------

def test_a_partial_last_sector_counts_and_reads_as_zeros(tmp_path):
    path = tmp_path / "odd.img"
    path.write_bytes(b"\x11" * 700)
    _, driver, _, _ = board(path)
    assert driver.capacity() == 2
    assert driver.read(1, 1) == b"\x11" * 188 + bytes(324)
    driver.write(1, b"\x22" * SECTOR)
    assert path.read_bytes() == b"\x11" * 512 + b"\x22" * 512


def test_an_empty_image_is_a_disk_of_no_sectors(tmp_path):
    path = tmp_path / "empty.img"
    path.write_bytes(b"")
    _, driver, _, ram = board(path)
    assert driver.capacity() == 0
    assert bad_request(driver, ram, [(DATA, SECTOR, True)]) == (VIRTIO_BLK_S_IOERR, 1)


def test_unusable_images(tmp_path):
    with pytest.raises(DiskError, match="no such file"):
        Disk(DiskSpec(tmp_path / "missing.img"))
    with pytest.raises(DiskError, match="is a directory"):
        Disk(DiskSpec(tmp_path))
    with pytest.raises(DiskError, match="not a regular file"):
        Disk(DiskSpec(Path("/dev/null")))


def test_an_image_that_cannot_be_written_suggests_ro_or_snapshot(tmp_path, monkeypatch):
    path = image(tmp_path)
    before = path.read_bytes()
    real_open = os.open

    def deny_writing(name, flags, *args):       # what mode 0444 does to a user's image
        if name == path and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, "Permission denied")
        return real_open(name, flags, *args)

    monkeypatch.setattr(disk_module.os, "open", deny_writing)
    with pytest.raises(DiskError, match=r"cannot open it for writing \(Permission denied\): "
                                        r"add ,ro .* --snapshot"):
        Disk(DiskSpec(path))
    with Disk(DiskSpec(path, read_only=True)) as disk:
        assert disk.sectors == 16
    with Disk(DiskSpec(path), snapshot=True) as disk:
        disk.write(0, b"\x01" * SECTOR)
        assert disk.read(0, SECTOR) == b"\x01" * SECTOR
    assert path.read_bytes() == before


def test_one_file_written_by_two_disks_is_refused(tmp_path):
    path = image(tmp_path)
    (tmp_path / "link.img").symlink_to(path)
    same = [parse_disk(f"a={path}", named=True), parse_disk(f"b={tmp_path}/link.img", named=True)]
    with pytest.raises(DiskError, match=rf"disks a={path} and b=.*link.img are the same file"):
        open_disks(same)
    with pytest.raises(DiskError, match="same file"):
        open_disks([same[0], parse_disk(f"b={path},ro", named=True)])
    for disks in (open_disks(same, snapshot=True),
                  open_disks([parse_disk(f"a={path},ro", named=True),
                              parse_disk(f"b={path},ro", named=True)]),
                  open_disks([parse_disk(f"a={path},snapshot", named=True),
                              parse_disk(f"b={path},snapshot", named=True)])):
        assert len(disks) == 2
        for disk in disks:
            disk.close()


def test_two_guests_share_a_base_image_with_an_overlay_each(tmp_path):
    path = image(tmp_path)
    before = path.read_bytes()
    disks = open_disks([parse_disk(f"a={path}", named=True), parse_disk(f"b={path}", named=True)],
                       snapshot=True)
    OPENED.extend(disks)
    drivers = []
    for disk in disks:
        ram = Ram()
        driver = Driver(VirtioBlock(slot_base(0), disk, ram, Line()), ram)
        driver.start()
        drivers.append(driver)
    drivers[0].write(0, b"\xA0" * SECTOR)
    drivers[1].write(0, b"\xB0" * SECTOR)
    assert drivers[0].read(0, 1) == b"\xA0" * SECTOR
    assert drivers[1].read(0, 1) == b"\xB0" * SECTOR
    assert path.read_bytes() == before


@pytest.mark.parametrize("text, named, expected", [
    ("disk.img", False, DiskSpec(Path("disk.img"))),
    ("disk.img,ro", False, DiskSpec(Path("disk.img"), read_only=True)),
    ("disk.img,snapshot", False, DiskSpec(Path("disk.img"), snapshot=True)),
    ("a,,b.img,ro", False, DiskSpec(Path("a,b.img"), read_only=True)),
    ("x=y.img", False, DiskSpec(Path("x=y.img"))),
    ("web=root.img", True, DiskSpec(Path("root.img"), guest="web")),
    ("web=root.img,ro", True, DiskSpec(Path("root.img"), read_only=True, guest="web")),
])
def test_parse_disk(text, named, expected):
    assert parse_disk(text, named) == expected


@pytest.mark.parametrize("text, named, message", [
    ("disk.img,rw", False, "unknown option 'rw'"),
    (",ro", False, "no file name"),
    ("root.img", True, "NAME=FILE"),
    ("=root.img", True, "NAME=FILE"),
])
def test_parse_disk_errors(text, named, message):
    with pytest.raises(DiskError, match=message):
        parse_disk(text, named)


# -- the device against a model --------------------------------------------------

SECTORS = 24
operations = st.lists(st.tuples(
    st.booleans(),                                      # a write?
    st.integers(0, SECTORS + 2),                        # first sector (some past the end)
    st.integers(1, 4),                                  # sectors
    st.integers(0, 255)), max_size=25)                  # the fill byte of a write


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations, version=st.sampled_from([LEGACY, MODERN]), snapshot=st.booleans())
def test_the_device_is_a_disk(tmp_path_factory, operations, version, snapshot):
    """Random reads and writes through the device do what they do to a bytearray;
    in snapshot mode the file never changes."""
    path = image(tmp_path_factory.mktemp("model"), SECTORS)
    original = path.read_bytes()
    model = bytearray(original)
    device, driver, _, _ = board(path, version, snapshot=snapshot)
    for is_write, sector, count, fill in operations:
        inside = sector + count <= SECTORS
        start, end = sector * SECTOR, (sector + count) * SECTOR
        if is_write:
            data = bytes([fill]) * (count * SECTOR - 1) + bytes([sector])
            status, _, _ = driver.request(VIRTIO_BLK_T_OUT, sector, data=data)
            if inside:
                model[start:end] = data
        else:
            status, _, data = driver.request(VIRTIO_BLK_T_IN, sector, length=count * SECTOR)
            if inside:
                assert data == model[start:end]
        assert status == (VIRTIO_BLK_S_OK if inside else VIRTIO_BLK_S_IOERR)
    assert driver.read(0, SECTORS) == model
    device.disk.close()
    assert path.read_bytes() == (original if snapshot else model)
