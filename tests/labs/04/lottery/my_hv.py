"""Lab 04: the hypervisor that runs the lottery scheduler."""
from emu.hv import Hypervisor

from my_scheduler import LotteryScheduler


class MyHypervisor(Hypervisor):
    scheduler_class = LotteryScheduler
