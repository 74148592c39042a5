"""Not an answer: a scheduler that hands every pick to emu's own round robin
(which the grader replaces with a stub, so it earns nothing)."""
from emu.hv import RoundRobin


class StrideScheduler(RoundRobin):
    def pick(self, guests):
        return super().pick(guests)
