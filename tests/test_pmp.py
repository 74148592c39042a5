"""Physical memory protection (privileged spec 1.12 section 3.7; csrc/pmp.c).

The core runs with the host owning M-mode, so that an access fault the hart raises
comes back as an exit with its cause and tval. Each test programs the PMP CSRs
from the host (the same csr_write the CSR instructions use: WARL, locks, the TLB
flush), puts a few instructions at CODE and runs them at some privilege. A
hypothesis property compares the core's matching with a small model of section
3.7.1 written here, and tests/priv/pmp.S checks the same rules from guest code, on
emu and on QEMU."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.core import Access, Core, Exit, Priv
from emu.isa import CSRS
from emu.platform import RAM_BASE
from tests import rvenc as rv

FETCH_ACCESS, LOAD_ACCESS, STORE_ACCESS = 1, 5, 7
LOAD_PAGE_FAULT = 13

R, W, X, L = 0x01, 0x02, 0x04, 0x80
OFF, TOR, NA4, NAPOT = (mode << 3 for mode in range(4))
PMPCFG0, PMPADDR0 = CSRS["pmpcfg0"], CSRS["pmpaddr0"]
MSTATUS, SATP = CSRS["mstatus"], CSRS["satp"]
MSTATUS_MPP_SHIFT, MSTATUS_MPRV = 11, 1 << 17

PAGE = 0x1000
CODE = RAM_BASE                 # the instructions each test runs
DATA = RAM_BASE + 0x10000       # a page the tests protect
UART = 0x1000_0000
T0, T1, T2, A0 = 5, 6, 7, 10    # x registers the tests use
REGS = {"t0": T0, "t1": T1, "t2": T2, "a0": A0}


def napot(base, size):
    """pmpaddr for the naturally aligned range of size bytes (>= 8) at base."""
    return (base >> 2) | ((size >> 3) - 1)


def set_entry(core, i, cfg, addr=None):
    if addr is not None:
        core.csr_write(PMPADDR0 + i, addr)
    word, shift = core.csr_read(PMPCFG0 + i // 4), 8 * (i % 4)
    core.csr_write(PMPCFG0 + i // 4, (word & ~(0xFF << shift)) | (cfg << shift))


def cfg_of(core, i):
    return (core.csr_read(PMPCFG0 + i // 4) >> (8 * (i % 4))) & 0xFF


@pytest.fixture
def core():
    """A machine whose PMP lets S and U run the code page and nothing else: entry
    15 (the last to be looked at) NAPOT over CODE, execute only."""
    core = Core(1 << 20)
    core.set_host_mmode(True)
    for n in range(4):
        core.csr_write(PMPCFG0 + n, 0)
    set_entry(core, 15, NAPOT | X, napot(CODE, PAGE))
    return core


def run(core, insns, priv, **regs):
    """Run insns from CODE at priv with the given registers (t0=..., a0=...);
    the cause and tval of the trap they raise, or None when they all ran (and
    the jump to itself that follows them ran once: a jump's target is fetched)."""
    core.write(CODE, rv.program([*insns, rv.jal(0, 0)]))
    core.pc, core.priv = CODE, priv
    for name, value in regs.items():
        core.x[REGS[name]] = value & 0xFFFF_FFFF
    exit_ = core.run(len(insns) + 1)
    if exit_ == Exit.TRAP:
        return core.exit.cause, core.exit.tval
    assert exit_ == Exit.BUDGET and core.pc == CODE + 4 * len(insns)
    return None


def load(core, priv, addr, insn=rv.lw):
    return run(core, [insn(T0, 0, T1)], priv, t1=addr)


def store(core, priv, addr, insn=rv.sw):
    return run(core, [insn(T2, 0, T1)], priv, t1=addr, t2=0x1234_5678)


# ---- reset and the CSRs' WARL behaviour

def test_reset_is_spikes_entry_0_napot_over_all_memory_rwx():
    core = Core(1 << 20)
    assert core.csr_read(PMPCFG0) == NAPOT | X | W | R
    assert core.csr_read(PMPADDR0) == 0xFFFF_FFFF
    assert [core.csr_read(PMPCFG0 + n) for n in (1, 2, 3)] == [0, 0, 0]
    assert [core.csr_read(PMPADDR0 + i) for i in range(1, 16)] == [0] * 15
    for priv in Priv:
        for access in Access:
            assert core.pmp_allows(0, 4, access, priv)
            assert core.pmp_allows((1 << 34) - 4, 4, access, priv)
    core.set_host_mmode(True)
    core.write(CODE, rv.program([rv.sw(T2, 0, T1), rv.lw(T0, 0, T1)]))
    core.pc, core.priv = CODE, Priv.U
    core.x[T1], core.x[T2] = DATA, 99
    assert core.run(2) == Exit.BUDGET and core.x[T0] == 99


def test_pmpcfg_warl_reserved_bits_read_zero_and_w_needs_r(core):
    core.csr_write(PMPCFG0 + 1, 0xFFFF_FFFF)
    assert core.csr_read(PMPCFG0 + 1) == 0x9F9F_9F9F
    core.csr_write(PMPCFG0 + 2, (TOR | W) | (NA4 | W | X) << 8 | (R | W) << 16 | 0x60 << 24)
    assert core.csr_read(PMPCFG0 + 2) == TOR | (NA4 | X) << 8 | (R | W) << 16


def test_pmpaddr_holds_all_32_bits(core):
    core.csr_write(PMPADDR0 + 3, 0xFFFF_FFFF)
    assert core.csr_read(PMPADDR0 + 3) == 0xFFFF_FFFF


# ---- the address-matching modes

def test_napot_grants_its_range_and_no_more(core):
    set_entry(core, 0, NAPOT | R, napot(DATA, PAGE))
    assert load(core, Priv.U, DATA) is None
    assert load(core, Priv.U, DATA + PAGE - 4) is None
    assert load(core, Priv.U, DATA + PAGE) == (LOAD_ACCESS, DATA + PAGE)      # no entry
    assert load(core, Priv.U, DATA - 4) == (LOAD_ACCESS, DATA - 4)
    assert store(core, Priv.U, DATA + 8) == (STORE_ACCESS, DATA + 8)          # no W
    assert store(core, Priv.S, DATA + 8) == (STORE_ACCESS, DATA + 8)


def test_tor_covers_from_the_previous_pmpaddr_up_to_its_own(core):
    core.csr_write(PMPADDR0, (DATA + 0x100) >> 2)      # entry 0 is OFF: a bound only
    set_entry(core, 1, TOR | R | W, (DATA + 0x200) >> 2)
    assert store(core, Priv.U, DATA + 0x100) is None
    assert load(core, Priv.U, DATA + 0x1FC) is None
    assert load(core, Priv.U, DATA + 0x200) == (LOAD_ACCESS, DATA + 0x200)
    assert load(core, Priv.U, DATA + 0xFC) == (LOAD_ACCESS, DATA + 0xFC)
    # Entry 0 as TOR reaches from address 0 (so over CODE: X); a TOR range with
    # top <= bottom is empty.
    set_entry(core, 0, TOR | R | X, (DATA + 0x100) >> 2)
    assert load(core, Priv.U, DATA) is None
    core.csr_write(PMPADDR0 + 1, (DATA + 0x80) >> 2)
    assert load(core, Priv.U, DATA + 0x100) == (LOAD_ACCESS, DATA + 0x100)


def test_na4_is_one_word(core):
    set_entry(core, 0, NA4 | R | W, (DATA + 8) >> 2)
    assert load(core, Priv.U, DATA + 8) is None
    assert load(core, Priv.U, DATA + 10, rv.lhu) is None
    assert store(core, Priv.U, DATA + 11, rv.sb) is None
    assert load(core, Priv.U, DATA + 12) == (LOAD_ACCESS, DATA + 12)
    assert load(core, Priv.U, DATA + 4) == (LOAD_ACCESS, DATA + 4)


def test_an_off_entry_matches_nothing(core):
    set_entry(core, 0, OFF | R | W | X, napot(DATA, PAGE))
    assert load(core, Priv.U, DATA) == (LOAD_ACCESS, DATA)


# ---- permissions, priority, partial matches

def test_execute_denied_raises_a_fetch_access_fault_at_the_target(core):
    set_entry(core, 0, NAPOT | R | W, napot(DATA, PAGE))    # no X
    core.write(DATA, rv.program([rv.addi(A0, 0, 1)]))
    for priv in (Priv.U, Priv.S):
        assert run(core, [rv.jalr(0, T1, 0)], priv, t1=DATA) == (FETCH_ACCESS, DATA)
        assert core.exit.pc == DATA
    # M-mode with no locked entry fetches anywhere.
    core.pc, core.priv = DATA, Priv.M
    assert core.run(1) == Exit.BUDGET and core.x[A0] == 1


def test_a_fetch_from_a_page_granted_in_part_stops_where_the_grant_ends(core):
    """The code TLB must not hold such a page: every instruction is checked."""
    set_entry(core, 0, NAPOT | X, napot(DATA, 16))          # four instructions
    body = [rv.addi(A0, A0, 1)] * 3 + [rv.beq(0, 0, 8)] + [rv.addi(A0, A0, 100)] * 4
    core.write(DATA, rv.program(body))
    core.pc, core.priv, core.x[A0] = DATA, Priv.U, 0
    assert core.run(100) == Exit.TRAP
    assert (core.exit.cause, core.exit.tval, core.x[A0]) == (FETCH_ACCESS, DATA + 20, 3)
    # Straight-line code running off the end of the grant faults there too.
    core.write(DATA + 12, rv.program([rv.addi(A0, A0, 1)]))
    core.pc, core.priv, core.x[A0] = DATA, Priv.U, 0
    assert core.run(100) == Exit.TRAP
    assert (core.exit.cause, core.exit.tval, core.x[A0]) == (FETCH_ACCESS, DATA + 16, 4)


def test_the_lowest_numbered_matching_entry_decides(core):
    set_entry(core, 0, NAPOT, napot(DATA + 0x100, 0x100))           # nothing
    set_entry(core, 1, NAPOT | R | W, napot(DATA, PAGE))            # everything
    assert load(core, Priv.U, DATA + 0x100) == (LOAD_ACCESS, DATA + 0x100)
    assert load(core, Priv.U, DATA + 0x200) is None
    # Swapped: the big grant comes first and the hole no longer matters.
    set_entry(core, 0, NAPOT | R | W, napot(DATA, PAGE))
    set_entry(core, 1, NAPOT, napot(DATA + 0x100, 0x100))
    assert load(core, Priv.U, DATA + 0x100) is None


def test_an_access_that_matches_an_entry_in_part_fails(core):
    set_entry(core, 0, NA4 | R | W, (DATA + 4) >> 2)
    set_entry(core, 1, NAPOT | R | W, napot(DATA, PAGE))
    # Bytes DATA+2..DATA+5: entry 0 matches two of them, so entry 1 is never asked.
    assert load(core, Priv.U, DATA + 2) == (LOAD_ACCESS, DATA + 2)
    assert store(core, Priv.S, DATA + 6) == (STORE_ACCESS, DATA + 6)
    assert load(core, Priv.U, DATA + 8) is None
    # Irrespective of L: an M-mode access that matches in part fails as well.
    assert load(core, Priv.M, DATA + 2) == (LOAD_ACCESS, DATA + 2)
    assert load(core, Priv.M, DATA + 4) is None


# ---- the L bit

def test_a_locked_entry_ignores_writes_and_binds_m_mode(core):
    set_entry(core, 0, L | NAPOT | R, napot(DATA, PAGE))
    set_entry(core, 1, NAPOT | R | W, napot(DATA, 2 * PAGE))
    core.csr_write(PMPCFG0, 0x1F1F_1F1F)
    assert cfg_of(core, 0) == L | NAPOT | R                 # locked byte kept
    assert cfg_of(core, 1) == NAPOT | X | W | R             # the others written
    core.csr_write(PMPADDR0, 0)
    assert core.csr_read(PMPADDR0) == napot(DATA, PAGE)
    assert load(core, Priv.M, DATA) is None
    assert store(core, Priv.M, DATA) == (STORE_ACCESS, DATA)
    assert store(core, Priv.M, DATA + PAGE) is None          # not entry 0's
    # Fetches too: M may not run code where the locked entry denies X.
    core.write(DATA, rv.program([rv.addi(A0, 0, 1)]))
    assert run(core, [rv.jalr(0, T1, 0)], Priv.M, t1=DATA) == (FETCH_ACCESS, DATA)


def test_a_locked_tor_entry_also_locks_the_pmpaddr_below_it(core):
    core.csr_write(PMPADDR0, DATA >> 2)
    set_entry(core, 1, L | TOR | R, (DATA + PAGE) >> 2)
    core.csr_write(PMPADDR0, 0)
    core.csr_write(PMPADDR0 + 1, 0)
    core.csr_write(PMPADDR0 + 2, 0x1234)
    assert [core.csr_read(PMPADDR0 + i) for i in range(3)] == [
        DATA >> 2, (DATA + PAGE) >> 2, 0x1234]
    assert store(core, Priv.M, DATA) == (STORE_ACCESS, DATA)
    # A locked entry that is not TOR leaves the pmpaddr below it alone.
    set_entry(core, 3, L | NA4 | R, 0)
    core.csr_write(PMPADDR0 + 2, 0x5678)
    assert core.csr_read(PMPADDR0 + 2) == 0x5678


# ---- MPRV, the page walk, devices

def test_mprv_checks_m_mode_loads_and_stores_as_mpp(core):
    set_entry(core, 0, NAPOT | R, napot(DATA, PAGE))
    for mpp, expected in ((Priv.U, (STORE_ACCESS, DATA)), (Priv.S, (STORE_ACCESS, DATA)),
                          (Priv.M, None)):
        core.csr_write(MSTATUS, MSTATUS_MPRV | mpp << MSTATUS_MPP_SHIFT)
        assert store(core, Priv.M, DATA) == expected
        assert load(core, Priv.M, DATA) is None
    # Fetches stay M-mode's own: the code page is X only, to S and U.
    core.csr_write(MSTATUS, MSTATUS_MPRV | Priv.U << MSTATUS_MPP_SHIFT)
    assert load(core, Priv.M, DATA + PAGE) == (LOAD_ACCESS, DATA + PAGE)


ROOT = RAM_BASE + 0x20000       # the root page table
LEVEL0 = RAM_BASE + 0x21000     # the level-0 table that maps VA
VA = 0x4000_0000
PTE_V, PTE_RWX, PTE_AD = 0x01, 0x0E, 0xC0


def pte(pa, flags):
    return ((pa >> 12) << 10 | flags).to_bytes(4, "little")


def page_tables(core, leaf_flags):
    """Sv32 on: CODE's megapage mapped to itself (a leaf in ROOT), and VA through
    LEVEL0 to DATA with leaf_flags; PMP lets S read ROOT. The address of VA's
    leaf PTE."""
    core.write(ROOT + (CODE >> 22) * 4, pte(CODE, PTE_V | PTE_RWX | PTE_AD))
    core.write(ROOT + (VA >> 22) * 4, pte(LEVEL0, PTE_V))
    leaf = LEVEL0 + ((VA >> 12) & 0x3FF) * 4
    core.write(leaf, pte(DATA, leaf_flags))
    core.csr_write(SATP, 0x8000_0000 | ROOT >> 12)
    set_entry(core, 14, NAPOT | R, napot(ROOT, PAGE))
    return leaf


def test_a_page_table_that_pmp_denies_raises_the_original_access_fault(core):
    page_tables(core, PTE_V | PTE_RWX | PTE_AD)
    set_entry(core, 0, NAPOT | R | W | X, napot(DATA, PAGE))
    set_entry(core, 1, NAPOT, napot(LEVEL0, PAGE))                  # LEVEL0: nothing
    assert load(core, Priv.S, VA) == (LOAD_ACCESS, VA)
    assert store(core, Priv.S, VA + 4) == (STORE_ACCESS, VA + 4)
    assert run(core, [rv.jalr(0, T1, 0)], Priv.S, t1=VA) == (FETCH_ACCESS, VA)
    # Readable, the walk succeeds: it is checked as S-mode's, even for U's access.
    set_entry(core, 1, NAPOT | R, napot(LEVEL0, PAGE))
    assert load(core, Priv.S, VA) is None
    # The root's read is checked too (from M through MPRV: S could not fetch).
    set_entry(core, 14, NAPOT, napot(ROOT, PAGE))
    core.csr_write(MSTATUS, MSTATUS_MPRV | Priv.S << MSTATUS_MPP_SHIFT)
    assert load(core, Priv.M, VA) == (LOAD_ACCESS, VA)


def test_setting_a_and_d_is_a_store_that_pmp_checks(core):
    leaf = page_tables(core, PTE_V | PTE_RWX)                      # A = D = 0
    set_entry(core, 0, NAPOT | R | W, napot(DATA, PAGE))
    set_entry(core, 1, NAPOT | R, napot(LEVEL0, PAGE))             # read-only
    assert load(core, Priv.S, VA) == (LOAD_ACCESS, VA)
    assert store(core, Priv.S, VA) == (STORE_ACCESS, VA)
    assert core.read(leaf, 4)[0] == PTE_V | PTE_RWX                 # unchanged
    set_entry(core, 1, NAPOT | R | W, napot(LEVEL0, PAGE))
    assert store(core, Priv.S, VA) is None
    assert core.read(leaf, 4)[0] == PTE_V | PTE_RWX | PTE_AD


def test_device_accesses_are_checked_before_the_device_sees_them(core):
    core.mmio_add(0x1000_1000, 0x1000)
    assert store(core, Priv.U, UART, rv.sb) == (STORE_ACCESS, UART)
    assert load(core, Priv.S, 0x0200_BFF8) == (LOAD_ACCESS, 0x0200_BFF8)     # mtime
    assert load(core, Priv.U, 0x1000_1000) == (LOAD_ACCESS, 0x1000_1000)     # no MMIO exit
    assert core.uart_take() == b""
    set_entry(core, 0, NAPOT | R | W, napot(UART, PAGE))
    assert store(core, Priv.U, UART, rv.sb) is None
    assert core.uart_take() == b"\x78"
    # Below RAM, in no device and no entry: PMP's fault comes first either way.
    assert load(core, Priv.U, 0x100) == (LOAD_ACCESS, 0x100)


def test_atomics_need_write_permission(core):
    set_entry(core, 0, NAPOT | R, napot(DATA, PAGE))
    assert run(core, [rv.amoadd_w(T0, T2, T1)], Priv.U, t1=DATA) == (STORE_ACCESS, DATA)
    assert run(core, [rv.lr_w(T0, T1)], Priv.U, t1=DATA) is None
    assert run(core, [rv.sc_w(T0, T2, T1)], Priv.U, t1=DATA) == (STORE_ACCESS, DATA)


# ---- caching

def test_a_page_in_the_tlb_is_denied_right_after_a_pmpcfg_write(core):
    set_entry(core, 0, NAPOT | R | W, napot(DATA, PAGE))
    assert load(core, Priv.U, DATA) is None and store(core, Priv.U, DATA) is None
    set_entry(core, 0, NAPOT | R)
    assert store(core, Priv.U, DATA) == (STORE_ACCESS, DATA)
    assert load(core, Priv.U, DATA) is None
    core.csr_write(PMPADDR0, napot(DATA + PAGE, PAGE))      # a pmpaddr write too
    assert load(core, Priv.U, DATA) == (LOAD_ACCESS, DATA)


def test_a_page_granted_in_part_never_enters_the_tlb(core):
    set_entry(core, 0, NAPOT | R, napot(DATA, PAGE // 2))
    prog = [rv.lw(T0, 0, T1), rv.lw(T0, 0, T2)]             # the same page twice
    assert run(core, prog, Priv.U, t1=DATA, t2=DATA + PAGE // 2) == (
        LOAD_ACCESS, DATA + PAGE // 2)
    assert core.exit.pc == CODE + 4


def test_the_pmp_state_is_saved_and_restored_with_the_machine(core):
    set_entry(core, 0, L | NAPOT | R, napot(DATA, PAGE))
    state = core.state_save()
    fresh = Core(1 << 20)
    fresh.set_host_mmode(True)
    fresh.state_load(state)
    assert [fresh.csr_read(PMPCFG0 + n) for n in range(4)] == [
        core.csr_read(PMPCFG0 + n) for n in range(4)]
    assert [fresh.csr_read(PMPADDR0 + i) for i in range(16)] == [
        core.csr_read(PMPADDR0 + i) for i in range(16)]
    assert store(fresh, Priv.M, DATA) == (STORE_ACCESS, DATA)       # still binds M


# ---- the property: the core against a model of section 3.7.1

def model_range(cfgs, addrs, i):
    """[lo, hi) of entry i, or None."""
    mode = (cfgs[i] >> 3) & 3
    if mode == 1:
        lo, hi = (addrs[i - 1] << 2 if i else 0), addrs[i] << 2
        return (lo, hi) if lo < hi else None
    if mode == 2:
        return addrs[i] << 2, (addrs[i] << 2) + 4
    if mode == 3:
        ones = 0
        while ones < 32 and addrs[i] >> ones & 1:
            ones += 1
        base = (addrs[i] >> ones << ones) << 2
        return base, base + (1 << (ones + 3))
    return None


def model_allows(cfgs, addrs, pa, size, access, priv):
    for i in range(16):
        span = model_range(cfgs, addrs, i)
        if span is None or pa + size <= span[0] or pa >= span[1]:
            continue
        if pa < span[0] or pa + size > span[1]:
            return False
        if priv == Priv.M and not cfgs[i] & L:
            return True
        return bool(cfgs[i] & (R, W, X)[access])
    return priv == Priv.M


def model_warl(cfg):
    cfg &= 0x9F
    return cfg if cfg & R else cfg & ~W


REGION = RAM_BASE >> 2
# pmpaddr values that make entries overlap and share bounds: a few bases near RAM,
# with NAPOT sizes from 8 bytes to 64 KiB, and now and then any value at all.
pmpaddrs = st.one_of(
    st.builds(lambda base, ones: (REGION + base * 0x100) | ((1 << ones) - 1),
              st.integers(0, 7), st.integers(0, 14)),
    st.integers(0, 0xFFFF_FFFF))
cfgs = st.integers(0, 0xFF)


@settings(max_examples=300, deadline=None)
@given(addrs=st.lists(pmpaddrs, min_size=16, max_size=16),
       bytes_=st.lists(cfgs, min_size=16, max_size=16),
       rewrite=st.lists(st.integers(0, 0xFFFF_FFFF), min_size=16, max_size=16),
       probes=st.lists(st.tuples(st.integers(-8, 0x9000), st.sampled_from([1, 2, 4, 8, PAGE]),
                                 st.sampled_from(list(Access)), st.sampled_from(list(Priv)),
                                 st.integers(0, 15)),
                       min_size=1, max_size=40))
def test_pmp_matches_a_model_of_the_spec(addrs, bytes_, rewrite, probes):
    core = Core(PAGE)
    for i, addr in enumerate(addrs):
        core.csr_write(PMPADDR0 + i, addr)
    for n in range(4):
        core.csr_write(PMPCFG0 + n, int.from_bytes(bytes(bytes_[4 * n:4 * n + 4]), "little"))
    cfg = [model_warl(b) for b in bytes_]
    assert [cfg_of(core, i) for i in range(16)] == cfg
    # Writes to the pmpaddr of a locked entry, or below a locked TOR entry, are lost.
    for i, addr in enumerate(rewrite):
        core.csr_write(PMPADDR0 + i, addr)
        locked = cfg[i] & L or (i < 15 and cfg[i + 1] & L and (cfg[i + 1] >> 3) & 3 == 1)
        if not locked:
            addrs[i] = addr
    assert [core.csr_read(PMPADDR0 + i) for i in range(16)] == addrs
    for offset, size, access, priv, entry in probes:
        # Near the bounds of some entry (or of its upper neighbour's TOR range).
        span = model_range(cfg, addrs, entry) or (addrs[entry] << 2, 0)
        pa = min(max(span[0] + offset, 0), (1 << 34) - size)
        assert core.pmp_allows(pa, size, access, priv) == \
            model_allows(cfg, addrs, pa, size, access, priv), (hex(pa), size, access, priv)
        pa = min(max(span[1] - offset, 0), (1 << 34) - size)
        assert core.pmp_allows(pa, size, access, priv) == \
            model_allows(cfg, addrs, pa, size, access, priv), (hex(pa), size, access, priv)
