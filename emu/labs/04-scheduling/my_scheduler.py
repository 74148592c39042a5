"""Lab 04: a proportional-share scheduler for emu's hypervisor.

The hypervisor asks `pick` which guest runs next, before every turn
(Hypervisor.execute, emu/hv/hypervisor.py). Write stride scheduling
(Waldspurger and Weihl, 1995); README.md says what is graded and how."""
from __future__ import annotations

from typing import Sequence

from emu.hv import Guest, RoundRobin


class StrideScheduler(RoundRobin):
    """Every guest gets CPU in proportion to its share (guest.config.share, from
    `--share NAME=WEIGHT`), one quantum per turn, at every moment of the run."""

    def __init__(self, quantum: int):
        super().__init__(quantum)           # self.quantum: instructions in one turn
        # TODO: what your scheduler remembers between picks (each guest's pass...).
        #       Keep it here, per scheduler, not in class attributes or globals:
        #       a second hypervisor must start from the same state.

    def slice_for(self, guest: Guest) -> int:
        """One quantum, whatever the guest's share. (RoundRobin gives a turn of
        quantum * share instructions; here a share says how *often* a guest runs,
        not for how long.)"""
        return self.quantum

    def pick(self, guests: Sequence[Guest]) -> tuple[Guest, int] | None:
        """The guest to run next and for how many instructions, or None when none
        of `guests` can run.

        `guests` are those that have not stopped, in the order they were given on
        the command line. Some may be blocked in WFI (guest.runnable is False, and
        guest.state is GuestState.BLOCKED until the host clock reaches
        guest.wake_at): never pick those. A guest that was blocked and is runnable
        again has just woken up.

        TODO: pick the runnable guest with the smallest pass; advance its pass by
        its stride; return it with self.slice_for(guest). See README.md, step 2,
        for strides and passes, and step 3 for a guest that wakes up."""
        raise NotImplementedError("StrideScheduler.pick: write it (README.md, step 2)")
