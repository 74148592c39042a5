"""Lab 03: the hypervisor that runs your pager. Nothing to write here: it is
emu's hypervisor with your MyPager as its shadow paging (docs/hypervisor.md,
section 7).

    emu hv --hypervisor my_hv.py:MyHypervisor guests/os.S"""
from emu.hv import Hypervisor

from my_pager import MyPager


class MyHypervisor(Hypervisor):
    pager_class = MyPager
