"""Lab 04, another answer: lottery scheduling (Waldspurger and Weihl, OSDI 1994)
from a seeded generator. It is right on average and deterministic, but not at a
fine grain: a guest's CPU wanders from its share as a random walk does, so the
checks that measure every turn fail (README.md says so)."""
from __future__ import annotations

import random
from typing import Sequence

from emu.hv import Guest, RoundRobin

SEED = 2024


class LotteryScheduler(RoundRobin):
    """Each turn goes to a runnable guest drawn with probability share / the
    shares of all runnable guests."""

    def __init__(self, quantum: int):
        super().__init__(quantum)
        self.rng = random.Random(SEED)      # per scheduler: every run draws the same

    def slice_for(self, guest: Guest) -> int:
        return self.quantum

    def pick(self, guests: Sequence[Guest]) -> tuple[Guest, int] | None:
        runnable = [guest for guest in guests if guest.runnable]
        if not runnable:
            return None
        ticket = self.rng.randrange(sum(guest.config.share for guest in runnable))
        for guest in runnable:
            ticket -= guest.config.share
            if ticket < 0:
                return guest, self.slice_for(guest)
        raise AssertionError("the draw is below the sum of the shares")
