"""The guest kernels of programs/guests/: S-mode kernels that use only the standard
SBI, run bare under `emu run --boot s` (these tests) and, unchanged, under the
hypervisor, whose equivalence tests compare its runs with exactly these.

Each guest is programs/guests/NAME/ with NAME.S (built by `emu asm`) or NAME.c
(built by riscv64-unknown-elf-gcc with C_RUNTIME, lib/'s start.S and runtime.c),
expected.txt (its standard output under `emu run --boot s`) and args (the `emu run`
options: `--boot s --mem 16M`, a hypervisor guest's RAM). build_guest() below builds them as programs/Makefile does;
keep the two in step. VARIANTS are second builds of a guest with other --defsym
values (adv-secret as guest 2), with their own expected output.

Besides each output as a whole, the adversarial guests are checked for what they
must report, so that a wrong expected.txt cannot pass unnoticed."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from emu.elf import load_elf
from emu.machine import Machine, StopReason
from emu.platform import Console
from tests.conftest import emu_env
from tests.gnu import build as gnu_build

REPO = Path(__file__).resolve().parent.parent
GUEST_DIR = REPO / "programs" / "guests"
LINK = REPO / "programs" / "link.ld"
GCC = "riscv64-unknown-elf-gcc"
# programs/Makefile's GUEST_C_LIB: every C guest's entry and shared runtime.
C_RUNTIME = [GUEST_DIR / "lib" / "start.S", GUEST_DIR / "lib" / "runtime.c"]
# programs/Makefile's GUEST_CFLAGS.
GCC_FLAGS = ["-march=rv32ima_zicsr_zifencei", "-mabi=ilp32", "-O2", "-ffreestanding",
             "-nostdlib", "-mcmodel=medany", "-Wall"]
MAX_INSNS = 50_000_000          # every guest but adv-spin ends far sooner
SPIN_INSNS = 2_000_000
MEM = 16 << 20                  # what each guest's args file asks for


def _is_guest(path: Path) -> bool:
    return path.is_dir() and any((path / f"{path.name}{ext}").exists() for ext in (".S", ".c"))


GUESTS = sorted(p.name for p in GUEST_DIR.iterdir() if _is_guest(p))


@dataclass(frozen=True)
class Variant:
    """A second build of guest `source`, with `defsyms`, and its own expected output."""
    source: str
    defsyms: dict = field(default_factory=dict)
    expected: str = "expected.txt"


VARIANTS = {name: Variant(name) for name in GUESTS}
VARIANTS["adv-secret-2"] = Variant("adv-secret", {"GUEST_ID": 2}, "expected-2.txt")
STATUS = {"adv-spin": 124,      # stopped by --max-insns: it never ends by itself
          "disk": 1}            # no --disk in args: it finds no disk and says so


def build_guest(name: str, out: Path) -> Path:
    """Build guest (or variant) `name` into the ELF `out`, as programs/Makefile does."""
    variant = VARIANTS[name]
    src = GUEST_DIR / variant.source
    out.parent.mkdir(parents=True, exist_ok=True)
    if (src / f"{variant.source}.c").exists():
        if shutil.which(GCC) is None:
            pytest.fail(f"{GCC} is missing: the C guest needs it (Debian package "
                        "gcc-riscv64-unknown-elf; `make install` installs it)")
        done = subprocess.run([GCC, *GCC_FLAGS, "-T", str(LINK), "-o", str(out),
                               *map(str, C_RUNTIME), str(src / f"{variant.source}.c")],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"gcc failed:\n{done.stderr}"
        return out
    argv = ["asm"]
    for key, value in variant.defsyms.items():
        argv += ["--defsym", f"{key}={value}"]
    result = CliRunner().invoke(main, [*argv, "-o", str(out), str(src / f"{variant.source}.S")])
    assert result.exit_code == 0, f"emu asm {name} failed:\n{result.output}"
    return out


def guest_args(name: str) -> list[str]:
    return (GUEST_DIR / VARIANTS[name].source / "args").read_text().split()


def run_guest(elf: Path, name: str, *extra: str):
    """`emu run ARGS --max-insns N [extra] ELF` through click, as a user would."""
    limit = SPIN_INSNS if name == "adv-spin" else MAX_INSNS
    return CliRunner().invoke(main, ["run", *guest_args(name), "--max-insns", str(limit),
                                     *extra, str(elf)])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every guest and variant, built once for the module; name -> ELF path."""
    directory = tmp_path_factory.mktemp("guests")
    return {name: build_guest(name, directory / f"{name}.elf") for name in VARIANTS}


# -- every guest: its output, its exit status, its files ---------------------------------

@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_guest_output(name, built):
    result = run_guest(built[name], name)
    expected = (GUEST_DIR / VARIANTS[name].source / VARIANTS[name].expected).read_text()
    assert result.stdout == expected
    assert result.exit_code == STATUS.get(name, 0), result.stderr


def test_the_guests_are_all_there():
    assert set(GUESTS) >= {"hello", "ticks", "os", "cguest", "disk",
                           "adv-probe", "adv-secret", "adv-mcsr", "adv-spin"}
    readme = (GUEST_DIR / "README.md").read_text()
    for name in GUESTS:
        directory = GUEST_DIR / name
        assert (directory / "expected.txt").exists(), name
        args = guest_args(name)
        assert args[:2] == ["--boot", "s"] and "--mem" in args, name
        assert args[args.index("--mem") + 1] == "16M", name   # a hypervisor guest's RAM
        assert f"`{name}`" in readme, f"programs/guests/README.md says nothing of {name}"


def test_guests_are_deterministic(built):
    """Two runs, the same output and the same instruction count: what lets a
    hypervisor run be compared with a bare one at all."""
    for name in ("os", "ticks", "cguest"):
        summaries = []
        for attempt in range(2):
            path = built[name].with_suffix(f".{attempt}.json")
            result = run_guest(built[name], name, "--json", str(path))
            assert result.exit_code == 0, result.stderr
            summary = json.loads(path.read_text())
            summaries.append((result.stdout, summary["instructions"], summary["retired"]))
        assert summaries[0] == summaries[1], name


def _image(elf: Path):
    """What a run loads: the entry and each segment's address and bytes (gcc's
    symbol tables name its temporary files, which differ from build to build)."""
    program = load_elf(elf)
    return program.entry, [(s.paddr, bytes(s.data), s.memsz) for s in program.segments]


def test_the_makefile_builds_the_same_elfs(built, tmp_path):
    """`make -C programs guests` builds every guest and variant as build_guest()
    does: the same code and data at the same addresses."""
    done = subprocess.run(["make", "-s", "-C", str(REPO / "programs"), "guests",
                           f"BUILD={tmp_path}"], capture_output=True, text=True, env=emu_env())
    assert done.returncode == 0, done.stdout + done.stderr
    for name, elf in built.items():
        made = tmp_path / "guests" / f"{name}.elf"
        assert made.exists(), f"the Makefile does not build {name}"
        assert _image(made) == _image(elf), name
    assert sorted(p.stem for p in (tmp_path / "guests").glob("*.elf")) == sorted(VARIANTS)


def test_emu_asm_builds_what_gnu_builds(built, binutils, tmp_path):
    """The assembly guests, built by GNU as and ld instead of `emu asm`: the same
    code and data at the same addresses (a second opinion on our assembler)."""
    for name, variant in VARIANTS.items():
        source = GUEST_DIR / variant.source / f"{variant.source}.S"
        if source.exists():
            gnu = gnu_build(source, tmp_path / f"{name}.elf", defsyms=variant.defsyms)
            assert _image(gnu) == _image(built[name]), name


# -- what the guests must report ----------------------------------------------------------

def test_hello_reports_the_sbi(built):
    out = run_guest(built["hello"], "hello").stdout
    assert "SBI specification v2.0\n" in out
    assert "implementation id 0x00656d75" in out            # "emu"


def test_ticks_counts_ten_ticks_none_early(built):
    out = run_guest(built["ticks"], "ticks").stdout
    deltas = [int(d) for d in re.findall(r"^tick \d+: time \+(\d+)$", out, re.M)]
    assert len(deltas) == 10
    assert all(d >= 10000 for d in deltas)                  # never before the deadline
    assert "WFI returned 10 times" in out


def test_os_isolates_preempts_and_kills(built):
    out = run_guest(built["os"], "os").stdout
    # The same virtual address, a different page: each process sees its own counter.
    assert re.findall(r"\[pid 1\] round \d: my counter at va 0x00401010 is (\d+)", out) == \
        ["101", "102", "103"]
    assert re.findall(r"\[pid 2\] round \d: my counter at va 0x00401010 is (\d+)", out) == \
        ["201", "202", "203"]
    assert "[kernel] timer interrupt in pid 1\n" in out and \
        "[kernel] timer interrupt in pid 2\n" in out
    assert "[kernel] pid 1 yields\n" in out
    assert "SYS_WRITE from 0x80000000 refused" in out
    assert "[pid 1] the kernel said EFAULT\n" in out
    assert "[kernel] pid 1 exited with status 0\n" in out
    assert re.search(r"\[kernel\] pid 2 killed: load page fault \(scause 13, "
                     r"stval 0x80000000, sepc 0x004[0-9a-f]{5}\)\n", out)
    assert "and survived" not in out
    assert out.endswith("[kernel] no process left: shutting down\n")


def test_cguest_computes(built):
    out = run_guest(built["cguest"], "cguest").stdout
    assert "1229 primes below 10000, their sum 5736396, the last five: " \
           "9931 9941 9949 9967 9973\n" in out
    assert "the=6 guest=2" in out
    assert "timer interrupt, scause 0x80000005, not before its deadline\n" in out


# adv-probe: the fault each probe must get. RAM and the UART answer; below RAM,
# past its 16 MiB, past 4 GiB (34-bit Sv32 addresses) and through a page table
# outside RAM, the bus faults with the access's own kind of access fault.
ACCESS_FAULT = {"lw": "load access fault", "lbu": "load access fault",
                "sw": "store/AMO access fault", "jalr": "instruction access fault"}
PROBE_LINE = re.compile(r"^  (lw|sw|jalr|lbu) +0x([0-9a-f]{8}) (.*): (.*)$")


def test_adv_probe_faults_outside_its_ram(built):
    out = run_guest(built["adv-probe"], "adv-probe").stdout
    probes = [PROBE_LINE.match(line).groups() for line in out.splitlines()
              if line.startswith("  ")]
    assert len(probes) == 43
    for insn, address, what, result in probes:
        address = int(address, 16)
        if "no mapping" in what:
            assert result == "load page fault", what
        elif 0x80000000 <= address < 0x81000000 and insn == "lw" and "misaligned" not in what:
            assert result == "no fault", what                # its own RAM
        elif ("UART" in what and insn == "lbu") or "PLIC, priority 0" in what:
            assert result == "no fault", what                # its own devices
        elif "test device" in what or "CLINT" in what:
            # The board's own devices come last, after the summary: the CLINT is
            # the firmware's (kept from S-mode as OpenSBI's PMP keeps it), the
            # test device answers (see the guest's header).
            assert result == ("no fault" if "test device" in what else "load access fault"), what
            assert out.index(what) > out.index("probes faulted"), what
        else:
            assert result == ACCESS_FAULT[insn], what
    assert "\nadv-probe: 34 of 39 probes faulted\nadv-probe: phase 3, the board's own " \
        "devices" in out


def test_adv_mcsr_traps_every_m_mode_attempt(built):
    out = run_guest(built["adv-mcsr"], "adv-mcsr").stdout
    results = dict(re.findall(r"^adv-mcsr: (.+): (illegal instruction|no trap|.+ fault)$",
                              out, re.M))
    for attempt in ("csrr mstatus", "csrw mtvec", "csrr mepc", "csrw mepc", "csrr mhartid",
                    "csrr pmpcfg0", "csrw pmpcfg0 (open all memory)", "mret",
                    "csrw medeleg (take back the delegated traps)",
                    "the all-zeros instruction", "a custom-0 opcode instruction"):
        assert results.pop(attempt) == "illegal instruction", attempt
    assert results.pop("csrw satp with garbage in Bare mode") == "no trap"  # S-mode's own CSR
    assert results.pop("sw to the CLINT mtimecmp") == "store/AMO access fault"   # firmware's
    assert results == {}
    # The CLINT attempt comes after the summary: the part every host shares.
    assert out.index("11 of 12 attempts trapped\n") < out.index("sw to the CLINT mtimecmp")


def test_adv_spin_runs_until_stopped(built, tmp_path):
    summary_path = tmp_path / "spin.json"
    result = run_guest(built["adv-spin"], "adv-spin", "--json", str(summary_path))
    assert result.exit_code == 124
    summary = json.loads(summary_path.read_text())
    assert summary["stop"] == "limit"
    assert summary["instructions"] == SPIN_INSNS
    assert summary["privilege"] == "S"                      # it never left its loop


def _run_planted(elf: Path, plants: dict[int, bytes]):
    """adv-secret with some bytes put in its RAM before it starts: what a guest
    would find if isolation were broken. Returns (stop, output)."""
    out = io.BytesIO()
    machine = Machine(MEM, Console(out, b""))
    machine.load(load_elf(elf), "s")
    for address, data in plants.items():
        assert machine.write_ram(address, data)
    stop = machine.run(MAX_INSNS)
    return stop, out.getvalue().decode()


def test_adv_secret_finds_only_its_own(built):
    for name, me, other in (("adv-secret", 1, 2), ("adv-secret-2", 2, 1)):
        result = run_guest(built[name], name)
        out = result.stdout
        assert f"my secret is SECRET-OF-GUEST{me}\n" in out
        written = int(re.search(r"start of (\d+) free pages", out).group(1))
        assert written > 4000                               # nearly all of 16 MiB
        assert f"found my own secret {written} times\n" in out
        assert f"found guest {other}'s secret 0 times\n" in out
        assert "besides my secret: 0\n" in out
        assert result.exit_code == 0


def test_adv_secret_would_see_a_leak(built):
    """The detector works: another guest's secret, or any stray data, planted in
    the RAM that adv-secret scans, is reported, with exit status 1."""
    stop, out = _run_planted(built["adv-secret"], {0x80800100: b"SECRET-OF-GUEST2"})
    assert "found guest 2's secret 1 times\n" in out
    assert "ISOLATION BROKEN" in out
    assert (stop.reason, stop.status) == (StopReason.EXIT, 1)

    stop, out = _run_planted(built["adv-secret-2"], {0x80900040: b"\xef\xbe\xad\xde"})
    assert "found guest 1's secret 0 times\n" in out
    assert "besides my secret: 1\n" in out
    assert (stop.reason, stop.status) == (StopReason.EXIT, 1)
