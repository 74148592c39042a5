"""Lab 04, another stride answer, the paper's own dynamic version (Waldspurger
and Weihl 1995, section 3.3): a global pass that advances by STRIDE1 / (the
runnable guests' shares) each quantum; a guest that blocks keeps `remain`, how
far its pass was ahead of the global pass, and gets it back on waking. Passes
start one stride ahead, passes are floats and guests are known by name: the
checks must not depend on how the reference solution does it."""
from __future__ import annotations

from typing import Sequence

from emu.hv import Guest, RoundRobin

STRIDE1 = 1 << 20


class StrideScheduler(RoundRobin):
    def __init__(self, quantum: int):
        super().__init__(quantum)
        self.global_pass = 0.0
        self.passes: dict[str, float] = {}
        self.remain: dict[str, float] = {}
        self.runnable: set[str] = set()     # the names runnable at the last pick

    def slice_for(self, guest: Guest) -> int:
        return self.quantum

    def pick(self, guests: Sequence[Guest]) -> tuple[Guest, int] | None:
        runnable = [guest for guest in guests if guest.runnable]
        names = {guest.name for guest in runnable}
        for name in self.runnable - names:              # left: blocked or stopped
            self.remain[name] = self.passes[name] - self.global_pass
        for guest in runnable:
            if guest.name not in self.runnable:         # joined: new, or woken
                stride = STRIDE1 / guest.config.share
                self.passes[guest.name] = self.global_pass + self.remain.get(guest.name, stride)
        self.runnable = names
        if not runnable:
            return None
        chosen = min(runnable, key=lambda guest: self.passes[guest.name])
        self.passes[chosen.name] += STRIDE1 / chosen.config.share
        self.global_pass += STRIDE1 / sum(guest.config.share for guest in runnable)
        return chosen, self.slice_for(chosen)
