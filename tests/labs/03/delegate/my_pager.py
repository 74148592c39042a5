"""Lab 03 answered by calling emu's own pager: the grader's stubs must make it
score nothing."""
from __future__ import annotations

import emu.hv.memory as memory
from emu.hv.memory import ShadowPager


def pte_allows(pte, access, priv, sum_, mxr):
    return memory.pte_allows(pte, access, priv, sum_, mxr)


class MyPager(ShadowPager):
    def walk(self, hart, va, access, update=True):
        return super().walk(hart, va, access, update)

    def permissions(self, hart, pte):
        return super().permissions(hart, pte)

    def fill(self, hart, va, walk):
        return ShadowPager.fill(self, hart, va, walk)

    def flush(self):
        return super().flush()

    def flush_address(self, va):
        return super().flush_address(va)
