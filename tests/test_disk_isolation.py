"""Resource control through a disk: under `emu hv` a guest's virtio disk does its
DMA in that guest's own RAM, by guest-physical address, and a descriptor that
points anywhere else is refused, never carried out on another guest's memory
or the hypervisor's (its shadow tables). The guest's driver here is the virtio
tests' Driver, writing its rings into the guest's RAM."""
from __future__ import annotations

import hashlib
import struct

import pytest

from emu.core import RAM_BASE
from emu.devices.disk import DiskSpec, open_disks
from emu.devices.virtio import VIRTIO_BLK_S_IOERR, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VirtioBlock
from emu.hv import Hypervisor
from emu.hv.hypervisor import GuestConfig
from emu.labs.kit import assemble
from tests.test_virtio import DATA, HEADERS, SECTOR, STATUSES, Driver, image

MEM = 1 << 20
IDLE = """
    .globl _start
_start:
    j       _start
"""


@pytest.fixture
def hv(tmp_path):
    """Two idle guests of 1 MiB each, the first with a disk."""
    disks = open_disks([DiskSpec(image(tmp_path), guest="a")])
    program = assemble(IDLE, "idle")
    configs = [GuestConfig("a", program, MEM, disks=tuple(disks)), GuestConfig("b", program, MEM)]
    yield Hypervisor(configs)
    for disk in disks:
        disk.close()


def disk_of(guest) -> VirtioBlock:
    return next(d for d in guest.devices if isinstance(d, VirtioBlock))


def everything_but(hv, guest) -> str:
    """A digest of the host's RAM outside the guest's own."""
    core, ram = hv.core, guest.ram
    before = core.read(RAM_BASE, ram.host_base - RAM_BASE)
    after = core.read(ram.host_base + ram.size, RAM_BASE + core.ram_size - ram.host_base - ram.size)
    return hashlib.sha256(before + after).hexdigest()


def raw_request(driver: Driver, kind: int, buffer: int, length: int, writable: bool) -> int:
    """One request with its data buffer at any guest-physical address; its status."""
    header, status = HEADERS, STATUSES
    driver.ram.write(header, struct.pack("<IIQ", kind, 0, 0))
    driver.ram.write(status, b"\xEE")
    head = driver.chain([(header, 16, False), (buffer, length, writable), (status, 1, True)])
    driver.make_available(head)
    driver.notify()
    driver.take_used()
    return driver.ram.read(status, 1)[0]


def test_a_guests_disk_reads_into_its_own_ram_at_guest_physical_addresses(hv, tmp_path):
    a, b = hv.guests
    driver = Driver(disk_of(a), a.ram)
    driver.start()
    assert driver.read(0, 2) == image(tmp_path).read_bytes()[:2 * SECTOR]
    assert a.ram.read(DATA, 2 * SECTOR) == image(tmp_path).read_bytes()[:2 * SECTOR]
    assert b.ram.read(DATA, 2 * SECTOR) == bytes(2 * SECTOR)
    assert not any(isinstance(d, VirtioBlock) for d in b.devices), "b has no disk"


@pytest.mark.parametrize("where", [
    RAM_BASE + MEM,                     # just past its RAM: the next guest's, on the host
    RAM_BASE + MEM - SECTOR // 2,       # straddling its end
    RAM_BASE - SECTOR,                  # just below its RAM
    0x1000_0000,                        # a device
    0xFFFF_FF00,                        # wrapping past the top of the address space
])
@pytest.mark.parametrize("kind", [VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT])
def test_a_buffer_outside_the_guests_ram_is_refused_and_nothing_else_changes(hv, kind, where):
    a, b = hv.guests
    driver = Driver(disk_of(a), a.ram)
    driver.start()
    outside = everything_but(hv, a)
    assert raw_request(driver, kind, where, SECTOR, kind == VIRTIO_BLK_T_IN) == VIRTIO_BLK_S_IOERR
    assert everything_but(hv, a) == outside
