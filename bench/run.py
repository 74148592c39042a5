"""make bench: emu's speed, measured side by side with unicorn and native code.

Three C workloads (bench/crc32.c, sieve.c, qsort.c; about 1e9 RV32IM instructions
each at the default iteration counts) are built with riscv64-unknown-elf-gcc and
bench/start.S, and run:
  - on emu (emu.machine.Machine, bare M-mode) and on unicorn (RAM only: the
    workload leaves its checksum in a0 at `bench_done`, where unicorn stops),
    interleaved, the median of --runs runs each;
  - on emu in two variants of the same run: U-mode under Sv32 with 4 KiB pages,
    and a machine timer interrupt every 10,000 instructions (bench_mode in
    start.S); and as S-mode guests, bare and under `emu hv` (bench/hv.py);
  - natively (gcc -O2 on this machine), for the distance to native.
Every checksum is checked against the known answer. Then the Python boundary and
start-up: one exit round trip, `emu run` of a tiny program, `import emu`, and the
peak resident memory of a run with the default RAM.

    python bench/run.py [--quick] [--runs N] [--json build/bench.json] [--compare OLD.json]
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = ROOT / "build" / "bench"
sys.path.insert(0, str(ROOT))

CROSS = "riscv64-unknown-elf-gcc"
CROSS_FLAGS = ["-march=rv32ima_zicsr", "-mabi=ilp32", "-O2", "-nostdlib", "-ffreestanding",
               # gcc would turn the clearing loops into memset calls; support.c has
               # one, but the loops are the workload.
               "-fno-tree-loop-distribute-patterns", "-T", str(ROOT / "programs" / "link.ld")]

# name -> (iterations, quick iterations, {iterations: checksum}). The checksums come
# from the native build and are checked on every engine.
WORKLOADS = {
    "crc32": (5000, 250, {5000: 0x80E26D74, 250: 0x12A31327}),
    "sieve": (67, 3, {67: 0xA4A9F78A, 3: 0x04DAD76A}),
    "qsort": (200, 10, {200: 0xA87B618E, 10: 0x58038441}),
}
MODE_USER, MODE_TIMER = 1, 2
ROUND_TRIPS = 100_000

# The workloads are timed in CPU seconds of the process that runs them (user and
# system), which other load on a shared machine disturbs far less than the wall
# clock; --wall times them by the wall clock instead.
clock = time.process_time


def build() -> None:
    """Build the workloads and the tiny program into build/bench/ when stale."""
    BUILD.mkdir(parents=True, exist_ok=True)
    common = [BENCH / "start.S", BENCH / "runner.inc", BENCH / "support.c",
              ROOT / "programs" / "link.ld"]
    for name in WORKLOADS:
        make(BUILD / f"{name}.elf", common + [BENCH / f"{name}.c"],
             [CROSS, *CROSS_FLAGS, "-o", BUILD / f"{name}.elf", BENCH / "start.S",
              BENCH / "support.c", BENCH / f"{name}.c"])
        if shutil.which("gcc"):
            make(BUILD / f"{name}-native", [BENCH / "native.c", BENCH / f"{name}.c"],
                 ["gcc", "-O2", "-o", BUILD / f"{name}-native", BENCH / "native.c",
                  BENCH / f"{name}.c"])
    make(BUILD / "tiny.elf", [BENCH / "tiny.S"],
         [CROSS, *CROSS_FLAGS, "-o", BUILD / "tiny.elf", BENCH / "tiny.S"])


def make(target: Path, sources: list[Path], command: list) -> None:
    if target.exists() and all(target.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return
    subprocess.run([str(c) for c in command], check=True)


# ---- the engines: each returns (seconds, instructions or None, checksum)

def run_emu(name: str, iters: int, mode: int = 0) -> tuple[float, int, int]:
    from emu.elf import load_elf
    from emu.machine import Machine, StopReason
    from emu.platform import Console
    program = load_elf(BUILD / f"{name}.elf")
    out = io.BytesIO()
    machine = Machine(64 << 20, Console(out, b""))
    machine.load(program)
    machine.core.write(program.symbols["bench_iters"], iters.to_bytes(4, "little"))
    machine.core.write(program.symbols["bench_mode"], mode.to_bytes(4, "little"))
    start = clock()
    stop = machine.run()
    seconds = clock() - start
    if stop.reason != StopReason.EXIT or stop.status != 0:
        raise SystemExit(f"emu: {name} (mode {mode}) stopped: {stop}")
    return seconds, machine.core.steps, int(out.getvalue().decode().strip(), 16)


def run_unicorn(name: str, iters: int) -> tuple[float, None, int]:
    from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, Uc
    from unicorn.riscv_const import UC_RISCV_REG_A0
    from emu.elf import load_elf
    program = load_elf(BUILD / f"{name}.elf")
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(0x8000_0000, 8 << 20)
    for seg in program.segments:
        uc.mem_write(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data)))
    uc.mem_write(program.symbols["bench_iters"], iters.to_bytes(4, "little"))
    start = clock()
    uc.emu_start(program.entry, program.symbols["bench_done"])
    seconds = clock() - start
    return seconds, None, uc.reg_read(UC_RISCV_REG_A0)


def children_clock() -> float:
    if clock is time.perf_counter:
        return clock()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_native(name: str, iters: int) -> tuple[float, None, int]:
    start = children_clock()
    done = subprocess.run([BUILD / f"{name}-native", str(iters)], check=True,
                          capture_output=True, text=True)
    return children_clock() - start, None, int(done.stdout, 16)


# ---- measuring

def median_runs(runs: int, engines: dict) -> dict:
    """Run each engine `runs` times, interleaved; the median time of each."""
    times = {key: [] for key in engines}
    results = {}
    for _ in range(runs):
        for key, engine in engines.items():
            seconds, insns, checksum = engine()
            times[key].append(seconds)
            results[key] = (insns, checksum)
    return {key: (statistics.median(times[key]), *results[key]) for key in engines}


def check(name: str, engine: str, iters: int, checksum: int, expected: dict) -> None:
    want = expected.get(iters)
    if want is not None and checksum != want:
        raise SystemExit(f"{engine}: {name} with {iters} iterations gave checksum "
                         f"{checksum:#010x}, expected {want:#010x}")


def round_trip_us() -> float:
    """One exit and re-entry: a guest ecall loop, M-mode in the host, and a Python
    handler that steps mepc past the ecall, as the SBI firmware does."""
    from emu.core import Core, Exit
    core = Core(1 << 20)
    base = 0x8000_0000
    core.write(base, (0x00000073).to_bytes(4, "little") + (0xFFDFF06F).to_bytes(4, "little"))
    core.set_host_mmode(True)
    run, trap, exit_ = core.run, Exit.TRAP, core.exit
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            if run(1000) == trap:
                core.pc = exit_.pc + 4
        best = min(best, time.perf_counter() - start)
    # Two instructions per round trip (ecall, then the jump back), less the first jump.
    if core.steps != 3 * 2 * ROUND_TRIPS - 1:
        raise SystemExit(f"round trip: {core.steps} instructions, expected {6 * ROUND_TRIPS - 1}")
    return best / ROUND_TRIPS * 1e6


def registers_us() -> tuple[float, float]:
    """Reading the 32 registers: through one buffer (Core.registers), and one
    element at a time through the hart struct."""
    from emu.core import Core
    core = Core(1 << 20)
    x = core.x
    times = []
    for read in (core.registers, lambda: [x[i] for i in range(32)]):
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            read()
        times.append((time.perf_counter() - start) / ROUND_TRIPS * 1e6)
    return times[0], times[1]


def wall(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """The peak resident memory of `emu run` of the tiny program (default 128 MiB
    RAM), measured as a child of a fresh process so nothing else is counted."""
    code = ("import resource, subprocess, sys; "
            f"subprocess.run([sys.executable, '-m', 'emu', 'run', {str(BUILD / 'tiny.elf')!r}], "
            "check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    return int(done.stdout) / 1024


# ---- reporting

def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="small iteration counts")
    parser.add_argument("--only", nargs="*", choices=list(WORKLOADS), help="these workloads")
    parser.add_argument("--no-unicorn", action="store_true")
    parser.add_argument("--no-variants", action="store_true", help="bare runs only")
    parser.add_argument("--wall", action="store_true",
                        help="time the workloads by the wall clock, not CPU time")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench.json",
                        help="where to write the results")
    parser.add_argument("--compare", type=Path, help="a previous results file to compare with")
    args = parser.parse_args()
    global clock
    if args.wall:
        clock = time.perf_counter
    build()
    os.chdir(ROOT)
    from emu.core import lib
    dispatch = lib.emu_dispatch_name() if hasattr(lib, "emu_dispatch_name") else None
    results = {"machine": platform.node(), "python": platform.python_version(),
               "quick": args.quick, "runs": args.runs,
               "clock": "wall" if args.wall else "cpu",
               "dispatch": ffi_string(dispatch), "workloads": {}}
    have_native = shutil.which("gcc") is not None
    print(f"{'workload':10} {'instructions':>14} {'emu s':>8} {'emu MIPS':>9} "
          f"{'unicorn':>8} {'ratio':>6} {'native':>8} {'/native':>8} {'U+Sv32':>7} {'timer':>7}")
    for name, (iters, quick, expected) in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        n = quick if args.quick else iters
        engines = {"emu": lambda: run_emu(name, n)}
        if not args.no_unicorn:
            engines["unicorn"] = lambda: run_unicorn(name, n)
        if not args.no_variants:
            engines["user_sv32"] = lambda: run_emu(name, n, MODE_USER)
            engines["timer"] = lambda: run_emu(name, n, MODE_TIMER)
        if have_native:
            engines["native"] = lambda: run_native(name, n)
        measured = median_runs(args.runs, engines)
        insns = measured["emu"][1]
        row = {"iterations": n, "instructions": insns}
        for key, (seconds, _, checksum) in measured.items():
            check(name, key, n, checksum, expected)
            row[key] = {"seconds": seconds, "mips": insns / seconds / 1e6,
                        "checksum": checksum}
        if len({c for _, _, c in measured.values()}) != 1:
            raise SystemExit(f"{name}: the engines disagree: "
                             f"{ {k: hex(c) for k, (_, _, c) in measured.items()} }")
        results["workloads"][name] = row
        print_row(name, row)
    summarize(results)
    if not args.no_variants:
        import hv
        print()
        results["hv"] = hv.measure(args.runs, args.quick, clock)
        print()
    results["round_trip_us"] = round_trip_us()
    results["registers_us"], results["registers_one_by_one_us"] = registers_us()
    results["emu_run_tiny_s"] = wall([sys.executable, "-m", "emu", "run",
                                      str(BUILD / "tiny.elf")], max(args.runs, 5))
    results["import_emu_s"] = wall([sys.executable, "-c", "import emu"], max(args.runs, 5))
    results["python_startup_s"] = wall([sys.executable, "-c", "pass"], max(args.runs, 5))
    results["peak_rss_mb"] = peak_rss_mb()
    print(f"exit round trip          {results['round_trip_us']:8.2f} us")
    print(f"32 registers, one buffer {results['registers_us']:8.2f} us "
          f"(one by one: {results['registers_one_by_one_us']:.2f} us)")
    print(f"emu run tiny.elf         {results['emu_run_tiny_s']:8.3f} s wall")
    print(f"python -c 'import emu'   {results['import_emu_s']:8.3f} s wall "
          f"(python -c pass: {results['python_startup_s']:.3f} s)")
    print(f"peak RSS, emu run        {results['peak_rss_mb']:8.1f} MB (default 128 MiB RAM)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.json}")
    if args.compare:
        compare(json.loads(args.compare.read_text()), results, args.compare)


def ffi_string(value) -> str | None:
    if value is None:
        return None
    from emu.core import ffi
    return ffi.string(value).decode()


def print_row(name: str, row: dict) -> None:
    emu = row["emu"]

    def cell(key: str, width: int, fmt) -> str:
        return f"{fmt(row[key]):>{width}}" if key in row else f"{'-':>{width}}"

    print(f"{name:10} {row['instructions']:>14,} {emu['seconds']:8.3f} {emu['mips']:9.1f} "
          + cell("unicorn", 8, lambda u: f"{u['mips']:.1f}") + " "
          + cell("unicorn", 6, lambda u: f"{emu['mips'] / u['mips']:.2f}x") + " "
          + cell("native", 8, lambda n: f"{n['mips']:.0f}") + " "
          + cell("native", 8, lambda n: f"{n['mips'] / emu['mips']:.1f}x") + " "
          + cell("user_sv32", 7, lambda v: f"{v['mips'] / emu['mips']:.2f}x") + " "
          + cell("timer", 7, lambda v: f"{v['mips'] / emu['mips']:.2f}x"))


def summarize(results: dict) -> None:
    rows = results["workloads"].values()
    summary = {}
    for key in ("emu", "unicorn", "native", "user_sv32", "timer"):
        mips = [row[key]["mips"] for row in rows if key in row]
        if mips:
            summary[key] = geomean(mips)
    if "unicorn" in summary:
        summary["emu_over_unicorn"] = summary["emu"] / summary["unicorn"]
        summary["emu_over_unicorn_min"] = min(row["emu"]["mips"] / row["unicorn"]["mips"]
                                              for row in rows)
    for key in ("user_sv32", "timer"):
        if key in summary:
            summary[f"{key}_over_bare"] = min(row[key]["mips"] / row["emu"]["mips"]
                                              for row in rows)
    results["summary"] = summary
    line = f"{'geomean':10} {'':14} {'':8} {summary['emu']:9.1f} "
    if "unicorn" in summary:
        line += f"{summary['unicorn']:8.1f} {summary['emu_over_unicorn']:5.2f}x "
    if "native" in summary:
        line += f"{summary['native']:8.0f} {summary['native'] / summary['emu']:7.1f}x"
    print(line)
    for key, target in (("emu_over_unicorn", 1.6), ("emu_over_unicorn_min", 1.2),
                        ("user_sv32_over_bare", 0.85), ("timer_over_bare", 0.95)):
        if key in summary:
            verdict = "ok" if summary[key] >= target else "BELOW TARGET"
            print(f"  {key:22} {summary[key]:5.2f}  (target >= {target})  {verdict}")


def compare(old: dict, new: dict, path: Path) -> None:
    print(f"\ncompared with {path} (new / old):")
    for name, row in new["workloads"].items():
        before = old.get("workloads", {}).get(name)
        if not before:
            continue
        parts = [f"{key} {row[key]['mips'] / before[key]['mips']:.2f}x"
                 for key in ("emu", "user_sv32", "timer", "unicorn")
                 if key in row and key in before]
        print(f"  {name:10} " + "  ".join(parts))
    for key in ("round_trip_us", "registers_us", "emu_run_tiny_s", "import_emu_s",
                "peak_rss_mb"):
        if key in old and key in new:
            print(f"  {key:16} {old[key]:.3f} -> {new[key]:.3f}")


if __name__ == "__main__":
    main()
