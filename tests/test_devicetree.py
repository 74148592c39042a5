"""The device tree (emu/devicetree.py, docs/board.md "Device tree"): its blob as
dtc reads it back, where it goes in RAM, and a1 at every kind of start: bare M,
`--boot s`, and each guest of `emu hv`. dtc (Debian's device-tree-compiler) is
the oracle: CI installs it."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.cli import main
from emu.devicetree import (FDT_MAGIC, PHANDLE_INTC, PLIC_SOURCES, TIMEBASE_FREQUENCY, Board,
                            build, place)
from emu.errors import ConfigError
from emu.hv import Hypervisor
from emu.hv.hypervisor import GuestConfig, guest_board
from emu.labs.kit import assemble
from emu.machine import Machine, StopReason
from emu.platform import RAM_BASE, Console

MiB = 1 << 20
A1 = 11

# Checks the tree at a1 by its magic (a little-endian load of 0xd00dfeed reads
# 0xedfe0dd0) and a0 = hart id 0, then reports through `finish`.
CHECK_A1 = """
    .globl _start
_start:
    bnez    a0, bad
    lw      t0, 0(a1)
    li      t1, 0xedfe0dd0
    bne     t0, t1, bad
    li      s0, 0
    j       finish
bad:
    li      s0, 1
finish:
"""
POWER_OFF = CHECK_A1 + """
    li      t0, 0x100000
    slli    t1, s0, 16
    li      t2, 0x3333
    or      t1, t1, t2
    beqz    s0, 1f
    sw      t1, 0(t0)
1:  li      t1, 0x5555
    sw      t1, 0(t0)
"""
SBI_SHUTDOWN = CHECK_A1 + """
    li      a0, 0
    mv      a1, s0                  # reason 1 (system failure) if the check failed
    li      a7, 0x53525354
    li      a6, 0
    ecall
"""


@pytest.fixture(scope="session")
def dtc():
    path = shutil.which("dtc")
    if path is None:
        pytest.fail("dtc is missing: `make install` installs it (Debian package "
                    "device-tree-compiler)")
    return path


def decompile(blob: bytes) -> dict[str, dict[str, str]]:
    """The tree as dtc prints it, parsed: node path -> property -> value text
    ("" for an empty property)."""
    result = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", "-"], input=blob,
                            capture_output=True, check=True)
    nodes: dict[str, dict[str, str]] = {}
    path: list[str] = []
    for line in result.stdout.decode().splitlines():
        line = line.strip()
        if line.endswith("{"):
            name = line[:-1].strip()
            path.append("" if name == "/" else name)
            nodes["/".join(path) or "/"] = {}
        elif line == "};":
            path.pop()
        elif line.endswith(";") and path:
            key, _, value = line[:-1].partition(" = ")
            nodes["/".join(path) or "/"][key] = value
    return nodes


def cells(text: str) -> list[int]:
    return [int(word, 16) for word in re.findall(r"0x[0-9a-f]+", text)]


def test_the_board_as_qemu_virt_describes_it(dtc):
    tree = decompile(build(Board(RAM_BASE, 128 * MiB, bootargs="console=ttyS0 root=/dev/vda")))
    assert tree["/"]["compatible"] == '"riscv-virtio"'
    assert cells(tree["/"]["#address-cells"]) == cells(tree["/"]["#size-cells"]) == [2]
    assert tree["/memory@80000000"]["device_type"] == '"memory"'
    assert cells(tree["/memory@80000000"]["reg"]) == [0, RAM_BASE, 0, 128 * MiB]
    assert cells(tree["/cpus"]["timebase-frequency"]) == [TIMEBASE_FREQUENCY]
    cpu = tree["/cpus/cpu@0"]
    assert cpu["riscv,isa"] == '"rv32ima_zicntr_zicsr_zifencei"'
    assert cpu["mmu-type"] == '"riscv,sv32"'
    intc = tree["/cpus/cpu@0/interrupt-controller"]
    assert intc["compatible"] == '"riscv,cpu-intc"' and "interrupt-controller" in intc
    plic = tree["/soc/plic@c000000"]
    assert plic["compatible"] == '"sifive,plic-1.0.0\\0riscv,plic0"'
    assert cells(plic["riscv,ndev"]) == [PLIC_SOURCES] == [96]
    assert cells(plic["reg"]) == [0, 0x0C00_0000, 0, 0x60_0000]
    assert cells(plic["interrupts-extended"]) == [PHANDLE_INTC, 11, PHANDLE_INTC, 9]
    clint = tree["/soc/clint@2000000"]
    assert cells(clint["interrupts-extended"]) == [PHANDLE_INTC, 3, PHANDLE_INTC, 7]
    assert cells(clint["reg"]) == [0, 0x0200_0000, 0, 0x1_0000]
    uart = tree["/soc/serial@10000000"]
    assert uart["compatible"] == '"ns16550a"' and cells(uart["interrupts"]) == [10]
    assert cells(uart["reg"]) == [0, 0x1000_0000, 0, 0x100]
    slots = sorted(path for path in tree if path.startswith("/soc/virtio_mmio@"))
    assert slots == [f"/soc/virtio_mmio@{0x1000_1000 + 0x1000 * n:x}" for n in range(8)]
    for n in range(8):
        slot = tree[f"/soc/virtio_mmio@{0x1000_1000 + 0x1000 * n:x}"]
        assert cells(slot["interrupts"]) == [1 + n] and slot["compatible"] == '"virtio,mmio"'
    test = tree["/soc/test@100000"]
    assert test["compatible"] == '"sifive,test1\\0sifive,test0\\0syscon"'
    assert cells(tree["/poweroff"]["value"]) == [0x5555]
    assert tree["/reboot"]["compatible"] == '"syscon-reboot"'
    assert tree["/chosen"]["bootargs"] == '"console=ttyS0 root=/dev/vda"'
    assert tree["/chosen"]["stdout-path"] == '"/soc/serial@10000000"'
    assert tree["/chosen"]["stdout-path"].strip('"') in tree


def test_phandles_point_at_the_nodes_they_name(dtc):
    tree = decompile(build(Board(RAM_BASE, 16 * MiB)))
    phandles = {cells(props["phandle"])[0]: path for path, props in tree.items()
                if "phandle" in props}
    assert len(phandles) == 4
    assert phandles[cells(tree["/poweroff"]["regmap"])[0]] == "/soc/test@100000"
    assert phandles[cells(tree["/reboot"]["regmap"])[0]] == "/soc/test@100000"
    for path, props in tree.items():
        if "interrupt-parent" in props:
            assert phandles[cells(props["interrupt-parent"])[0]] == "/soc/plic@c000000", path
        if "interrupts-extended" in props:
            for parent in cells(props["interrupts-extended"])[::2]:
                assert phandles[parent] == "/cpus/cpu@0/interrupt-controller", path


def test_the_isa_string_follows_isa(dtc):
    cpu = decompile(build(Board(RAM_BASE, MiB, isa="rv32ia")))["/cpus/cpu@0"]
    assert cpu["riscv,isa"] == '"rv32ia_zicntr_zicsr_zifencei"'
    assert cpu["riscv,isa-extensions"] == '"i\\0a\\0zicntr\\0zicsr\\0zifencei"'


def test_a_guest_tree_has_its_own_memory_and_devices_only(dtc):
    tree = decompile(build(guest_board(4 * MiB, "quiet")))
    assert cells(tree["/memory@80000000"]["reg"]) == [0, RAM_BASE, 0, 4 * MiB]
    soc = {path for path in tree if path.startswith("/soc/") and path.count("/") == 2}
    slots = {f"/soc/virtio_mmio@{0x10001000 + 0x1000 * n:x}" for n in range(8)}
    assert soc == {"/soc/serial@10000000", "/soc/plic@c000000"} | slots, \
        "no CLINT or test device"
    assert tree["/soc/serial@10000000"]["interrupts"] == "<0x0a>"
    assert tree["/soc/plic@c000000"]["interrupts-extended"] == "<0x02 0x0b 0x02 0x09>"
    assert "/poweroff" not in tree
    assert tree["/chosen"]["bootargs"] == '"quiet"'


@settings(max_examples=25, deadline=None)
@given(pages=st.integers(1, (2 << 30) // 4096),
       bootargs=st.text(st.sampled_from("abcxyz019 =/.,-_:"), max_size=60),
       isa=st.sampled_from(["rv32ima", "rv32ia"]))
def test_any_board_round_trips_through_dtc(pages, bootargs, isa):
    mem = pages * 4096
    tree = decompile(build(Board(RAM_BASE, mem, isa, bootargs)))
    assert cells(tree["/memory@80000000"]["reg"]) == [0, RAM_BASE, mem >> 32, mem & 0xFFFF_FFFF]
    assert tree["/chosen"].get("bootargs") == (f'"{bootargs}"' if bootargs else None)
    assert tree["/cpus/cpu@0"]["riscv,isa"].startswith(f'"{isa}_')


# ---- placement

def test_placed_as_qemu_places_it_near_the_top_of_ram():
    image = [(RAM_BASE, RAM_BASE + 0x3000)]
    assert place(3000, RAM_BASE, 128 * MiB, image) == 0x87E0_0000
    assert place(3000, RAM_BASE, 16 * MiB, image) == 0x80E0_0000
    assert place(3000, RAM_BASE, 2 << 30, image) == 0xBFE0_0000     # below 3 GiB


def test_small_ram_falls_back_to_pages():
    image = [(RAM_BASE, RAM_BASE + 0x3000)]
    assert place(3000, RAM_BASE, 64 << 10, image) == RAM_BASE + (64 << 10) - 4096
    assert place(5000, RAM_BASE, 64 << 10, image) == RAM_BASE + (64 << 10) - 8192
    # 2 MiB of RAM: the one 2 MiB-aligned spot is the program's.
    assert place(3000, RAM_BASE, 2 * MiB, image) == RAM_BASE + 2 * MiB - 4096


def test_placed_below_a_segment_in_the_way():
    top = RAM_BASE + 16 * MiB
    assert place(3000, RAM_BASE, 16 * MiB, [(top - 4 * MiB, top)]) == top - 6 * MiB
    data = (RAM_BASE + 0x8000, RAM_BASE + 0x10000)
    assert place(3000, RAM_BASE, 64 << 10, [data]) == RAM_BASE, "2 MiB-aligned and free"
    assert place(3000, RAM_BASE, 64 << 10, [(RAM_BASE, RAM_BASE + 0x1000), data]) == \
        RAM_BASE + 0x7000


def test_no_room_is_a_clear_error():
    with pytest.raises(ConfigError, match="no room in RAM for the 5000-byte device tree"):
        place(5000, RAM_BASE, 8192, [(RAM_BASE, RAM_BASE + 4096)])


# ---- a1 at the start

def machine_for(source: str, boot: str, mem: int = 16 * MiB, **options) -> Machine:
    machine = Machine(mem, Console(io.BytesIO()), **options)
    machine.load(assemble(source), boot)
    return machine


def test_a_bare_m_program_gets_the_tree_in_a1():
    machine = machine_for(POWER_OFF, "m", 64 << 10)
    assert machine.x[A1] == machine.dtb_address == RAM_BASE + (64 << 10) - 4096
    stop = machine.run(1000)
    assert (stop.reason, stop.status) == (StopReason.EXIT, 0)


def test_the_tree_in_ram_is_the_machines(dtc):
    machine = machine_for(POWER_OFF, "m", 32 * MiB, bootargs="earlycon")
    blob = machine.core.read(machine.dtb_address, len(machine.device_tree))
    assert int.from_bytes(blob[:4], "big") == FDT_MAGIC
    tree = decompile(blob)
    assert tree["/chosen"]["bootargs"] == '"earlycon"'
    assert cells(tree["/memory@80000000"]["reg"]) == [0, RAM_BASE, 0, 32 * MiB]


def test_boot_s_and_emu_hv_pass_the_same_a1():
    machine = machine_for(SBI_SHUTDOWN, "s")
    assert machine.x[A1] == 0x80E0_0000
    stop = machine.run(1000)
    assert (stop.reason, stop.status) == (StopReason.EXIT, 0)
    hv = Hypervisor([GuestConfig("g", assemble(SBI_SHUTDOWN), 16 * MiB)])
    guest = hv.guests[0]
    assert guest.x[A1] == guest.dtb_address == 0x80E0_0000
    hv.run()
    assert guest.end.status == 0 and guest.end.message == "SBI shutdown"


def test_each_guest_gets_a_tree_of_its_own_in_its_own_ram(dtc):
    hv = Hypervisor([GuestConfig("a", assemble(SBI_SHUTDOWN), 4 * MiB, bootargs="one"),
                     GuestConfig("b", assemble(SBI_SHUTDOWN), 8 * MiB)])
    a, b = hv.guests
    assert (a.dtb_address, b.dtb_address) == (0x8020_0000, 0x8060_0000)
    tree = decompile(a.ram.read(a.dtb_address, len(a.device_tree)))
    assert cells(tree["/memory@80000000"]["reg"]) == [0, RAM_BASE, 0, 4 * MiB]
    assert tree["/chosen"]["bootargs"] == '"one"'
    assert "bootargs" not in decompile(b.device_tree)["/chosen"]


# ---- the command line

def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_emu_dtb_writes_the_blob_emu_run_uses(tmp_path, dtc):
    out = tmp_path / "board.dtb"
    result = invoke("dtb", "--mem", "64M", "--isa", "rv32ia", "--append", "a b", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == build(Board(RAM_BASE, 64 * MiB, "rv32ia", "a b"))
    assert invoke("dtb", "--mem", "64M", "--isa", "rv32ia", "--append", "a b",
                  "-o", "-").stdout_bytes == out.read_bytes()
    machine = machine_for(POWER_OFF, "m", 64 * MiB, isa="rv32ia", bootargs="a b")
    assert machine.device_tree == out.read_bytes()
    guest = tmp_path / "guest.dtb"
    assert invoke("dtb", "--guest", "-o", guest).exit_code == 0
    assert guest.read_bytes() == build(guest_board(16 * MiB))


def test_run_with_a_given_tree(tmp_path):
    blob = build(Board(RAM_BASE, MiB, bootargs="given"))
    (tmp_path / "t.dtb").write_bytes(blob + b"trailing bytes are not the tree's")
    (tmp_path / "p.S").write_text(POWER_OFF)
    result = invoke("run", "--dtb", tmp_path / "t.dtb", tmp_path / "p.S")
    assert result.exit_code == 0, result.output
    from emu.options import read_dtb
    assert machine_for(POWER_OFF, "m", dtb=read_dtb(tmp_path / "t.dtb")).device_tree == blob


@pytest.mark.parametrize("content,message", [
    (b"", "not a device tree blob: only 0 bytes"),
    (b"\x7fELF" + bytes(60), "its magic is 0x7f454c46, not 0xd00dfeed"),
    (build(Board(RAM_BASE, MiB))[:100], "truncated device tree blob"),
])
def test_a_bad_dtb_is_a_clear_error(tmp_path, content, message):
    (tmp_path / "bad.dtb").write_bytes(content)
    (tmp_path / "p.S").write_text(POWER_OFF)
    for result in (invoke("run", "--dtb", tmp_path / "bad.dtb", tmp_path / "p.S"),
                   invoke("hv", "--dtb", f"p={tmp_path / 'bad.dtb'}", tmp_path / "p.S")):
        assert result.exit_code == 1
        assert message in result.stderr and "Traceback" not in result.stderr
    missing = invoke("run", "--dtb", tmp_path / "none.dtb", tmp_path / "p.S")
    assert missing.exit_code == 1 and "cannot read" in missing.stderr


def test_append_and_dtb_do_not_mix(tmp_path):
    (tmp_path / "t.dtb").write_bytes(build(Board(RAM_BASE, MiB)))
    (tmp_path / "p.S").write_text(POWER_OFF)
    result = invoke("run", "--dtb", tmp_path / "t.dtb", "--append", "x", tmp_path / "p.S")
    assert result.exit_code == 2 and "put them in your tree" in result.stderr


def test_hv_append_reaches_the_guests_tree(tmp_path, dtc):
    (tmp_path / "p.S").write_text(SBI_SHUTDOWN)
    result = invoke("hv", "--append", "p=console=hvc0", "--mem", "4M", tmp_path / "p.S")
    assert result.exit_code == 0, result.stderr
    assert invoke("hv", "--append", "q=x", tmp_path / "p.S").exit_code == 2


def test_too_little_ram_for_the_tree(tmp_path):
    (tmp_path / "p.S").write_text(POWER_OFF)
    result = invoke("run", "--mem", "4K", tmp_path / "p.S")
    assert result.exit_code == 1 and "no room in RAM" in result.stderr
