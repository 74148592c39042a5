"""Lab 04, a reference solution: stride scheduling (Waldspurger and Weihl,
"Stride Scheduling: Deterministic Proportional-Share Resource Management",
MIT/LCS/TM-528, 1995)."""
from __future__ import annotations

from typing import Sequence

from emu.hv import Guest, RoundRobin

# The stride of a share-1 guest. A guest's stride is STRIDE1 // share: large,
# so that the rounding is far below one part in a thousand for any share
# below a thousand (a small STRIDE1 truncates big shares' strides to 0).
STRIDE1 = 1 << 20


class StrideScheduler(RoundRobin):
    """Each guest has a pass, advanced by its stride (inversely proportional to
    its share) each time it runs a quantum; the runnable guest with the least
    pass runs next. Ties go to the first in the order given, so equal shares
    take turns in that order, as round robin does."""

    def __init__(self, quantum: int):
        super().__init__(quantum)
        self.passes: dict[Guest, int] = {}
        # The pass of the guest picked last: the least pass of the guests that
        # were runnable then. A guest that wakes joins at it (see pick).
        self.global_pass = 0

    def slice_for(self, guest: Guest) -> int:
        return self.quantum

    def pick(self, guests: Sequence[Guest]) -> tuple[Guest, int] | None:
        runnable = [guest for guest in guests if guest.runnable]
        if not runnable:
            return None
        # A guest that slept kept its old, small pass while the others' grew:
        # it would run until it caught up, keeping the others out for as long
        # as it slept. Sleeping earns no credit, so a waking guest starts from
        # the global pass. Guests that stayed runnable are never below it.
        for guest in runnable:
            self.passes[guest] = max(self.passes.get(guest, 0), self.global_pass)
        chosen = min(runnable, key=self.passes.__getitem__)     # min keeps the first of ties
        self.global_pass = self.passes[chosen]
        self.passes[chosen] += STRIDE1 // chosen.config.share
        return chosen, self.slice_for(chosen)
