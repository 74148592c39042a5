"""A lab for testing the lab framework itself: each check calls one function of
the student's answer.py, so a test can make that function misbehave in every way
a student's code can."""
from emu.hv.scheduler import RoundRobin
from emu.labs import CheckFailed, LabSpec, Work, check

LAB = LabSpec(title="Self-test", goal="Exercise the grader.", files=("answer.py", "guest.S"),
              stubs=("emu.hv.scheduler:RoundRobin.slice_for",))


@check(points=3)
def adds(work: Work):
    """add(2, 3) is 5"""
    got = work.load("answer.py", "add")(2, 3)
    if got != 5:
        raise CheckFailed("add(2, 3) is wrong", expected=5, got=got,
                          reproduce="python -c 'import answer; print(answer.add(2, 3))'")
    return "add works"


@check(points=2, timeout=5, memory=512 << 20)
def returns(work: Work):
    """work() returns"""
    work.load("answer.py", "work")()


@check(points=1)
def slices(work: Work):
    """slice(3) is 3 quanta of 10"""
    with work.reference():
        expected = RoundRobin(10).slice_for(_Guest(3))
    got = work.load("answer.py", "slice")(_Guest(3))
    if got != expected:
        raise CheckFailed("wrong slice", expected=expected, got=got)


@check(points=1, timeout=5)
def guest_stops(work: Work):
    """guest.S stops (run with no instruction limit, as a careless check might)"""
    from emu.machine import Machine
    machine = Machine(1 << 20)
    machine.load(work.assemble(work.path("guest.S")))
    machine.run()


class _Guest:
    def __init__(self, share):
        self.config = self
        self.share = share
