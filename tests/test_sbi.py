"""SBI calls as the SBI spec v2.0 defines them, on a recording platform (the
whole firmware is exercised by programs/sbi-check and hello-sbi)."""
import pytest

from emu.sbi import IMPL_ID, SPEC_VERSION, Eid, SbiError, sbi_call

MASK = 0xFFFF_FFFF


class Platform:
    def __init__(self, memory=b"", typed=b""):
        self.memory = bytearray(memory)     # at address 0x1000
        self.typed = bytearray(typed)
        self.out = bytearray()
        self.deadline = None
        self.stopped = None

    def console_write(self, data):
        self.out += data

    def console_read(self, limit):
        data = bytes(self.typed[:limit])
        del self.typed[:limit]
        return data

    def read_memory(self, addr, size):
        if 0x1000 <= addr and addr + size <= 0x1000 + len(self.memory):
            return bytes(self.memory[addr - 0x1000:addr - 0x1000 + size])
        return None

    def write_memory(self, addr, data):
        if 0x1000 <= addr and addr + len(data) <= 0x1000 + len(self.memory):
            self.memory[addr - 0x1000:addr - 0x1000 + len(data)] = data
            return True
        return False

    def set_timer(self, deadline):
        self.deadline = deadline

    def shutdown(self, status, why):
        self.stopped = status


def call(platform, eid, fid, *args):
    return sbi_call(platform, eid, fid, list(args) + [0] * (6 - len(args)))


def error(code):
    return code & MASK


def test_base():
    p = Platform()
    assert call(p, Eid.BASE, 0) == (0, SPEC_VERSION) == (0, 0x0200_0000)
    assert call(p, Eid.BASE, 1) == (0, IMPL_ID)
    for eid in (Eid.BASE, Eid.TIME, Eid.SRST, Eid.DBCN, Eid.LEGACY_PUTCHAR):
        assert call(p, Eid.BASE, 3, eid) == (0, 1)
    assert call(p, Eid.BASE, 3, 0x1234_5678) == (0, 0)
    assert call(p, Eid.BASE, 4) == call(p, Eid.BASE, 5) == call(p, Eid.BASE, 6) == (0, 0)
    assert call(p, Eid.BASE, 7) == (error(SbiError.NOT_SUPPORTED), 0)


def test_unknown_extension_is_not_supported():
    assert call(Platform(), 0x0A00_0000, 0) == (error(SbiError.NOT_SUPPORTED), 0)


def test_set_timer_takes_the_64_bit_time_in_a0_a1():
    p = Platform()
    assert call(p, Eid.TIME, 0, 0x89AB_CDEF, 0x0123) == (0, 0)
    assert p.deadline == 0x0123_89AB_CDEF
    assert call(p, Eid.TIME, 1) == (error(SbiError.NOT_SUPPORTED), 0)


@pytest.mark.parametrize("kind,reason,result,status", [
    (0, 0, (0, 0), 0),
    (0, 1, (0, 0), 1),
    (1, 0, (error(SbiError.NOT_SUPPORTED), 0), None),
    (3, 0, (error(SbiError.INVALID_PARAM), 0), None),
    (0, 2, (error(SbiError.INVALID_PARAM), 0), None),
    (0, 0xDFFF_FFFF, (error(SbiError.INVALID_PARAM), 0), None),
    (0, 0xE000_0000, (0, 0), 1),        # SBI-implementation-specific reasons are valid
    (0, 0xF000_0001, (0, 0), 1),        # and so are vendor-specific ones
    (0xEFFF_FFFF, 0, (error(SbiError.INVALID_PARAM), 0), None),
    (0xF000_0000, 0, (error(SbiError.NOT_SUPPORTED), 0), None),
])
def test_system_reset(kind, reason, result, status):
    p = Platform()
    assert call(p, Eid.SRST, 0, kind, reason) == result
    assert p.stopped == status


def test_debug_console():
    p = Platform(memory=b"hello world", typed=b"xy")
    assert call(p, Eid.DBCN, 0, 5, 0x1000, 0) == (0, 5)
    assert p.out == b"hello"
    assert call(p, Eid.DBCN, 0, 5, 0x1000, 1) == (error(SbiError.INVALID_PARAM), 0)
    assert call(p, Eid.DBCN, 1, 4, 0x2000, 0) == (error(SbiError.INVALID_PARAM), 0)
    assert p.typed == b"xy", "a read into a bad buffer consumes no input"
    assert call(p, Eid.DBCN, 1, 4, 0x1000, 0) == (0, 2)
    assert p.memory.startswith(b"xyllo")
    assert call(p, Eid.DBCN, 2, 0x121) == (0, 0)
    assert p.out == b"hello!"


def test_legacy_calls_answer_in_a0_and_keep_a1():
    p = Platform(typed=b"k")
    assert call(p, Eid.LEGACY_PUTCHAR, 0, ord("z"), 77) == (0, 77)
    assert call(p, Eid.LEGACY_GETCHAR, 0, 0, 5) == (ord("k"), 5)
    assert call(p, Eid.LEGACY_GETCHAR, 0, 0, 5) == (MASK, 5)
    assert p.out == b"z"
    call(p, Eid.LEGACY_SHUTDOWN, 0)
    assert p.stopped == 0
