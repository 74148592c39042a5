"""The scheduler: which guest runs next on the one hart, and for how long.

Round robin in the order the guests were given, each turn a slice of
`quantum * share` instructions (--quantum, --share NAME=WEIGHT). Time is the
host's instruction count, so the interleaving is the same on every run. A guest
blocked in WFI is skipped until the host clock reaches its wake-up time; when
every guest is blocked, the clock jumps to the earliest wake-up (idle time is
skipped, as the bare board's WFI skips to mtimecmp).

A replacement (coursework: lottery, stride, a priority class) subclasses
RoundRobin and overrides `pick`; `Hypervisor.scheduler_class` names it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from emu.hv.hypervisor import Guest


class RoundRobin:
    def __init__(self, quantum: int):
        if quantum < 1:
            raise ValueError("the quantum is at least one instruction")
        self.quantum = quantum
        self.turn = 0

    def slice_for(self, guest: Guest) -> int:
        return self.quantum * guest.config.share

    def pick(self, guests: Sequence[Guest]) -> tuple[Guest, int] | None:
        """The next runnable guest after the last one picked, and its slice; None
        when every guest is blocked or stopped."""
        count = len(guests)
        for i in range(count):
            guest = guests[(self.turn + i) % count]
            if guest.runnable:
                self.turn = (self.turn + i + 1) % count
                return guest, self.slice_for(guest)
        return None
