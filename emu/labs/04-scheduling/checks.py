"""Lab 04's checks: the student's scheduler runs the lab's guests under the
hypervisor, and every call of its pick is recorded (the clock, each guest's
state and instruction count, the choice). The checks judge the record and the
guests' own counts (guest.hart.steps, guest.stats), never console text.

The guests come from this folder, not the student's copy, so that editing them
changes nothing. Every scenario is deterministic; the reproduce commands run it
with `emu hv`, and a `--max-insns` equal to the instructions run when a check
saw something wrong stops the run right there (the schedule up to that point
is the same), so that its summary lines show the counts the check saw."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from emu.hv import GuestConfig, GuestState, Hypervisor
from emu.hv.command import guest_names
from emu.hv.hypervisor import EndReason
from emu.labs import CheckFailed, LabSpec, Work, check
from emu.labs.kit import student_hypervisor

LAB = LabSpec(
    title="Scheduling and shares",
    goal="A stride scheduler: CPU in proportion to shares at every moment, for guests "
         "that sleep and wake.",
    files=("my_scheduler.py", "my_hv.py"),
    stubs=("emu.hv.scheduler:RoundRobin.pick",),
)

GUESTS = Path(__file__).parent / "guests"
QUANTUM = 1000
MEM = 4 << 20
LONG_RUN_TOLERANCE = 0.10       # of a guest's own share
LAG_QUANTA = 1.5                # how far behind or ahead of its share a guest may be
EQUAL_LAG_QUANTA = 1.0
STUCK_PICKS = 10_000            # picks in a row with the clock standing still: a hang


class Turn(NamedTuple):
    """One call of pick, as it was made: the host clock, each guest's
    instructions so far (all guests, stopped ones too), the state of each guest
    pick was given, and what it chose (None, or a name and a slice)."""
    clock: int
    steps: dict[str, int]
    given: dict[str, GuestState]
    picked: str | None
    slice: int | None

    @property
    def total(self) -> int:
        return sum(self.steps.values())


class Scenario:
    """Guests (files of guests/, named as `emu hv` names them), their shares and
    the run's length: the same run in a check and in its reproduce command."""

    def __init__(self, files: list[str], shares: dict[str, int], max_insns: int):
        self.files, self.shares, self.max_insns = files, shares, max_insns
        self.names = guest_names([Path(f) for f in files])

    def share(self, name: str) -> int:
        return self.shares.get(name, 1)

    def command(self, max_insns: int | None = None) -> str:
        shares = "".join(f" --share {name}={weight}" for name, weight in self.shares.items())
        guests = " ".join(f"guests/{f}" for f in self.files)
        return (f"emu hv --hypervisor my_hv.py:MyHypervisor --mem 4M --quantum {QUANTUM}"
                f"{shares} --max-insns {max_insns or self.max_insns} {guests}")

    def configs(self, work: Work) -> list[GuestConfig]:
        programs = {f: work.assemble(GUESTS / f) for f in set(self.files)}
        return [GuestConfig(name, programs[f], MEM, self.share(name))
                for name, f in zip(self.names, self.files)]

    def run(self, work: Work, strict: bool = False,
            hypervisor: type[Hypervisor] | None = None) -> tuple[Hypervisor, list[Turn]]:
        """Run it under the student's hypervisor (or `hypervisor`), recording
        every pick. strict: a pick of a guest that cannot run fails the check
        at once (else it only costs the guest a turn that does nothing)."""
        cls = hypervisor or student_hypervisor(work)
        hv = cls(self.configs(work), quantum=QUANTUM, max_insns=self.max_insns)
        turns: list[Turn] = []
        pick = hv.scheduler.pick
        stuck = [0, None]

        def recorded_pick(guests):
            given = list(guests)
            clock, steps = hv.clock, {g.name: g.hart.steps for g in hv.guests}
            states = {g.name: g.state for g in given}
            choice = pick(guests)
            _check_choice(self, hv, given, choice, strict)
            turn = Turn(clock, steps, states, *((choice[0].name, choice[1]) if choice else
                                                (None, None)))
            turns.append(turn)
            stuck[0] = stuck[0] + 1 if hv.clock == stuck[1] else 0
            stuck[1] = hv.clock
            if stuck[0] >= STUCK_PICKS:
                raise CheckFailed(
                    f"the run makes no progress: {STUCK_PICKS} picks in a row and the clock "
                    f"stands still at {hv.clock:,}; pick keeps choosing a guest that cannot run "
                    f"(last: {turn.picked}, {_state_text(hv, turn.picked)})",
                    reproduce=self.command())
            return choice

        hv.scheduler.pick = recorded_pick       # on the instance: the class is the student's
        hv.run()
        return hv, turns



def _state_text(hv: Hypervisor, name: str | None) -> str:
    if name is None:
        return "none"
    guest = hv.guest(name)
    if guest.state is GuestState.BLOCKED:
        return f"blocked in WFI until clock {guest.wake_at:,}"
    return guest.state.value


def _check_choice(scenario: Scenario, hv: Hypervisor, given: list, choice, strict: bool) -> None:
    """What pick may return: None only when no guest given can run; else a guest
    and a slice of at least one instruction; when strict, a guest it was given
    and that can run."""
    runnable = [g.name for g in given if g.runnable]
    where = f"at clock {hv.clock:,}, with {hv.guest_steps:,} instructions run"
    if choice is None:
        if runnable:
            raise CheckFailed(
                f"pick returned None {where}, while {', '.join(runnable)} could run: None "
                "means that every guest is blocked, and the hypervisor then skips the clock "
                "to the first wake-up",
                expected=f"one of {', '.join(runnable)}", got="None",
                reproduce=scenario.command(max(1, hv.guest_steps)))
        return
    try:
        guest, budget = choice
        name = guest.name
    except (TypeError, ValueError, AttributeError):
        raise CheckFailed(f"pick returned {choice!r} {where}: it returns (guest, slice) or "
                          "None") from None
    if not isinstance(budget, int) or budget < 1:
        raise CheckFailed(f"pick gave {name} a slice of {budget!r} {where}: a slice is a whole "
                          "number of instructions, at least 1 (one quantum: self.quantum)",
                          reproduce=scenario.command(max(1, hv.guest_steps)))
    if not strict:
        return
    if not any(guest is g for g in given):
        raise CheckFailed(
            f"pick chose {name} {where}, which was not among the guests it was given "
            f"({', '.join(g.name for g in given)}): {name} is {_state_text(hv, name)}. Pick "
            "from the list the hypervisor passes each time; a guest that has stopped is no "
            "longer in it",
            expected=f"one of {', '.join(runnable) or 'none (None)'}", got=name,
            reproduce=scenario.command(max(1, hv.guest_steps)))
    if not guest.runnable:
        raise CheckFailed(
            f"pick chose {name} {where}, but {name} is {_state_text(hv, name)}: it cannot "
            "run (guest.runnable is False), so its turn is lost and no one runs",
            expected=f"one of {', '.join(runnable)}" if runnable else "None (every guest is "
            "blocked)", got=name, reproduce=scenario.command(max(1, hv.guest_steps)))


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _counts(steps: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in steps.items())


def _worst_lag(scenario: Scenario, turns: list[Turn]) -> tuple[float, Turn | None, str]:
    """The largest distance, in instructions, between a guest's count and its
    share of all instructions run, over every turn (lag changes linearly within
    a turn, so its extremes are at the turns' starts); the turn and the guest."""
    weights = sum(scenario.share(name) for name in scenario.names)
    worst, at, who = 0.0, None, ""
    for turn in turns:
        total = turn.total
        for name in scenario.names:
            lag = abs(turn.steps[name] - total * scenario.share(name) / weights)
            if lag > worst:
                worst, at, who = lag, turn, name
    return worst, at, who


def _lag_failure(scenario: Scenario, turns: list[Turn], limit: float, why: str) -> None:
    worst, turn, name = _worst_lag(scenario, turns)
    if worst <= limit * QUANTUM:
        return
    total = turn.total
    weights = sum(scenario.share(n) for n in scenario.names)
    ideal = {n: round(total * scenario.share(n) / weights) for n in scenario.names}
    behind = "behind" if turn.steps[name] < ideal[name] else "ahead of"
    raise CheckFailed(
        f"after {total:,} instructions in all, {name} was {worst / QUANTUM:.2f} quanta "
        f"{behind} its share (at most {limit:g} allowed). {why}",
        expected=_counts(ideal), got=_counts(turn.steps),
        reproduce=scenario.command(total))


# ---- the checks

SPIN_1_2_4 = Scenario(["spin.S"] * 3, {"spin": 1, "spin-2": 2, "spin-3": 4}, 10_000_000)


@check(points=10)
def long_run_shares(work: Work):
    """Shares 1:2:4 give CPU 1:2:4 over a long run (each within 10% of its share)"""
    scenario = SPIN_1_2_4
    hv, _ = scenario.run(work)
    steps = {g.name: g.hart.steps for g in hv.guests}
    total = sum(steps.values())
    weights = sum(scenario.shares.values())
    ideal = {name: total * share / weights for name, share in scenario.shares.items()}
    wrong = [name for name in ideal
             if abs(steps[name] - ideal[name]) > LONG_RUN_TOLERANCE * ideal[name]]
    if wrong:
        raise CheckFailed(
            f"over {total:,} instructions, {_names(wrong)} did not get "
            f"{'its share' if len(wrong) == 1 else 'their shares'} within "
            f"{LONG_RUN_TOLERANCE:.0%} (shares spin 1, spin-2 2, spin-3 4: 1/7, 2/7 and 4/7 of "
            "the CPU)",
            expected=", ".join(f"{n} {_percent(ideal[n], total)}" for n in ideal),
            got=", ".join(f"{n} {_percent(steps[n], total)}" for n in ideal),
            reproduce=scenario.command())
    return "shares: " + ", ".join(f"{n} {_percent(steps[n], total)}" for n in ideal)


@check(points=20)
def fine_grain_shares(work: Work):
    """Shares 3:5:8: every guest stays within 1.5 quanta of its share at every turn"""
    scenario = Scenario(["spin.S"] * 3, {"spin": 3, "spin-2": 5, "spin-3": 8}, 2_000_000)
    hv, turns = scenario.run(work)
    _lag_failure(scenario, turns, LAG_QUANTA,
                 "A share is due at every moment, not only in the end. A guest's whole "
                 "share in one long turn (weighted round robin), turns drawn at random "
                 "(lottery) and much rounded strides all let guests drift from their shares; "
                 "stride scheduling keeps each within about one quantum of it.")
    worst, _, _ = _worst_lag(scenario, turns)
    return f"the largest lag: {worst / QUANTUM:.2f} quanta, over {len(turns)} turns"


@check(points=10)
def equal_shares_take_turns(work: Work):
    """Equal shares take turns as round robin does (within 1 quantum at every turn)"""
    scenario = Scenario(["spin.S"] * 3, {"spin": 2, "spin-2": 2, "spin-3": 2}, 600_000)
    hv, turns = scenario.run(work)
    _lag_failure(scenario, turns, EQUAL_LAG_QUANTA,
                 "With equal shares every guest should run once, one quantum (whatever "
                 "the share), before any runs again.")
    order = " ".join(t.picked for t in turns[:6])
    return f"the first turns: {order}"


SLEEPERS = Scenario(["sleeper.S", "spin.S", "spin.S"], {}, 1_000_000)
ONLY_SLEEPERS = Scenario(["sleeper.S", "sleeper.S"], {}, 200_000)


def _naps(guest) -> int:
    return guest.stats.by_instruction["wfi"]


@check(points=15)
def blocked_guest_not_picked(work: Work):
    """A guest asleep in WFI is never picked, and runs again when it wakes"""
    notes = []
    for scenario in (SLEEPERS, ONLY_SLEEPERS):
        with work.reference():      # the naps under emu's own round robin
            reference, _ = scenario.run(work, hypervisor=Hypervisor)
        hv, turns = scenario.run(work, strict=True)
        for name in scenario.names:
            if not name.startswith("sleeper"):
                continue
            naps, expected = _naps(hv.guest(name)), _naps(reference.guest(name))
            if naps < expected // 2:
                raise CheckFailed(
                    f"{name} slept in WFI {naps} times in {scenario.max_insns:,} instructions, "
                    f"under round robin {expected} times: once its timer has come, a sleeping "
                    "guest is runnable again and must get its turns",
                    expected=f"at least {expected // 2} naps", got=f"{naps} naps",
                    reproduce=scenario.command() + " --stats")
        idle = sum(1 for t in turns if t.picked is None)
        notes.append(f"{' '.join(scenario.names)}: {len(turns)} picks, {idle} with every "
                     "guest asleep")
    return "\n".join(notes)


WAKING = Scenario(["spin.S", "spin.S", "late.S"], {"late": 2}, 800_000)
WAKING_TOLERANCE = 0.10         # of the CPU, around late's share of it after it wakes


@check(points=15)
def woken_guest_does_not_monopolize(work: Work):
    """A guest woken after a long sleep gets its share, not the whole CPU"""
    scenario = WAKING
    hv, turns = scenario.run(work)
    asleep = next((i for i, t in enumerate(turns) if t.given.get("late") is GuestState.BLOCKED),
                  None)
    woke = next((i for i, t in enumerate(turns)
                 if asleep is not None and i > asleep
                 and t.given.get("late") is GuestState.RUNNABLE), None)
    if woke is None:
        raise CheckFailed("late never slept and woke up again in this run: it sleeps in WFI "
                          "for 400,000 ticks, then counts for ever",
                          reproduce=scenario.command())
    start = turns[woke]
    end = {g.name: g.hart.steps for g in hv.guests}
    gained = {name: end[name] - start.steps[name] for name in scenario.names}
    window = sum(gained.values())
    got = gained["late"] / window if window else 0
    due = scenario.share("late") / sum(scenario.share(name) for name in scenario.names)
    streak = longest = 0
    for turn in turns[woke:]:
        streak = streak + 1 if turn.picked == "late" else 0
        longest = max(longest, streak)
    if abs(got - due) > WAKING_TOLERANCE:
        why = ("A stride scheduler does that when a woken guest keeps the pass it fell "
               "asleep with, far below the others': it runs until it has caught up. Sleeping "
               "earns no credit: on waking, a guest's pass starts from the global pass."
               if got > due else "Its share is as big as both others' together.")
        raise CheckFailed(
            f"late (share 2, beside two guests of share 1) woke up after {start.total:,} "
            f"instructions in all; over the {window:,} instructions that followed it got "
            f"{got:.0%} of the CPU, {_turns(longest)} in a row at most. {why}",
            expected=f"{due:.0%} of the CPU after waking, within {WAKING_TOLERANCE:.0%}",
            got=f"{got:.0%} ({_counts(gained)})",
            reproduce=scenario.command())
    return (f"late woke after {start.total:,} instructions and then got {got:.1%} of the CPU, "
            f"{_turns(longest)} in a row at most")


def _turns(count: int) -> str:
    return f"{count} turn" if count == 1 else f"{count} turns"


@check(points=10)
def small_share_not_starved(work: Work):
    """A share-1 guest among shares of 100 gets its 1/201 of the CPU (within a factor of 2)"""
    scenario = Scenario(["spin.S"] * 3, {"spin": 1, "spin-2": 100, "spin-3": 100}, 4_020_000)
    hv, turns = scenario.run(work)
    steps = {g.name: g.hart.steps for g in hv.guests}
    total = sum(steps.values())
    ideal = total / 201
    if not ideal / 2 <= steps["spin"] <= ideal * 2:
        why = ("A scheduler that always prefers the biggest share starves it, and so do "
               "strides that round to 0 for big shares (STRIDE1 // 100 must be neither 0 nor "
               "much rounded)" if steps["spin"] < ideal else
               "It ran far more than its share: are the shares used at all?")
        raise CheckFailed(
            f"spin (share 1, beside two guests of share 100) ran {steps['spin']:,} of "
            f"{total:,} instructions, where its share is 1/201 of them. {why}",
            expected=f"between {ideal / 2:,.0f} and {ideal * 2:,.0f} instructions "
                     f"(1/201 is {ideal:,.0f})",
            got=f"{steps['spin']:,} ({_counts(steps)})",
            reproduce=scenario.command())
    first = next(t.total for t in turns if t.picked == "spin")
    return (f"spin ran {steps['spin']:,} instructions (1/201 is {ideal:,.0f}), first after "
            f"{first:,} instructions in all")


@check(points=10)
def stopped_guest_not_picked(work: Work):
    """A guest that has stopped is never picked, and the others share what it leaves"""
    scenario = Scenario(["short.S", "spin.S", "spin.S"], {"spin-2": 2}, 5_000_000)
    hv, turns = scenario.run(work, strict=True)
    short = hv.guest("short")
    if short.end is None or short.end.reason is not EndReason.SHUTDOWN:
        raise CheckFailed(
            f"short never reached its end: it counts to 150,000 and shuts down, but ran "
            f"{short.hart.steps:,} instructions of {hv.guest_steps:,}",
            expected="short shuts down", got=short.end.message if short.end else "still running",
            reproduce=scenario.command())
    gone = next((t for t in turns if "short" not in t.given), None)
    if gone is None:
        raise CheckFailed("short shut down, but the run ended before anyone else ran",
                          reproduce=scenario.command())
    end = {g.name: g.hart.steps for g in hv.guests}
    gained = {name: end[name] - gone.steps[name] for name in ("spin", "spin-2")}
    window = sum(gained.values())
    share = gained["spin"] / window
    if abs(share - 1 / 3) > LONG_RUN_TOLERANCE / 3:
        raise CheckFailed(
            f"after short shut down (at {gone.total:,} instructions in all), spin (share 1) "
            f"and spin-2 (share 2) ran {window:,} instructions between them: they share the "
            f"CPU 1:2, so spin gets 1/3 of it (within {LONG_RUN_TOLERANCE:.0%})",
            expected="spin 33.3%, spin-2 66.7%",
            got=f"spin {_percent(gained['spin'], window)}, spin-2 "
                f"{_percent(gained['spin-2'], window)}",
            reproduce=scenario.command())
    return f"short stopped after {gone.total:,} instructions; then spin got {share:.1%}"


MIXED = Scenario(["spin.S", "spin.S", "sleeper.S", "late.S"], {"spin-2": 2, "sleeper": 2},
                 1_500_000)


@check(points=10)
def deterministic(work: Work):
    """Two runs pick the same guests in the same order"""
    scenario = MIXED
    runs = [scenario.run(work) for _ in range(2)]
    (first_hv, first), (second_hv, second) = runs
    for i, (a, b) in enumerate(zip(first, second)):
        if (a.picked, a.slice) != (b.picked, b.slice):
            raise CheckFailed(
                f"two runs of the same guests differ at pick {i + 1} (after {a.total:,} "
                "instructions in all). The schedule must depend on nothing but the guests: "
                "the debugger goes back in time by running the past again, and graders "
                "compare runs. A lottery draws from a generator seeded in __init__ "
                "(random.Random(SEED)), never from the random module's own nor from one "
                "made at import, and what a scheduler remembers lives in the instance, not "
                "the class. (Two `emu hv` commands may agree where the grader's two runs do "
                "not: each command is a fresh Python, the grader runs both in one, as the "
                "debugger does.)",
                expected=f"{a.picked} for {a.slice} instructions (the first run)",
                got=f"{b.picked} for {b.slice} instructions (the second)",
                reproduce=scenario.command())
    counts = [{g.name: g.hart.steps for g in hv.guests} for hv in (first_hv, second_hv)]
    if len(first) != len(second) or counts[0] != counts[1]:
        raise CheckFailed("two runs of the same guests end with different instruction counts",
                          expected=_counts(counts[0]), got=_counts(counts[1]),
                          reproduce=scenario.command())
    return f"{len(first)} picks, the same twice"
