"""`emu lab`: coursework labs and their autograder (docs/teaching.md).

    emu lab list                         the labs
    emu lab start NN [DIR]               a lab's handout and starter files into DIR
    emu lab check [NN] [--dir DIR] ...   grade your work, with what went wrong
    emu lab grade NN SUBMISSION...       grade a class, in parallel, into a CSV
    emu lab autograder NN -o lab.zip     the zip Gradescope's autograder wants"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from emu.errors import EmuError
from emu.labs import Lab, all_labs, find_lab
from emu.labs.report import (grade, gradescope, points, select, text_report, total,
                             write_csv)
from emu.labs.sandbox import run_check
from emu.options import unique_names

MARKER = ".emu-lab"             # written by `start`: which lab a directory holds


def _lab(which) -> Lab:
    try:
        return find_lab(which)
    except EmuError as error:
        raise click.ClickException(str(error)) from None


def _jobs(value: int | None) -> int:
    return value or os.cpu_count() or 1


@click.group("lab")
def lab():
    """Coursework labs: handouts, starter files and autograders (docs/teaching.md)."""


@lab.command("list", short_help="The labs: number, name, points and goal.")
def list_command():
    """The labs: number, name, points and goal."""
    try:
        labs = all_labs()
    except EmuError as error:
        raise click.ClickException(str(error)) from None
    width = max(len(lab.slug) for lab in labs)
    for lab in labs:
        click.echo(f"{lab.slug:<{width}}  {points(lab.points):>3} points  {lab.spec.goal}")


@lab.command("start", short_help="Copy a lab's handout and starter files.")
@click.argument("number")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def start(number, directory):
    """Copy lab NUMBER's handout (README.md) and starter files into DIRECTORY
    (default ./lab-NN-name). A file that exists is kept, never overwritten."""
    lab = _lab(number)
    directory = directory or Path(f"lab-{lab.slug}")
    created, kept = [], []
    try:
        for source in lab.starter_files():
            relative = source.relative_to(lab.path)
            target = directory / relative
            if target.exists():
                kept.append(str(relative))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            created.append(str(relative))
        (directory / MARKER).write_text(lab.slug + "\n")
    except OSError as error:
        raise click.ClickException(f"cannot write into {directory}: {error.strerror}") from None
    click.echo(f"lab {lab.slug}: {lab.spec.title}, in {directory}/")
    if created:
        click.echo(f"  created: {', '.join(created)}")
    if kept:
        click.echo(f"  kept (they exist; delete one to get the starter's again): {', '.join(kept)}")
    click.echo(f"Read {directory}/README.md, then: cd {directory} && emu lab check")


def _lab_of(directory: Path) -> Lab:
    """The lab a student directory holds: its marker, else its name (lab-NN-...)."""
    marker = directory / MARKER
    if marker.is_file():
        return _lab(marker.read_text().strip())
    name = directory.resolve().name
    if name.startswith("lab-") and name[4:6].isdigit():
        return _lab(name[4:6])
    raise click.ClickException(f"which lab is in {directory}? Name it: emu lab check NN")


@lab.command("check", short_help="Grade your work on a lab.")
@click.argument("number", required=False)
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("."), help="The directory with your work  [default: .]")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results in Gradescope's format (results.json).")
@click.option("-k", "pattern", metavar="PATTERN",
              help="Only the checks whose name or title contains PATTERN (or whose name "
                   "matches it as a glob).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also what passing checks say, each check's time and name (for -k).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Checks run at once  [default: the number of CPUs]")
def check(number, directory, json_path, pattern, verbose, jobs):
    """Grade your work on lab NUMBER (default: the lab DIR was started for): one
    line per check with its points, what went wrong and how to see it. The exit
    status is 0 only with full marks."""
    lab = _lab(number) if number else _lab_of(directory)
    checks = select(lab, pattern)
    if not checks:
        raise click.ClickException(f"no check of lab {lab.slug} matches {pattern!r}")
    started = time.monotonic()
    results = grade(lab, directory, checks, _jobs(jobs))
    click.echo(text_report(lab, results, verbose), nl=False)
    if json_path:
        _write(json_path, json.dumps(gradescope(lab, results, time.monotonic() - started),
                                     indent=2) + "\n")
    got, most = total(results)
    sys.exit(0 if got == most else 1)


@lab.command("grade", short_help="Grade a class's submissions, in parallel.")
@click.argument("number")
@click.argument("submissions", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Checks run at once, over all submissions  [default: the number of CPUs]")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one row per submission: total and each check's points.")
@click.option("--json-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write each submission's results, in Gradescope's format, as DIR/NAME.json.")
@click.option("-k", "pattern", metavar="PATTERN", help="Only the checks matching PATTERN.")
def grade_command(number, submissions, jobs, csv_path, json_dir, pattern):
    """Grade lab NUMBER for a class: each SUBMISSION is a student's directory. Every
    check of every submission runs in a child process of its own, N at a time;
    each submission's total is printed as it is known."""
    lab = _lab(number)
    checks = select(lab, pattern)
    if not checks:
        raise click.ClickException(f"no check of lab {lab.slug} matches {pattern!r}")
    names = unique_names([path.resolve().name for path in submissions])
    if json_dir:
        try:
            json_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.ClickException(f"cannot make {json_dir}: {error.strerror}") from None
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=_jobs(jobs)) as pool:
        futures = [[pool.submit(run_check, lab, c, path) for c in checks] for path in submissions]
        rows = []
        for name, row in zip(names, futures):
            results = [f.result() for f in row]
            rows.append((name, results))
            got, most = total(results)
            click.echo(f"{name}: {points(got)}/{points(most)}")
            if json_dir:
                _write(json_dir / f"{name}.json",
                       json.dumps(gradescope(lab, results, time.monotonic() - started),
                                  indent=2) + "\n")
    if csv_path:
        try:
            write_csv(csv_path, lab, checks, rows)
        except OSError as error:
            raise click.ClickException(f"cannot write {csv_path}: {error.strerror}") from None
    click.echo(f"graded {len(rows)} submissions of lab {lab.slug} in "
               f"{time.monotonic() - started:.1f} s", err=True)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None


SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-dev gcc >/dev/null
python3 -m venv /autograder/emu
/autograder/emu/bin/pip install -q {install}
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission; the student's files are in
# /autograder/submission, and the results go to /autograder/results/results.json.
mkdir -p /autograder/results
/autograder/emu/bin/emu lab check {slug} --dir /autograder/submission \\
    --json /autograder/results/results.json
exit 0
"""


@lab.command("autograder", short_help="Build Gradescope's autograder zip for a lab.")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The zip to write, for Gradescope's \"Upload autograder\".")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Put this emu wheel in the zip and install it (built with `pip wheel .` "
                   "from emu's source, for the autograder's Python).")
@click.option("--pip", "pip_spec", metavar="SPEC",
              help="What setup.sh gives pip to install emu  [default: emu==THIS_VERSION, or "
                   "the --wheel]")
def autograder(number, output, wheel, pip_spec):
    """Build the zip Gradescope's autograder wants for lab NUMBER: setup.sh installs
    emu, run_autograder runs `emu lab check` on the submission and writes
    /autograder/results/results.json. See docs/teaching.md."""
    from importlib.metadata import PackageNotFoundError, version
    if wheel and pip_spec:
        raise click.UsageError("--wheel and --pip are two ways of saying the same: give one")
    lab = _lab(number)
    if wheel:
        install = f"/autograder/source/{wheel.name}"
    else:
        try:
            install = pip_spec or f"emu=={version('emu')}"
        except PackageNotFoundError:
            raise click.ClickException("emu is not installed as a package here: name what "
                                       "setup.sh installs with --pip or --wheel") from None
    try:
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (("setup.sh", SETUP_SH.format(install=install)),
                               ("run_autograder", RUN_AUTOGRADER.format(slug=lab.slug))):
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o100755 << 16         # executable, as Gradescope runs them
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
            if wheel:
                archive.write(wheel, wheel.name)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    click.echo(f"wrote {output}: the autograder of lab {lab.slug} ({points(lab.points)} points); "
               "upload it in the assignment's \"Configure Autograder\" page")
