"""Helpers for the hypervisor's tests: run a kernel bare (`emu run --boot s`) and
under the hypervisor, and take the guest-visible state of each, so that a test
asserts Popek and Goldberg's equivalence as `bare_state(...) == hv_state(...)`.

They live in the package (emu/labs/kit.py), where the labs' checks use them too;
see there for the test kernel KERNEL and its conventions."""
from emu.labs.kit import (KERNEL, MEM, S_CSRS, assemble, bare_state, diff,  # noqa: F401
                          hv_state, kernel, kernel_source, run_hv)
