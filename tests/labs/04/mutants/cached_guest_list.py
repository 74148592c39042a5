"""Mutant: stride scheduling over a run queue of its own, taken from the first
pick and never updated, skipping only guests blocked in WFI: a guest that has
stopped is still in it, and still picked (its pass stays low, as it never runs)."""
from emu.hv import GuestState, RoundRobin

STRIDE1 = 1 << 20


class StrideScheduler(RoundRobin):
    def __init__(self, quantum):
        super().__init__(quantum)
        self.queue = None
        self.passes = {}
        self.global_pass = 0

    def slice_for(self, guest):
        return self.quantum

    def pick(self, guests):
        if self.queue is None:
            self.queue = list(guests)
        ready = [guest for guest in self.queue if guest.state is not GuestState.BLOCKED]
        if not ready:
            return None
        for guest in ready:
            self.passes[guest] = max(self.passes.get(guest, 0), self.global_pass)
        chosen = min(ready, key=self.passes.__getitem__)
        self.global_pass = self.passes[chosen]
        self.passes[chosen] += STRIDE1 // chosen.config.share
        return chosen, self.slice_for(chosen)
