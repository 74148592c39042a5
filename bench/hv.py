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

from run import BENCH, BUILD, CROSS, CROSS_FLAGS, ROOT, WORKLOADS, check, make

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


def run_bare(image, mem: int = GUEST_MEM) -> tuple[float, int, str]:
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
    return seconds, machine.core.steps, out.getvalue().decode()


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


def checksum(output: bytes | str) -> int:
    text = output.decode() if isinstance(output, bytes) else output
    return int(text.strip(), 16)


def median_pair(runs: int, bare, virtual) -> tuple[float, float]:
    bare_times, hv_times = [], []
    for _ in range(runs):
        bare_times.append(bare())
        hv_times.append(virtual())
    return statistics.median(bare_times), statistics.median(hv_times)


def measure_workloads(runs: int, quick: bool) -> dict:
    rows = {}
    for name, (iters, quick_iters, expected) in WORKLOADS.items():
        n = quick_iters if quick else iters
        image = _program(name, n)
        found = {}

        def bare():
            seconds, steps, out = run_bare(image)
            found["bare"] = (steps, checksum(out))
            return seconds

        def virtual():
            seconds, hv = run_hv([image])
            guest = hv.guests[0]
            found["hv"] = (guest.hart.steps, checksum(bytes(guest.console.data)))
            found["native_share"] = guest.stats.as_dict(guest.hart.steps)["native_share"]
            return seconds

        bare_s, hv_s = median_pair(runs, bare, virtual)
        for engine in ("bare", "hv"):
            check(name, f"{engine} guest", n, found[engine][1], expected)
        if found["bare"] != found["hv"]:
            raise SystemExit(f"{name}: bare and hv disagree: {found}")
        rows[name] = {"iterations": n, "instructions": found["bare"][0], "bare_s": bare_s,
                      "hv_s": hv_s, "hv_over_bare": hv_s / bare_s,
                      "native_share": found["native_share"]}
        print(f"{name:10} {found['bare'][0]:>14,} {bare_s:8.3f} {hv_s:8.3f} "
              f"{hv_s / bare_s:7.3f}x {100 * found['native_share']:8.3f}%")
    return rows


def exit_cost_us(runs: int) -> tuple[float, int]:
    image = _program("crc32", EXITS, MODE_EXITS)
    exits = []

    def virtual():
        seconds, hv = run_hv([image])
        exits.append(hv.guests[0].stats.exit_count)
        return seconds

    bare_s, hv_s = median_pair(runs, lambda: run_bare(image)[0], virtual)
    return (hv_s - bare_s) / exits[-1] * 1e6, exits[-1]


def many_guests(runs: int, quick: bool) -> dict:
    iters = WORKLOADS["crc32"][1] // (5 if quick else 1)
    image = _program("crc32", iters)
    one = statistics.median(run_hv([image], MANY_MEM)[0] for _ in range(runs))
    many, _ = run_hv([image] * MANY, MANY_MEM)
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
