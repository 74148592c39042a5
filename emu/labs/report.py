"""Grading a submission (every check, in parallel children) and saying how it
went: the text `emu lab check` prints, Gradescope's results.json, a class's CSV.

Gradescope's autograder results format: a JSON object with `score`,
`execution_time`, `output` and `tests`, a list of objects with `name`,
`number`, `score`, `max_score`, `status` ("passed" or "failed"), `output` and
`visibility` ("visible": the student sees the test and its output at once)."""
from __future__ import annotations

import csv
import fnmatch
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from emu.labs import Check, Lab
from emu.labs.sandbox import Result, run_check


def select(lab: Lab, pattern: str | None) -> list[Check]:
    """The checks whose name or title contains pattern (in any case), or whose
    name matches it as a glob (-k)."""
    if not pattern:
        return list(lab.checks)
    text = pattern.lower()
    return [c for c in lab.checks
            if text in c.name.lower() or text in c.title.lower() or fnmatch.fnmatch(c.name, pattern)]


def grade(lab: Lab, student_dir: Path, checks: Sequence[Check], jobs: int = 1) -> list[Result]:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda c: run_check(lab, c, student_dir), checks))


def total(results: Sequence[Result]) -> tuple[float, float]:
    return sum(r.score for r in results), sum(r.check.points for r in results)


def points(value: float) -> str:
    return f"{value:g}"


def explain(result: Result, verbose: bool = False) -> list[str]:
    """What the student reads about one check, below its line."""
    lines = []
    if not result.passed:
        lines += result.message.splitlines()
        if result.expected is not None:
            lines.append(f"expected: {result.expected}")
        if result.got is not None:
            lines.append(f"got:      {result.got}")
        if result.reproduce:
            lines.append(f"try:      {result.reproduce}")
    elif verbose and result.note:
        lines += result.note.splitlines()
    if result.output and (verbose or not result.passed):
        lines.append("your code printed:")
        lines += ["  " + line for line in result.output.rstrip("\n").splitlines()]
    return lines


def text_report(lab: Lab, results: Sequence[Result], verbose: bool = False) -> str:
    width = max((len(r.check.title) for r in results), default=0)
    out = [f"lab {lab.slug}: {lab.spec.title}"]
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        score = f"{points(result.score)}/{points(result.check.points)}"
        timing = f"  ({result.seconds:.1f} s, -k {result.check.name})" if verbose else ""
        out.append(f"  {mark}  {result.check.title:<{width}}  {score:>7}{timing}")
        out += ["          " + line for line in explain(result, verbose)]
    got, most = total(results)
    out.append(f"score: {points(got)}/{points(most)}")
    return "\n".join(out) + "\n"


def gradescope(lab: Lab, results: Sequence[Result], seconds: float) -> dict:
    got, most = total(results)
    return {
        "score": got,
        "execution_time": round(seconds, 3),
        "output": f"lab {lab.slug}: {lab.spec.title}: {points(got)}/{points(most)}",
        "visibility": "visible",
        "tests": [{
            "name": r.check.title,
            "number": str(number),
            "score": r.score,
            "max_score": r.check.points,
            "status": "passed" if r.passed else "failed",
            "output": "\n".join(explain(r)),
            "visibility": "visible",
        } for number, r in enumerate(results, 1)],
    }


def write_csv(path: Path, lab: Lab, checks: Sequence[Check],
              rows: Sequence[tuple[str, Sequence[Result]]]) -> None:
    """One row a submission: its name, total, then each check's score."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["submission", "score", "max_score", *(c.name for c in checks)])
        for name, results in rows:
            got, most = total(results)
            writer.writerow([name, points(got), points(most), *(points(r.score) for r in results)])
