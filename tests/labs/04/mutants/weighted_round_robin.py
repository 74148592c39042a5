"""Mutant: weighted round robin, written out (what emu's RoundRobin does): each
runnable guest in turn, for quantum * share instructions. Right over a long run,
but a guest gets its whole share in one long turn, so at a fine grain the others
fall behind by several quanta."""
from emu.hv import RoundRobin


class StrideScheduler(RoundRobin):
    def __init__(self, quantum):
        super().__init__(quantum)
        self.next = 0

    def slice_for(self, guest):
        return self.quantum * guest.config.share

    def pick(self, guests):
        for i in range(len(guests)):
            guest = guests[(self.next + i) % len(guests)]
            if guest.runnable:
                self.next = (self.next + i + 1) % len(guests)
                return guest, self.slice_for(guest)
        return None
