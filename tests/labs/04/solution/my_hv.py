"""Lab 04: the hypervisor that runs your scheduler. Nothing to do here:
`emu hv --hypervisor my_hv.py:MyHypervisor ...` runs the guests with it, and
`emu lab check` grades it."""
from emu.hv import Hypervisor

from my_scheduler import StrideScheduler


class MyHypervisor(Hypervisor):
    scheduler_class = StrideScheduler
