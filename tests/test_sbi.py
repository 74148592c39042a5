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


# ---- HSM, IPI and RFENCE (SBI spec chapters 7-9) for the one hart

class Hart(Platform):
    """The recording platform, with the calls that act on the hart."""

    def __init__(self):
        super().__init__()
        self.ipis, self.fences, self.stopped_why = 0, [], None

    def send_ipi(self):
        self.ipis += 1

    def sfence_vma(self, start, size):
        self.fences.append((start, size))

    def stop_hart(self, why):
        self.stopped_why = why


ALL = MASK      # hart_mask_base -1: every hart


def test_base_probes_the_new_extensions():
    for eid in (Eid.HSM, Eid.IPI, Eid.RFENCE):
        assert call(Hart(), Eid.BASE, 3, eid) == (0, 1)


def test_hsm_on_a_machine_of_one_hart():
    p = Hart()
    assert call(p, Eid.HSM, 2, 0) == (0, 0)                               # STARTED
    assert call(p, Eid.HSM, 2, 1) == (error(SbiError.INVALID_PARAM), 0)
    assert call(p, Eid.HSM, 0, 0, 0x8000_0000, 7) == (error(SbiError.ALREADY_AVAILABLE), 0)
    assert call(p, Eid.HSM, 0, 1, 0x8000_0000, 7) == (error(SbiError.INVALID_PARAM), 0)
    for kind in (0, 0x1000_0000, 0x8000_0000, 0x9000_0000):       # valid, not supported
        assert call(p, Eid.HSM, 3, kind) == (error(SbiError.NOT_SUPPORTED), 0)
    for kind in (1, 0x0FFF_FFFF, 0x8000_0001, 0x8FFF_FFFF):       # reserved
        assert call(p, Eid.HSM, 3, kind) == (error(SbiError.INVALID_PARAM), 0)
    assert call(p, Eid.HSM, 4) == (error(SbiError.NOT_SUPPORTED), 0)
    assert p.stopped_why is None
    call(p, Eid.HSM, 1)
    assert "hart_stop" in p.stopped_why


@pytest.mark.parametrize("mask,base,result,ipis", [
    (1, 0, 0, 1), (0, ALL, 0, 1), (0, 0, 0, 0),
    (2, 0, error(SbiError.INVALID_PARAM), 0), (1, 1, error(SbiError.INVALID_PARAM), 0),
    (3, 0, error(SbiError.INVALID_PARAM), 0),
])
def test_send_ipi_names_harts_by_mask_and_base(mask, base, result, ipis):
    p = Hart()
    assert call(p, Eid.IPI, 0, mask, base) == (result, 0)
    assert p.ipis == ipis
    assert call(p, Eid.IPI, 1) == (error(SbiError.NOT_SUPPORTED), 0)


def test_remote_fences_are_local():
    p = Hart()
    assert call(p, Eid.RFENCE, 0, 1, 0) == (0, 0) and p.fences == []     # fence.i: nothing
    assert call(p, Eid.RFENCE, 1, 1, 0, 0x4000_1000, 0x2000) == (0, 0)
    assert call(p, Eid.RFENCE, 2, 0, ALL, 0x4000_0000, 0x1000, 5) == (0, 0)
    assert call(p, Eid.RFENCE, 1, 1, 0, 0, 0) == (0, 0)                  # everything
    assert call(p, Eid.RFENCE, 1, 1, 0, 0x1234, MASK) == (0, 0)          # everything
    assert p.fences == [(0x4000_1000, 0x2000), (0x4000_0000, 0x1000), (0, 0), (0x1234, 0)]
    assert call(p, Eid.RFENCE, 1, 2, 0, 0, 0) == (error(SbiError.INVALID_PARAM), 0)
    for hfence in range(3, 7):
        assert call(p, Eid.RFENCE, hfence, 1, 0) == (error(SbiError.NOT_SUPPORTED), 0)


# Each call from an S-mode kernel (emu/labs/kit.py's test kernel), bare and under
# the hypervisor: (a0, a1) of each to RESULTS, then sip after each IPI, and a
# remote_sfence_vma that must make a changed page table entry seen.
RESULTS = 0x8010_0000
CALLS = [   # (eid, fid, a0, a1, a2, a3)
    (Eid.HSM, 2, 0, 0, 0, 0), (Eid.HSM, 2, 1, 0, 0, 0), (Eid.HSM, 0, 0, 0x80000000, 0, 0),
    (Eid.HSM, 3, 0, 0, 0, 0), (Eid.HSM, 3, 1, 0, 0, 0), (Eid.IPI, 0, 2, 0, 0, 0),
    (Eid.RFENCE, 0, 1, 0, 0, 0), (Eid.RFENCE, 2, 1, 0, 0, 0x1000), (Eid.RFENCE, 3, 1, 0, 0, 0),
    (Eid.BASE, 3, Eid.HSM, 0, 0, 0), (Eid.BASE, 3, Eid.IPI, 0, 0, 0),
    (Eid.BASE, 3, Eid.RFENCE, 0, 0, 0),
]
EXPECTED = [(0, 0), (error(SbiError.INVALID_PARAM), 0), (error(SbiError.ALREADY_AVAILABLE), 0),
            (error(SbiError.NOT_SUPPORTED), 0), (error(SbiError.INVALID_PARAM), 0),
            (error(SbiError.INVALID_PARAM), 0), (0, 0), (0, 0),
            (error(SbiError.NOT_SUPPORTED), 0), (0, 1), (0, 1), (0, 1)]


def sbi_kernel():
    from emu.labs.kit import kernel
    calls = "".join(f"    SBI_CALL {', '.join(str(int(v)) for v in c)}\n" for c in CALLS)
    return kernel(f"""
    .macro SBI_CALL eid, fid, x0, x1, x2, x3
    li      a7, \\eid
    li      a6, \\fid
    li      a0, \\x0
    li      a1, \\x1
    li      a2, \\x2
    li      a3, \\x3
    ecall
    sw      a0, 0(s0)
    sw      a1, 4(s0)
    addi    s0, s0, 8
    .endm
    li      s0, {RESULTS}
{calls}
    SBI_CALL {int(Eid.IPI)}, 0, 1, 0, 0, 0     # hart 0: SSIP pending
    csrr    t0, sip
    sw      t0, 0(s0)
    addi    s0, s0, 4
    csrci   sip, 2
    SBI_CALL {int(Eid.IPI)}, 0, 0, -1, 0, 0    # every hart
    csrr    t0, sip
    sw      t0, 0(s0)
    addi    s0, s0, 4
    csrci   sip, 2
    # Page 4 at 0x40004000 maps `clean`; remap it onto `user_rw` (S-only).
    li      a0, 1
    call    paging
    li      s1, 0x40004000
    lw      s2, 0(s1)                 # clean's word, now in the TLB or a shadow
    la      a1, user_rw
    li      a2, 0x7
    call    make_pte
    la      t0, l0
    sw      a0, 16(t0)
    lw      s3, 0(s1)                 # stale: no fence yet
    SBI_CALL {int(Eid.RFENCE)}, 1, 1, 0, 0x40004000, 0x1000
    lw      s4, 0(s1)                 # user_rw's word
    li      a0, 0
    call    paging
    """, name="sbi-calls")


def test_the_calls_from_a_kernel_bare_and_under_the_hypervisor():
    from tests.hvkit import bare_state, diff, hv_state, run_hv
    program = sbi_kernel()
    bare = bare_state(program)
    ram = bare["ram"][RESULTS - 0x8000_0000:]
    words = [int.from_bytes(ram[i:i + 4], "little") for i in range(0, 8 * len(CALLS) + 24, 4)]
    assert list(zip(words[0::2], words[1::2]))[:len(CALLS)] == EXPECTED
    sip_after_ipis = [words[2 * len(CALLS) + 2], words[2 * len(CALLS) + 5]]
    assert [w & 2 for w in sip_after_ipis] == [2, 2], "SSIP pending after each send_ipi"
    x = bare["x"]
    assert (x[18], x[19], x[20]) == (0x55555555, 0x55555555, 0x44444444)   # s2, s3, s4
    guest = run_hv([program]).guests[0]
    virtual = hv_state(guest)
    assert bare == virtual, diff(bare, virtual)


def test_hart_stop_ends_the_run_as_a_crash_bare_and_under_the_hypervisor():
    from tests.hvkit import bare_state, hv_state, kernel, run_hv
    program = kernel(f"""
    li      a7, {int(Eid.HSM)}
    li      a6, 1
    ecall
    """, name="stop")
    bare = bare_state(program)
    assert bare["stop"] == "crash"
    guest = run_hv([program]).guests[0]
    assert hv_state(guest)["stop"] == "crash" and "hart_stop" in guest.end.message
