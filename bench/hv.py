"""make bench, part two: the hypervisor's cost (issue "The hypervisor", Speed).

The three workloads of bench/run.py, built as S-mode guest kernels (bench/guest.S),
each run bare (`emu run --boot s`, the Machine) and as the one guest of `emu hv`
(the Hypervisor), interleaved, the median of --runs runs; then
  - the cost of one emulated exit: guest.S in its EXITS mode reads sstatus N
    times, each read an exit under the hypervisor; (hv time - bare time) / exits;
  - 32 guests of 4 MiB at once against 32 times one guest alone.
Every checksum is checked against the known answer, as bench/run.py does.

`make bench` runs it as part of bench/run.py (its results under "hv" in
build/bench.json); alone:

    python bench/hv.py [--quick] [--runs N] [--wall] [--json build/bench-hv.json]
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

from run import (BENCH, BUILD, CROSS, CROSS_FLAGS, ROOT, WORKLOADS, check, make,
                 median_runs)

MODE_EXITS = 4          # bench/guest.S
EXITS = 200_000         # sstatus reads in the exit-cost guest
MANY = 32               # guests at once
MANY_MEM = 4 << 20
GUEST_MEM = 16 << 20
TARGETS = {"hv_over_bare_max": 1.10, "many_over_one": 1.2}

clock = time.process_time


def build() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    for name in WORKLOADS:
        sources = [BENCH / "guest.S", BENCH / "support.c", BENCH / f"{name}.c"]
        target = BUILD / f"guest-{name}.elf"
        make(target, sources + [BENCH / "runner.inc", ROOT / "programs" / "link.ld"],
             [CROSS, *CROSS_FLAGS, "-o", target, *sources])


def _program(name: str, iters: int, mode: int = 0):
    """The guest's ELF, and what the runner writes into its data before it runs."""
    from emu.elf import load_elf
    program = load_elf(BUILD / f"guest-{name}.elf")
    settings = {program.symbols["bench_iters"]: iters, program.symbols["bench_mode"]: mode}
    return program, {address: value.to_bytes(4, "little")
                     for address, value in settings.items()}


def run_bare(image, mem: int = GUEST_MEM) -> tuple[float, int, int]:
    """The guest alone under `--boot s`: (seconds, instructions, checksum)."""
    from emu.machine import Machine, StopReason
    from emu.platform import Console
    out = io.BytesIO()
    machine = Machine(mem, Console(out, b""))
    program, settings = image
    machine.load(program, "s")
    for address, data in settings.items():
        machine.core.write(address, data)
    start = clock()
    stop = machine.run()
    seconds = clock() - start
    if stop.reason != StopReason.EXIT or stop.status != 0:
        raise SystemExit(f"bare --boot s: {program.path} stopped: {stop}")
    return seconds, machine.core.steps, checksum(out.getvalue())


def run_hv(images: list, mem: int = GUEST_MEM):
    """All the guests at once: (seconds, the hypervisor)."""
    from emu.hv import GuestConfig, Hypervisor
    from emu.hv.hypervisor import EndReason
    configs = [GuestConfig(f"g{i}", program, mem) for i, (program, _) in enumerate(images)]
    hv = Hypervisor(configs, out=io.BytesIO())
    for guest, (_, settings) in zip(hv.guests, images):
        for address, data in settings.items():
            guest.write_memory(address, data)
    start = clock()
    hv.run()
    seconds = clock() - start
    for guest in hv.guests:
        if guest.end.reason is not EndReason.SHUTDOWN or guest.end.status != 0:
            raise SystemExit(f"emu hv: guest {guest.name} ended: {guest.end}")
    return seconds, hv


def run_one_hv(image, facts: dict) -> tuple[float, int, int]:
    """The guest alone under `emu hv`: (seconds, instructions, checksum), as
    run_bare; its native share and exit count go into facts."""
    seconds, hv = run_hv([image])
    guest = hv.guests[0]
    facts["native_share"] = guest.stats.as_dict(guest.hart.steps)["native_share"]
    facts["exits"] = guest.stats.exit_count
    return seconds, guest.hart.steps, checksum(bytes(guest.console.data))


def checksum(output: bytes) -> int:
    return int(output.decode().strip(), 16)


def bare_and_hv(runs: int, image) -> tuple[tuple, tuple, dict]:
    """The median (seconds, instructions, checksum) of each, and the hv facts."""
    facts: dict = {}
    measured = median_runs(runs, {"bare": lambda: run_bare(image),
                                  "hv": lambda: run_one_hv(image, facts)})
    return measured["bare"], measured["hv"], facts


def measure_workloads(runs: int, quick: bool) -> dict:
    rows = {}
    for name, (iters, quick_iters, expected) in WORKLOADS.items():
        n = quick_iters if quick else iters
        bare, virtual, facts = bare_and_hv(runs, _program(name, n))
        for engine, (_, _, found) in (("bare", bare), ("hv", virtual)):
            check(name, f"{engine} guest", n, found, expected)
        if bare[1:] != virtual[1:]:
            raise SystemExit(f"{name}: bare and hv disagree: {bare} against {virtual}")
        (bare_s, insns, _), hv_s = bare, virtual[0]
        rows[name] = {"iterations": n, "instructions": insns, "bare_s": bare_s,
                      "hv_s": hv_s, "hv_over_bare": hv_s / bare_s,
                      "native_share": facts["native_share"]}
        print(f"{name:10} {insns:>14,} {bare_s:8.3f} {hv_s:8.3f} "
              f"{hv_s / bare_s:7.3f}x {100 * facts['native_share']:8.3f}%")
    return rows


def exit_cost_us(runs: int) -> tuple[float, int]:
    bare, virtual, facts = bare_and_hv(runs, _program("crc32", EXITS, MODE_EXITS))
    return (virtual[0] - bare[0]) / facts["exits"] * 1e6, facts["exits"]


def many_guests(runs: int, quick: bool) -> dict:
    iters = WORKLOADS["crc32"][1] // (5 if quick else 1)
    image = _program("crc32", iters)
    ones, manys = [], []
    for _ in range(runs):           # interleaved, as median_runs does
        ones.append(run_hv([image], MANY_MEM)[0])
        manys.append(run_hv([image] * MANY, MANY_MEM)[0])
    one, many = statistics.median(ones), statistics.median(manys)
    return {"one_s": one, "many_s": many, "guests": MANY, "mem": MANY_MEM,
            "many_over_one": many / (MANY * one)}


def measure(runs: int, quick: bool, timer=time.process_time) -> dict:
    """Every measurement, printed as it comes; the results."""
    global clock
    clock = timer
    build()
    print(f"{'guest':10} {'instructions':>14} {'bare s':>8} {'hv s':>8} {'hv/bare':>8} "
          f"{'native':>9}")
    results = {"workloads": measure_workloads(runs, quick)}
    results["exit_us"], results["exits"] = exit_cost_us(runs)
    results["many"] = many = many_guests(runs, quick)
    summary = {"hv_over_bare_max": max(r["hv_over_bare"] for r in results["workloads"].values()),
               "many_over_one": many["many_over_one"]}
    results["summary"] = summary
    print(f"one emulated exit        {results['exit_us']:8.2f} us "
          f"({results['exits']:,} exits: csrr sstatus)")
    print(f"{MANY} guests of 4 MiB      {many['many_s']:8.3f} s against {MANY} x "
          f"{many['one_s']:.3f} s alone")
    for key, target in TARGETS.items():
        verdict = "ok" if summary[key] <= target else "ABOVE TARGET"
        print(f"  {key:22} {summary[key]:5.2f}  (target <= {target})  {verdict}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="small iteration counts")
    parser.add_argument("--wall", action="store_true", help="time by the wall clock")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench-hv.json")
    args = parser.parse_args()
    results = measure(args.runs, args.quick, time.perf_counter if args.wall else time.process_time)
    results.update(quick=args.quick, runs=args.runs)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
