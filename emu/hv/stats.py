"""Exit accounting: Popek and Goldberg's efficiency, measured.

Per guest: instructions run natively (the core ran them in real U-mode without
a trap) against those that trapped; exits by reason and by instruction, with
the host time each took; injected interrupts; guest switches. `--stats` prints
it as `perf kvm stat` prints its report; `--json` writes the same numbers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ExitCount:
    count: int = 0
    nanoseconds: int = 0
    min_ns: int = 0
    max_ns: int = 0

    def add(self, ns: int) -> None:
        self.min_ns = ns if not self.count else min(self.min_ns, ns)
        self.max_ns = max(self.max_ns, ns)
        self.count += 1
        self.nanoseconds += ns


@dataclass
class GuestStats:
    exits: dict[str, ExitCount] = field(default_factory=dict)
    by_instruction: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    trapped: int = 0              # guest instructions that exited (emulated or reflected)
    switches: int = 0             # times the guest was switched in
    switch_ns: int = 0
    shadow_recycles: int = 0

    def record(self, reason: str, instruction: str | None, ns: int, guest_insn: bool) -> None:
        count = self.exits.get(reason)
        if count is None:
            count = self.exits[reason] = ExitCount()
        count.add(ns)
        if instruction:
            self.by_instruction[instruction] += 1
        if guest_insn:
            self.trapped += 1

    @property
    def exit_count(self) -> int:
        return sum(e.count for e in self.exits.values())

    @property
    def hypervisor_ns(self) -> int:
        return sum(e.nanoseconds for e in self.exits.values()) + self.switch_ns

    def native(self, steps: int) -> int:
        return steps - self.trapped

    def as_dict(self, steps: int) -> dict:
        return {
            "instructions": steps,
            "native": self.native(steps),
            "trapped": self.trapped,
            "native_share": self.native(steps) / steps if steps else 1.0,
            "exits": {reason: {"count": e.count, "ns": e.nanoseconds, "min_ns": e.min_ns,
                               "max_ns": e.max_ns}
                      for reason, e in sorted(self.exits.items())},
            "by_instruction": dict(self.by_instruction.most_common()),
            "interrupts_injected": dict(self.injected),
            "switches": self.switches,
            "shadow_recycles": self.shadow_recycles,
            "hypervisor_ns": self.hypervisor_ns,
        }


def _us(ns: float) -> str:
    return f"{ns / 1000:.2f}us"


def perf_kvm_report(name: str, stats: GuestStats, steps: int, top: int = 10) -> str:
    """One guest's report in the shape of `perf kvm stat report`."""
    total = stats.exit_count or 1
    total_ns = sum(e.nanoseconds for e in stats.exits.values()) or 1
    native = stats.native(steps)
    share = 100 * native / steps if steps else 100.0
    lines = [
        f"Analyze events for guest {name}: {steps:,} instructions, {native:,} native "
        f"({share:.2f}%), {stats.exit_count:,} exits, {stats.switches:,} switches, "
        f"{stats.hypervisor_ns / 1e6:.2f} ms in the hypervisor",
        "",
        f"{'VM-EXIT':>24} {'Samples':>9} {'Samples%':>9} {'Time%':>8} "
        f"{'Min Time':>10} {'Max Time':>10} {'Avg time':>10}",
    ]
    for reason, e in sorted(stats.exits.items(), key=lambda item: -item[1].count):
        lines.append(
            f"{reason:>24} {e.count:>9} {100 * e.count / total:>8.2f}% "
            f"{100 * e.nanoseconds / total_ns:>7.2f}% {_us(e.min_ns):>10} {_us(e.max_ns):>10} "
            f"{_us(e.nanoseconds / e.count):>10}")
    lines.append(f"\nTotal Samples:{stats.exit_count}, Total events handled time:"
                 f"{_us(total_ns if stats.exit_count else 0)}.")
    if stats.by_instruction:
        lines.append(f"\n{'INSTRUCTION':>24} {'Samples':>9}")
        for insn, count in stats.by_instruction.most_common(top):
            lines.append(f"{insn:>24} {count:>9}")
    if stats.injected:
        lines.append("\ninterrupts injected: " + ", ".join(
            f"{cause} {count}" for cause, count in stats.injected.items()))
    return "\n".join(lines) + "\n"
