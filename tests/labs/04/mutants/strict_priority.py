"""Mutant: strict priority by share. The runnable guest with the biggest share
always runs (the first of equals), so smaller shares never run while a bigger
one can: starvation, not proportional share."""
from emu.hv import RoundRobin


class StrideScheduler(RoundRobin):
    def slice_for(self, guest):
        return self.quantum

    def pick(self, guests):
        runnable = [guest for guest in guests if guest.runnable]
        if not runnable:
            return None
        chosen = max(runnable, key=lambda guest: guest.config.share)
        return chosen, self.slice_for(chosen)
