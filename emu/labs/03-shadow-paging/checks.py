"""Lab 03's checks: the student's shadow pager (my_pager.py), run by the
hypervisor of my_hv.py on this folder's guests, against their bare runs."""
from __future__ import annotations

from pathlib import Path

import emu.hv.memory as memory
from emu.core import Access, Priv
from emu.hv import EndReason, GuestConfig, Hypervisor
from emu.hv.hypervisor import DEFAULT_SHADOW_PAGES
from emu.hv.memory import (MEGAPAGE, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X,
                           ShadowPager, shadow_contents)
from emu.labs import CheckFailed, LabSpec, Work, check
from emu.labs.kit import MEM, bare_state, diff, hv_state, student_hypervisor

LAB = LabSpec(
    title="Shadow paging",
    goal="Shadow page tables for a trap-and-emulate hypervisor: the guest's Sv32 walk, "
         "the rights of its pages, fills and fences.",
    files=("my_pager.py", "my_hv.py"),
    stubs=("emu.hv.memory:pte_allows",
           "emu.hv.memory:ShadowPager.walk",
           "emu.hv.memory:ShadowPager.permissions",
           "emu.hv.memory:ShadowPager.fill",
           "emu.hv.memory:ShadowPager.flush",
           "emu.hv.memory:ShadowPager.flush_address"),
)

# The guests the checks run: this folder's, whatever the student's copies hold.
GUESTS = Path(__file__).resolve().parent / "guests"
HV = "emu hv --hypervisor my_hv.py:MyHypervisor"
MAX_INSNS = 50_000_000          # every guest here ends long before


# ---- running guests

def program(work: Work, name: str):
    return work.assemble(GUESTS / f"{name}.S")


def reproduce(name: str, mem: str = "") -> str:
    """The commands that show a run of one guest: bare, then the student's."""
    option = f" --mem {mem}" if mem else ""
    bare = f"emu run --boot s{option or ' --mem 16M'} guests/{name}.S"
    return f"{bare}; {HV}{option} guests/{name}.S"


def run_guests(cls: type[Hypervisor], programs: dict, mem: int = MEM,
               quantum: int = 100_000) -> Hypervisor:
    configs = [GuestConfig(name, prog, mem) for name, prog in programs.items()]
    hv = cls(configs, quantum=quantum, max_insns=MAX_INSNS)
    hv.run()
    return hv



def must_equal_bare(guest, bare: dict, command: str, lines: int = 0) -> None:
    """The guest ended as its bare run did (console, registers, CSRs, RAM);
    with lines, only the console's first that many lines are compared."""
    want = bare["output"].decode(errors="replace").splitlines()
    got = bytes(guest.console.data).decode(errors="replace").splitlines()
    if lines:
        want, got = want[:lines], got[:lines]
    same = next((i for i, (w, g) in enumerate(zip(want, got)) if w != g), min(len(want), len(got)))
    expected = want[same] if same < len(want) else "(nothing more)"
    printed = got[same] if same < len(got) else "(nothing more)"
    if guest.end.reason is EndReason.CRASH:
        raise CheckFailed(f"guest {guest.name} was stopped by the hypervisor: "
                          f"{guest.end.message}\nit printed what its bare run prints up to "
                          f"line {same}; then", expected=expected, got=printed, reproduce=command)
    if (want[same:] or got[same:]):
        raise CheckFailed(f"guest {guest.name} printed something else than its bare run, at "
                          f"line {same + 1}", expected=expected, got=printed, reproduce=command)
    if lines:
        return
    state = hv_state(guest)
    if state != bare:
        raise CheckFailed(f"guest {guest.name} printed the same as its bare run but ended in "
                          "another state (bare vs yours):\n" +
                          "\n".join(diff(bare, state).splitlines()[:8]), reproduce=command)


def equal_to_bare(work: Work, name: str, mem: int = MEM) -> Hypervisor:
    """Run one guest under the student's hypervisor; it must end as bare."""
    prog = program(work, name)
    bare = bare_state(prog, max_insns=MAX_INSNS, mem=mem)
    hv = run_guests(student_hypervisor(work), {name: prog}, mem)
    size = "" if mem == MEM else f"{mem >> 20}M"
    must_equal_bare(hv.guests[0], bare, reproduce(name, size))
    return hv


# ---- looking at the shadow tables

def audit(pager) -> str | None:
    """What is wrong with a guest's shadow tables now, if anything: every table
    must be a frame of its pool in use (not free), each used once, and every
    leaf must map host memory inside the guest's own RAM."""
    tables, leaves = shadow_contents(pager)
    for table in tables:
        problem = bad_table(pager, table)
        if problem:
            return problem
    if len(set(tables)) != len(tables):
        return "a frame of the pool is used as two shadow tables at once"
    for leaf in leaves:
        problem = bad_leaf(pager, leaf.key, leaf.va, leaf.frame, leaf.size)
        if problem:
            return problem
    return None


def bad_table(pager, table: int) -> str | None:
    if table not in pager.frames:
        return f"a shadow table at host {table:#x} is not a frame of the guest's pool"
    if table in pager.free:
        return (f"the shadow table at host {table:#x} is on the pool's free list: "
                "alloc_table() may hand it out again")
    return None


def bad_leaf(pager, key: tuple, va: int, frame: int, size: int) -> str | None:
    low, high = pager.ram.host_base, pager.ram.host_base + pager.ram.size
    if low <= frame and frame + size <= high:
        return None
    return (f"in the shadow root for {context_name(key)}, va {va:#010x} maps host "
            f"{frame:#x}-{frame + size - 1:#x}, outside the guest's RAM (host "
            f"{low:#x}-{high - 1:#x})")


def audit_fill(pager, hart, va: int) -> str | None:
    """What is wrong with the shadow mapping of va that a fill just made: its
    table and its frame (cheap enough to do after every fill)."""
    key = ShadowPager.root_key(hart)
    root = pager.roots.get(key)
    if root is None:
        return None
    problem = bad_table(pager, root)
    if problem:
        return problem
    entry = word(pager, root + 4 * (va >> 22))
    if not entry & PTE_V:
        return None
    if entry & (PTE_R | PTE_W | PTE_X):
        return bad_leaf(pager, key, va & ~(MEGAPAGE - 1), (entry >> 10) << 12, MEGAPAGE)
    table = (entry >> 10) << 12
    problem = bad_table(pager, table)
    if problem:
        return problem
    leaf = word(pager, table + 4 * ((va >> 12) & 0x3FF))
    if not leaf & PTE_V:
        return None
    return bad_leaf(pager, key, va & ~0xFFF, (leaf >> 10) << 12, 0x1000)


def word(pager, hpa: int) -> int:
    return int.from_bytes(pager.core.read(hpa, 4), "little")


def context_name(key: tuple) -> str:
    if key == ("bare",):
        return "guest paging off"
    priv, sum_, mxr = key
    mode = "virtual U" if priv == Priv.U else f"virtual S, SUM={int(sum_)}"
    return f"{mode}, MXR={int(mxr)}"


def audited(cls: type[Hypervisor]) -> tuple[type[Hypervisor], list[tuple]]:
    """cls, with the mapping each fill makes audited; the first problem found is
    kept in the list, with the pager that has it."""
    problems: list[tuple] = []

    class AuditedPager(cls.pager_class):
        def fill(self, hart, va, walk):
            super().fill(hart, va, walk)
            if not problems:
                problem = audit_fill(self, hart, va)
                if problem:
                    problems.append((self, f"after the fill of va {va:#010x}: {problem}"))

    class Audited(cls):
        pager_class = AuditedPager

    return Audited, problems


# ---- the checks

LEAVES = [r | w | x | u for u in (0, PTE_U) for r, w, x in
          ((PTE_R, 0, 0), (PTE_R, PTE_W, 0), (0, 0, PTE_X), (PTE_R, 0, PTE_X),
           (PTE_R, PTE_W, PTE_X))]


def flags(pte: int) -> str:
    return " ".join(name for bit, name in ((PTE_V, "V"), (PTE_R, "R"), (PTE_W, "W"),
                                           (PTE_X, "X"), (PTE_U, "U")) if pte & bit)


@check(points=10)
def permission_rule(work: Work):
    """pte_allows gives each access what the spec does (R/W/X/U, SUM, MXR)"""
    student = work.load("my_pager.py", "pte_allows")
    cases = [(PTE_V | PTE_A | PTE_D | leaf, access, priv, sum_, mxr) for leaf in LEAVES
             for access in (Access.LOAD, Access.STORE, Access.FETCH)
             for priv in (Priv.S, Priv.U) for sum_ in (False, True) for mxr in (False, True)]
    with work.reference():
        expected = [memory.pte_allows(*case) for case in cases]
    wrong = []
    for case, want in zip(cases, expected):
        got = student(*case)
        if bool(got) != want:
            wrong.append((case, want, got))
    if wrong:
        (pte, access, priv, sum_, mxr), want, got = wrong[0]
        raise CheckFailed(
            f"{len(wrong)} of {len(cases)} cases are wrong; the first: pte_allows(pte = "
            f"{flags(pte)}, {access.name.lower()}, priv {priv.name}, sum_={sum_}, mxr={mxr})",
            expected=want, got=got)
    return f"all {len(cases)} cases right"


@check(points=10)
def walk_faults(work: Work):
    """The guest's walk faults where the hardware's does (faults.S)"""
    equal_to_bare(work, "faults")


@check(points=10)
def accessed_dirty(work: Work):
    """A and D are set in the guest's PTEs as the hardware sets them (ad.S)"""
    equal_to_bare(work, "ad")


@check(points=10)
def user_sum_mxr(work: Work):
    """U pages, SUM and MXR: each context gets the rights it has (sum-mxr.S)"""
    equal_to_bare(work, "sum-mxr")


@check(points=10)
def megapages(work: Work):
    """Megapages map 4 MiB, as one shadow megapage only when all of it is RAM (megapage.S)"""
    mem = 6 << 20
    hv = equal_to_bare(work, "megapage", mem)
    with work.reference():
        reference = run_guests(Hypervisor, {"megapage": program(work, "megapage")}, mem)
    fills, most = hv.guests[0].pager.fills, reference.guests[0].pager.fills
    if fills > most:
        raise CheckFailed(
            "the guest ran right, but with more shadow fills than needed: a guest megapage "
            "that is all RAM should be one shadow megapage, filled once per context",
            expected=f"at most {most} shadow fills", got=f"{fills}",
            reproduce=f"{HV} --mem 6M --stats guests/megapage.S")
    return f"{fills} shadow fills"


@check(points=10)
def sample_os(work: Work):
    """The sample OS (two processes, each its own table, satp switches) runs as bare (os.S)"""
    hv = equal_to_bare(work, "os")
    return f"{hv.guests[0].pager.fills} shadow fills"


@check(points=15)
def no_stale_mapping(work: Work):
    """No stale mapping survives SFENCE.VMA or a satp write (remap.S)"""
    equal_to_bare(work, "remap")


@check(points=10)
def shadow_budget(work: Work):
    """The shadow pool is a budget: full, it is recycled, and the guest goes on (many.S)"""
    prog = program(work, "many")
    bare = bare_state(prog, max_insns=MAX_INSNS)
    cls, problems = audited(student_hypervisor(work))
    with work.reference():
        reference = run_guests(Hypervisor, {"many": prog}).guests[0].pager.recycles
    notes = []
    for pages in (DEFAULT_SHADOW_PAGES, 3):
        sized = type("Sized", (cls,), {"shadow_pages": pages})
        guest = run_guests(sized, {"many": prog}).guests[0]
        command = reproduce("many") if pages == DEFAULT_SHADOW_PAGES else \
            f"{reproduce('many')}   (with shadow_pages = {pages} in MyHypervisor)"
        must_equal_bare(guest, bare, command)
        problem = None if problems else audit(guest.pager)
        if problem:
            problems.append((guest.pager, f"at the end of the run: {problem}"))
        if problems:
            raise CheckFailed(f"with a pool of {pages} pages, {problems[0][1]}",
                              reproduce=command)
        if pages == DEFAULT_SHADOW_PAGES:
            recycles = guest.pager.recycles
            if recycles > 2 * reference + 2:
                raise CheckFailed(
                    "the pool ran out far more often than it must: does fill allocate a new "
                    "second-level table when the root entry already points to one?",
                    expected=f"about {reference} recycles of the pool",
                    got=f"{recycles}", reproduce=f"{HV} --stats guests/many.S")
            notes.append(f"{recycles} recycles with {pages} pages")
    return ", ".join(notes)


@check(points=10)
def isolation(work: Work):
    """Adversarial guests find nothing outside their own memory (adv-secret, adv-probe)"""
    names = ["adv-secret", "adv-probe", "adv-secret-2"]
    programs = {name: program(work, name) for name in names}
    bare = {name: bare_state(prog, max_insns=MAX_INSNS) for name, prog in programs.items()}
    cls, problems = audited(student_hypervisor(work))
    hv = run_guests(cls, programs, quantum=10_000)
    command = f"{HV} --quantum 10000 " + " ".join(f"guests/{n}.S" for n in names)
    for guest in hv.guests:
        problem = None if problems else audit(guest.pager)
        if problem:
            problems.append((guest.pager, f"at the end of the run: {problem}"))
    if problems:
        pager, problem = problems[0]
        name = next(guest.name for guest in hv.guests if guest.pager is pager)
        raise CheckFailed(f"the shadow tables give guest {name} what is not its own: {problem}",
                          reproduce=command)
    for guest in hv.guests:
        if guest.name == "adv-probe":
            # Past its summary line it reads the bare board's own devices,
            # which a guest does not have (docs/hypervisor.md section 4).
            summary = next(i for i, line in enumerate(bare[guest.name]["output"].splitlines())
                           if b"probes faulted" in line)
            must_equal_bare(guest, bare[guest.name], command, lines=summary + 1)
        else:
            must_equal_bare(guest, bare[guest.name], command)


@check(points=5)
def side_by_side(work: Work):
    """Paging guests side by side, switched every few hundred instructions, each run as bare"""
    names = ["os", "remap", "sum-mxr", "ad", "many"]
    programs = {name: program(work, name) for name in names}
    hv = run_guests(student_hypervisor(work), programs, quantum=301)
    command = f"{HV} --quantum 301 " + " ".join(f"guests/{n}.S" for n in names)
    for guest in hv.guests:
        must_equal_bare(guest, bare_state(programs[guest.name], max_insns=MAX_INSNS), command)
