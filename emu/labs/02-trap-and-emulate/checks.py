"""Lab 02, trap and emulate: the checks.

Two kinds. The guest checks run whole kernels (the lab's guests/, the samples
and the generated ones) under the student's hypervisor and compare what the
guest can see at the end with its bare `emu run --boot s` run: Popek and
Goldberg's equivalence. The call checks take every call the reference
hypervisor makes to a method of the lab while it runs those kernels, with
the virtual hart and registers as they were before it, make the same call on
the student's method from the same state, and compare what each did: the
Action, every field of the virtual hart, the registers, the shadows dropped,
the time the guest blocks for. A call check therefore grades one method
alone, whatever the others do."""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Callable, NamedTuple

from emu.asm.command import load_source
from emu.core import Priv
from emu.disasm import disassemble
from emu.elf import Program
from emu.errors import describe_error
from emu.hv import Action, GuestConfig, Hypervisor, Outcome
from emu.hv.vcpu import VirtualHart
from emu.isa import cause_name
from emu.isa.instructions import ABI_NAMES
from emu.labs import CheckFailed, LabSpec, Work, check, kit
from emu.labs.work import LabStub

LAB = LabSpec(
    title="Trap and emulate",
    goal="Emulate a guest kernel's CSR accesses, SRET, WFI and SFENCE.VMA, and deliver "
         "its traps, exactly as the hardware would.",
    files=("my_hv.py",),
    stubs=("emu.hv.emulate:ExitHandlers.emulate_csr",
           "emu.hv.emulate:ExitHandlers.emulate_sret",
           "emu.hv.emulate:ExitHandlers.emulate_wfi",
           "emu.hv.emulate:ExitHandlers.emulate_sfence_vma",
           "emu.hv.emulate:ExitHandlers.reflect",
           "emu.hv.vcpu:VirtualHart.enter_trap",
           "emu.hv.vcpu:VirtualHart.sret"),
)

LAB_DIR = Path(__file__).resolve().parent
LIMIT = 400_000                 # instructions: every guest here ends before (os.S, the
                                # longest, after 110,000); a runaway is cut short
SAMPLES = ("guests/ticks.S", "guests/os.S")
DIRECTED = ("guests/traps.S", "guests/csrs.S", "guests/sleep.S", "guests/remap.S",
            "guests/adv-mcsr.S")
GENERATED = tuple(f"generated/{p.name}"
                  for p in sorted((LAB_DIR / "generated").glob("gen-*.S")))
EVERY_GUEST = DIRECTED + SAMPLES + ("guests/forever.S",) + GENERATED
HV = "emu hv --hypervisor my_hv.py:MyHypervisor"
BARE = "emu run --boot s --mem 16M"

_programs: dict[str, Program] = {}


def program(relative: str) -> Program:
    """A guest of the lab folder, assembled once per check: the lab's own copy,
    whatever the student's directory holds."""
    if relative not in _programs:
        _programs[relative] = load_source(LAB_DIR / relative)
    return _programs[relative]



def run(work: Work, cls: type[Hypervisor], paths: tuple[str, ...], **options) -> Hypervisor:
    """The guests side by side under cls, to their end. An exception that escapes
    the student's hypervisor (from enter_trap, say) fails the check."""
    try:
        return kit.run_hv([program(p) for p in paths], cls=cls, max_insns=LIMIT, **options)
    except LabStub:
        raise
    except Exception as error:
        raise CheckFailed(f"your hypervisor raised {describe_error(error, work.root)} while "
                          f"running {', '.join(paths)}",
                          reproduce=f"{HV} {' '.join(paths)}") from None


# ---- the guest checks: equal to the bare run

def assert_equals_bare(work: Work, paths: tuple[str, ...]) -> str:
    cls = kit.student_hypervisor(work)
    for path in paths:
        bare = kit.bare_state(program(path), max_insns=LIMIT)
        virtual = run(work, cls, (path,)).guests[0]
        state = kit.hv_state(virtual)
        if state == bare:
            continue
        found = kit.differences(bare, state)
        lines = [f"{path} under your hypervisor does not end as its bare run does:"]
        shown = 8
        if virtual.end and virtual.end.reason.value == "crash" and bare["stop"] != "crash":
            lines.append(f"your hypervisor stopped it: {virtual.end.message}")
            shown = 2           # the stop and the output: the rest follows from them
        lines += [f"  {what}: bare {v}, yours {w}" for what, v, w in found[:shown]]
        if len(found) > shown:
            lines.append(f"  ... and {len(found) - shown} more differences")
        what, v, w = found[0]
        raise CheckFailed("\n".join(lines), expected=f"{what} = {v}", got=f"{what} = {w}",
                          reproduce=f"{HV} {path}   and   {BARE} {path}")
    return (f"{len(paths)} guests end as their bare runs do" if len(paths) > 1
            else f"{paths[0]} ends as its bare run does")


# ---- the call checks: each method, from the reference's own states

HART_FIELDS = tuple(f.name for f in dataclasses.fields(VirtualHart) if f.name != "saved")
SSTATUS_BITS = ((1 << 19, "MXR"), (1 << 18, "SUM"), (1 << 8, "SPP"), (1 << 5, "SPIE"),
                (1 << 1, "SIE"))


class Call(NamedTuple):
    """One call the reference made: to which method, with what, from what state,
    and what it did. (Not a dataclass: a checks.py is not in sys.modules.)"""
    guest: str
    method: str
    args: tuple
    hart: VirtualHart
    x: tuple
    effect: dict


def perform(function: Callable, hv: Hypervisor, guest, args: tuple) -> tuple:
    """Call a method on a guest and observe what it did: the result, the hart's
    fields and the registers after, the shadows dropped, the time blocked."""
    pager, dropped = guest.pager, []
    flush, flush_address = pager.flush, pager.flush_address

    def flush_all():
        dropped.append(None)
        flush()

    def flush_one(va):
        dropped.append(va & 0xFFFF_FFFF)
        flush_address(va)
    pager.flush, pager.flush_address = flush_all, flush_one
    guest.blocked_for = 0
    try:
        result = function(guest, *args)
    finally:
        del pager.flush, pager.flush_address
    x = hv.core.x
    effect = {"result": describe_result(result)}
    effect.update((name, getattr(guest.hart, name)) for name in HART_FIELDS)
    effect.update((ABI_NAMES[i], x[i]) for i in range(1, 32))
    effect["dropped"] = "all" if None in dropped else frozenset(va >> 12 for va in dropped)
    effect["blocked_for"] = guest.blocked_for
    return result, effect


def describe_result(result) -> str:
    if isinstance(result, Action):
        outcome = result.outcome
        if outcome is Outcome.INJECT:
            return f"inject {cause_name(result.cause)}, stval {result.tval:#x}"
        if outcome is Outcome.JUMP:
            return f"jump to {result.target:#010x}"
        if outcome is Outcome.NEXT:
            return "next (continue at pc + 4)"
        if outcome is Outcome.STOP:
            return "stop the guest"
        return outcome.value
    if isinstance(result, int):
        return f"continue at {result & 0xFFFF_FFFF:#010x}"
    return f"{result!r}, which is not an Action"


def record(work: Work, methods: tuple[str, ...],
           paths: tuple[str, ...] = EVERY_GUEST) -> list[Call]:
    """The reference hypervisor's calls to `methods` while it runs the guests."""
    calls: list[Call] = []

    class Recorder(Hypervisor):
        path = ""

    def recorded(method: str):
        def wrapper(self, guest, *args):
            hart, x = copy.copy(guest.hart), tuple(self.core.x)
            args = tuple(dict(a) if isinstance(a, dict) else a for a in args)
            original = getattr(super(Recorder, self), method)
            result, effect = perform(original, self, guest, args)
            calls.append(Call(self.path, method, args, hart, x, effect))
            return result
        return wrapper
    for method in methods:
        setattr(Recorder, method, recorded(method))
    with work.reference():
        for path in paths:
            Recorder.path = path
            kit.run_hv([program(path)], cls=Recorder, max_insns=LIMIT)
    return calls


def differing(expected: dict, got: dict) -> list[str]:
    keys = [k for k in expected if k != "dropped" and expected[k] != got[k]]
    want, done = expected["dropped"], got["dropped"]
    # Dropping more shadows than needed is correct, only slower (the exit counts
    # see it); dropping fewer leaves the guest a stale translation.
    if done != "all" and (want == "all" or not want <= done):
        keys.append("dropped")
    return keys


def replay(work: Work, calls: list[Call]) -> str:
    """Make each call on the student's hypervisor from the reference's state
    before it; fail with the first that does something else."""
    cls = kit.student_hypervisor(work)
    hv = cls([GuestConfig("replay", program("guests/hello.S"), kit.MEM)])
    replica = hv.guests[0]
    failures = []
    for call in calls:
        replica.hart = copy.copy(call.hart)
        x = hv.core.x
        for i in range(1, 32):
            x[i] = call.x[i]
        try:
            _, effect = perform(getattr(hv, call.method), hv, replica, call.args)
        except LabStub:
            raise
        except Exception as error:
            failures.append((call, {"result": f"raised {describe_error(error, work.root)}"},
                             ["result"]))
            continue
        keys = differing(call.effect, effect)
        if keys:
            failures.append((call, effect, keys))
    if not calls:
        raise CheckFailed("the reference made no such call: the lab's guests are missing")
    if failures:
        call, got, keys = failures[0]
        methods = " and ".join(sorted({c.method for c in calls}))
        raise CheckFailed(
            f"{situation(call)}\n{len(failures)} of the {len(calls)} calls to {methods} "
            "that the reference hypervisor made running the lab's guests do something "
            "else in yours, made from the same state; this is the first.",
            expected=changes(call.effect, keys), got=changes(got, keys),
            reproduce=f"{HV} --trace-exits {call.guest}")
    return f"{len(calls)} calls, each as the reference's"


def situation(call: Call) -> str:
    """The call, and the state it was made in, in words."""
    hart = call.hart
    state = (f"in virtual {Priv(hart.priv).name}, sstatus {sstatus(hart.sstatus)}")
    if call.method == "enter_trap":
        cause, tval, pc = call.args
        return (f"enter_trap({cause_name(cause)}, tval {tval:#x}, pc {pc:#010x}) in "
                f"{call.guest}, {state}, stvec {hart.stvec:#010x}:")
    trap = call.args[0]
    text = " ".join(disassemble(trap.insn, trap.pc).split())
    if call.method == "reflect":
        what = f"{cause_name(trap.cause)} (tval {trap.tval:#x}) at pc {trap.pc:#010x}"
    else:
        what = f"`{text}` at pc {trap.pc:#010x}"
    extra = ""
    if call.method == "emulate_sret":
        extra = f", sepc {hart.sepc:#010x}"
    elif call.method == "emulate_wfi":
        extra = (f", sie {hart.sie:#x}, sip {hart.sip:#x}, time {hart.time}, timer "
                 + (f"armed for {hart.deadline}" if hart.armed else "not armed"))
    elif call.method == "emulate_csr":
        ops = call.args[1]
        if "rs1" in ops and ops["rs1"]:
            extra = f", {ABI_NAMES[ops['rs1']]} = {call.x[ops['rs1']]:#x}"
        if Priv(hart.priv) == Priv.U:
            extra += f", scounteren {hart.scounteren:#x}"
    elif call.method == "emulate_sfence_vma" and call.args[1].get("rs1"):
        rs1 = call.args[1]["rs1"]
        extra = f", {ABI_NAMES[rs1]} = {call.x[rs1]:#x}"
    return f"{call.method} for {what} in {call.guest}, {state}{extra}:"


def sstatus(value: int) -> str:
    names = [name for bit, name in SSTATUS_BITS if value & bit]
    return f"{value:#x} ({' '.join(names) or 'no bits set'})"


def changes(effect: dict, keys: list[str]) -> str:
    return "; ".join(f"{key} {show(key, effect.get(key))}" if key == "result"
                     else f"{key} = {show(key, effect.get(key))}" for key in keys)


def show(key: str, value) -> str:
    if key == "result":
        return str(value)
    if key == "priv":
        return Priv(value).name
    if key == "sstatus":
        return sstatus(value)
    if key == "dropped":
        return ("every shadow mapping" if value == "all" else
                ", ".join(f"the page at {page << 12:#x}" for page in sorted(value))
                or "nothing")
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) and key not in ("blocked_for", "steps", "retired",
                                              "time_offset", "deadline"):
        return f"{value:#x}"
    return str(value)


def calls_in(calls: list[Call], methods: tuple[str, ...], priv: Priv | None = None,
             where: Callable[[Call], bool] = lambda call: True) -> list[Call]:
    return [c for c in calls if c.method in methods
            and (priv is None or Priv(c.hart.priv) == priv) and where(c)]


# ---- the checks

@check(points=12)
def trap_entry(work: Work):
    """Trap entry: sepc, scause, stval, SPP, SPIE, SIE, privilege, stvec target

    Every exception reflected (reflect) and every trap delivered (enter_trap)
    leaves the virtual hart as the hardware's trap entry does, and continues at
    stvec's BASE, or BASE + 4 * cause for an interrupt in vectored mode."""
    calls = record(work, ("enter_trap", "reflect"))
    return replay(work, calls_in(calls, ("enter_trap", "reflect")))


@check(points=8)
def sret(work: Work):
    """SRET: pc = sepc, privilege = SPP, SIE = SPIE, SPIE = 1, SPP = U"""
    calls = record(work, ("emulate_sret",))
    return replay(work, calls_in(calls, ("emulate_sret",), Priv.S))


@check(points=12)
def csr_instructions(work: Work):
    """CSR instructions in virtual S: forms, x0 rules, masks, access rules, counters"""
    calls = record(work, ("emulate_csr",))
    return replay(work, calls_in(calls, ("emulate_csr",), Priv.S))


@check(points=8)
def user_mode(work: Work):
    """Virtual U: privileged instructions are illegal, counters follow scounteren

    S-mode CSRs, SRET, WFI and SFENCE.VMA in virtual U are illegal instructions
    with stval = the instruction's bits."""
    methods = ("emulate_csr", "emulate_sret", "emulate_wfi", "emulate_sfence_vma")
    return replay(work, calls_in(record(work, methods), methods, Priv.U))


@check(points=8)
def wfi(work: Work):
    """WFI sleeps to the timer and blocks, wakes at once, stops if nothing can wake it

    Time jumps to the deadline and the guest blocks for as long, so that the
    others run (guest.blocked_for); with an interrupt pending and enabled it
    returns at once; a guest whose WFI nothing can end is stopped, as
    guests/forever.S is on the bare board."""
    note = replay(work, calls_in(record(work, ("emulate_wfi",)), ("emulate_wfi",), Priv.S))
    return note + "; " + assert_equals_bare(work, ("guests/forever.S",))


@check(points=6)
def sfence(work: Work):
    """SFENCE.VMA and satp writes drop the stale shadow mappings

    All of them, or those of the one address SFENCE.VMA names."""
    calls = record(work, ("emulate_sfence_vma", "emulate_csr"))
    satp_writes = calls_in(calls, ("emulate_csr",), Priv.S,
                           lambda c: c.args[1]["csr"] == 0x180 and c.effect["dropped"])
    note = replay(work, calls_in(calls, ("emulate_sfence_vma",), Priv.S) + satp_writes)
    return note + "; " + assert_equals_bare(work, ("guests/remap.S",))


@check(points=8)
def ticks_equals_bare(work: Work):
    """guests/ticks.S (timer interrupts, WFI) ends as its bare run does"""
    return assert_equals_bare(work, ("guests/ticks.S",))


@check(points=10)
def os_equals_bare(work: Work):
    """guests/os.S (processes, system calls, paging) ends as its bare run does"""
    return assert_equals_bare(work, ("guests/os.S",))


@check(points=8)
def directed_equal_bare(work: Work):
    """traps, csrs, sleep, remap and adv-mcsr end as their bare runs do"""
    return assert_equals_bare(work, DIRECTED)


@check(points=12)
def generated_equal_bare(work: Work):
    """The kernels in generated/ end as their bare runs do"""
    return assert_equals_bare(work, GENERATED)


@check(points=8)
def exit_counts(work: Work):
    """Exits per reason and interrupts injected equal the reference's"""
    def counts(hv: Hypervisor) -> dict[str, int]:
        stats = hv.guests[0].stats
        found = {reason: e.count for reason, e in stats.exits.items()}
        found.update((f"{name} injected", n) for name, n in stats.injected.items())
        return found
    cls = kit.student_hypervisor(work)
    for path in EVERY_GUEST:
        with work.reference():
            reference = kit.run_hv([program(path)], max_insns=LIMIT)
        yours = run(work, cls, (path,))
        expected, got = counts(reference), counts(yours)
        if got != expected:
            keys = sorted(set(expected) | set(got))
            lines = [f"  {k}: reference {expected.get(k, 0)}, yours {got.get(k, 0)}"
                     for k in keys if expected.get(k, 0) != got.get(k, 0)]
            end, reference_end = yours.guests[0].end, reference.guests[0].end
            if end and end.reason.value == "crash" and reference_end.reason.value != "crash":
                lines.insert(0, f"your hypervisor stopped it: {end.message}")
            elif len(lines) == 1 and "shadow fill" in lines[0]:
                lines.append("(only the shadow fills: your hypervisor drops more shadow "
                             "mappings than it must, or fewer)")
            raise CheckFailed(
                f"{path}: the exits by reason differ from the reference hypervisor's (an "
                "Action's reason is what it is counted under: see the handout):\n"
                + "\n".join(lines),
                expected=", ".join(f"{k} {expected[k]}" for k in keys if k in expected),
                got=", ".join(f"{k} {got[k]}" for k in keys if k in got),
                reproduce=f"{HV} --stats {path}   and   emu hv --stats {path}")
    return f"{len(EVERY_GUEST)} guests, each with the reference's exits"
