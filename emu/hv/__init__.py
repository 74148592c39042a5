"""emu's hypervisor (`emu hv`): several S-mode guest kernels side by side on one
core, by trap and emulate with shadow page tables (docs/hypervisor.md)."""
from emu.hv.emulate import Action, Outcome, Trap
from emu.hv.hypervisor import (EndReason, Guest, GuestConfig, GuestEnd, GuestState,
                               Hypervisor)
from emu.hv.memory import ShadowPager
from emu.hv.scheduler import RoundRobin

__all__ = ["Action", "EndReason", "Guest", "GuestConfig", "GuestEnd", "GuestState",
           "Hypervisor", "Outcome", "RoundRobin", "ShadowPager", "Trap"]
