"""The student's work as a check sees it, in the child process that runs the
check (emu/labs/sandbox.py): a private copy of the student's files, how to load
them (Python modules, assembly sources), and the package's own implementations
of the lab's answer, replaced by stubs except inside `Work.reference()`."""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Iterator

from emu.errors import EmuError, describe_error


class CheckFailed(Exception):
    """A check's verdict: what was wrong, what was expected and what happened,
    and the emu command that shows it."""

    def __init__(self, message: str, expected: Any = None, got: Any = None,
                 reproduce: str | None = None):
        super().__init__(message)
        self.message, self.expected, self.got, self.reproduce = message, expected, got, reproduce


class LabStub(Exception):
    """Raised by the package's own implementation of a lab's answer while a
    check runs: the student must write it."""


class Work:
    """A copy of the student's files in `root`, for one check of `lab_name`."""

    def __init__(self, root: Path, lab_name: str, files: tuple[str, ...], stubs: tuple[str, ...]):
        self.root, self.lab_name, self.files = root, lab_name, files
        self._originals = {target: _resolve(target) for target in stubs}
        self._modules: dict[str, Any] = {}
        self.stub_out()

    # ---- the package's own answer: stubbed, except for the reference

    def stub_out(self) -> None:
        for target, (owner, attribute, _) in self._originals.items():
            setattr(owner, attribute, _stub(self.lab_name, attribute))

    @contextlib.contextmanager
    def reference(self) -> Iterator[None]:
        """The package's implementations, back for a moment: a check computes
        what is expected with them, before or after it runs the student's code."""
        for owner, attribute, original in self._originals.values():
            setattr(owner, attribute, original)
        try:
            yield
        finally:
            self.stub_out()

    # ---- the student's files

    def path(self, name: str) -> Path:
        path = self.root / name
        if not path.is_file():
            raise CheckFailed(f"{name} is missing: the lab's answer is in {', '.join(self.files)}")
        return path

    def load(self, filename: str, attribute: str | None = None) -> Any:
        """Import the student's Python file (once per check), or one of its names.
        A syntax error or an exception while importing is the student's."""
        module = self._modules.get(filename)
        if module is None:
            path = self.path(filename)
            name = f"student_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except SyntaxError as error:
                raise CheckFailed(f"{filename}, line {error.lineno}: {error.msg}") from None
            except Exception as error:
                raise CheckFailed(f"{filename} fails when imported: "
                                  f"{describe_error(error, self.root)}") from None
            self._modules[filename] = module
        if attribute is None:
            return module
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise CheckFailed(f"{filename} defines no {attribute}") from None

    def assemble(self, source: Path | str, include_dirs: tuple[Path, ...] = ()):
        """Assemble a source with emu's assembler; the student's directory is
        searched for its .include files. Bad assembly is the student's."""
        from emu.asm.command import load_source
        try:
            return load_source(Path(source), include_dirs=(self.root, *include_dirs))
        except EmuError as error:
            raise CheckFailed(str(error)) from None


def _resolve(target: str) -> tuple[Any, str, Any]:
    """"module:Class.attribute" or "module:function": the object holding the
    attribute, its name and its value."""
    module_name, _, qualified = target.partition(":")
    owner = importlib.import_module(module_name)
    *path, attribute = qualified.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, attribute, owner.__dict__[attribute]


def _stub(lab_name: str, attribute: str):
    def stub(*args, **kwargs):
        raise LabStub(f"{lab_name}: write {attribute} yourself (emu's own is not part of "
                      "your answer)")
    stub.__name__ = attribute
    return stub
