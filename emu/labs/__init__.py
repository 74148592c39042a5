"""Coursework labs (`emu lab`): each lab is a folder of this package (or of a
directory on EMU_LAB_PATH) named `NN-name`, holding

    README.md     the handout: goal, background, steps, hints, grading table
    checks.py     LAB = LabSpec(...) and the checks, functions marked @check(points)
    ...           the starter files and anything else the student gets

`emu lab start` copies everything but checks.py; `emu lab check` runs each check
in a child process of its own (emu/labs/sandbox.py), against a copy of the
student's files. docs/teaching.md explains the format to lab authors.

This module is the catalogue and the API a checks.py uses; the checks are
loaded only when a lab is run or listed."""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from emu.errors import EmuError
from emu.labs.work import CheckFailed, Work

__all__ = ["Check", "CheckFailed", "Lab", "LabError", "LabSpec", "Work", "all_labs", "check",
           "find_lab"]

LABS_DIR = Path(__file__).parent
FOLDER = re.compile(r"(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)")
DEFAULT_TIMEOUT = 60            # seconds of wall-clock time for one check
DEFAULT_MEMORY = 2 << 30        # bytes of address space for one check's process


class LabError(EmuError):
    """No such lab, a broken lab folder, or a student directory that cannot be used."""


@dataclass(frozen=True)
class Check:
    """One graded behaviour: a function of the student's Work that returns (the
    check passed, with an optional note) or raises CheckFailed."""
    name: str
    points: float
    run: Callable[[Work], str | None]
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY

    @property
    def title(self) -> str:
        doc = (self.run.__doc__ or self.name).strip()
        return doc.splitlines()[0].rstrip(".")


def check(points: float, timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY):
    """Mark a function of a checks.py as a check worth `points`, given `timeout`
    seconds and `memory` bytes; its docstring's first line is what the student reads."""
    def mark(function):
        function.lab_check = Check(function.__name__, points, function, timeout, memory)
        return function
    return mark


@dataclass(frozen=True)
class LabSpec:
    """What a checks.py declares about its lab.

    `files` are the student's answer: the files `emu lab check` reads (a missing
    one fails the checks that need it). `stubs` name the package's own
    implementations of what the lab asks for, as "module:Class.attribute" or
    "module:function": while a check runs the student's code they are replaced by
    stubs that fail loudly, so that an answer cannot delegate to emu's own."""
    title: str
    goal: str
    files: tuple[str, ...]
    stubs: tuple[str, ...] = ()


@dataclass
class Lab:
    number: int
    name: str
    path: Path
    spec: LabSpec
    checks: list[Check] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"{self.number:02d}-{self.name}"

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    def check_named(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise LabError(f"lab {self.slug} has no check {name!r}")

    def starter_files(self) -> list[Path]:
        """What `emu lab start` copies: the folder, less the checks and caches."""
        return sorted(p for p in self.path.rglob("*")
                      if p.is_file() and p.name != "checks.py" and "__pycache__" not in p.parts)


def lab_dirs() -> list[Path]:
    """The folders that hold labs: the package's, then EMU_LAB_PATH's (an
    instructor's own labs; a later folder's lab NN replaces an earlier one's)."""
    extra = [Path(p).resolve() for p in os.environ.get("EMU_LAB_PATH", "").split(os.pathsep) if p]
    return [LABS_DIR, *extra]


def all_labs() -> list[Lab]:
    labs: dict[int, Lab] = {}
    for directory in lab_dirs():
        if not directory.is_dir():
            raise LabError(f"EMU_LAB_PATH names {directory}, which is not a directory")
        for folder in sorted(directory.iterdir()):
            match = FOLDER.fullmatch(folder.name)
            if match and (folder / "checks.py").is_file():
                labs[int(match[1])] = load_lab(folder)
    return [labs[n] for n in sorted(labs)]


def find_lab(which: str | int) -> Lab:
    """A lab by number ("2", "02") or by folder name ("02-trap-and-emulate")."""
    labs = all_labs()
    text = str(which)
    for lab in labs:
        if text in (lab.slug, lab.name) or (text.isdigit() and int(text) == lab.number):
            return lab
    known = ", ".join(lab.slug for lab in labs)
    raise LabError(f"no lab {text!r}; the labs are {known} (emu lab list)")


def load_lab(folder: Path) -> Lab:
    match = FOLDER.fullmatch(folder.name)
    if not match:
        raise LabError(f"{folder}: a lab folder is named NN-name, e.g. 07-page-coloring")
    module_name = f"emu.labs.lab{match[1]}"
    spec = importlib.util.spec_from_file_location(module_name, folder / "checks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module        # as an import would: @dataclass needs it
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise LabError(f"{folder / 'checks.py'} cannot be loaded: "
                       f"{type(error).__name__}: {error}") from None
    lab_spec = getattr(module, "LAB", None)
    if not isinstance(lab_spec, LabSpec):
        raise LabError(f"{folder / 'checks.py'} declares no LAB = LabSpec(...)")
    checks = [value.lab_check for value in vars(module).values() if hasattr(value, "lab_check")]
    if not checks:
        raise LabError(f"{folder / 'checks.py'} has no @check functions")
    return Lab(int(match[1]), match[2], folder, lab_spec, checks)
