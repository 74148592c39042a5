"""Lab 02, trap and emulate (emu/labs/02-trap-and-emulate), graded through the real
sandbox: the solution gets full marks, the starter none, each plausible wrong
answer loses exactly the checks about what it gets wrong, and an answer that
hands the work back to emu's own implementation earns nothing. Also: the
lab's files are what they claim to be (copies of the sample guests, the kit's
generated kernels), and the commands a failed check suggests do run."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from emu.hv import EndReason
from emu.labs import find_lab, kit
from emu.labs.report import grade, total
from emu.options import load_program

REPO = Path(__file__).resolve().parent.parent


def _mutants():
    """tests/labs/02/mutants.py (a folder named 02 is no package name)."""
    spec = importlib.util.spec_from_file_location(
        "lab02_mutants", REPO / "tests" / "labs" / "02" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


MUTANTS, SOLUTION = _mutants().MUTANTS, _mutants().SOLUTION
LAB = find_lab(2)
STARTER = (LAB.path / "my_hv.py").read_text()
CHECKS = {c.name for c in LAB.checks}


def graded(tmp_path: Path, source: str) -> dict:
    """Each check's Result for my_hv.py = source, graded as `emu lab check` does."""
    directory = tmp_path / "submission"
    directory.mkdir()
    (directory / "my_hv.py").write_text(source)
    return {r.check.name: r for r in grade(LAB, directory, LAB.checks, jobs=2)}


def failing(results: dict) -> set[str]:
    return {name for name, result in results.items() if not result.passed}


def test_the_lab_is_listed_with_100_points():
    assert LAB.slug == "02-trap-and-emulate"
    assert LAB.points == 100
    assert 8 <= len(LAB.checks) <= 12


def test_the_solution_scores_full_marks(tmp_path):
    results = graded(tmp_path, SOLUTION)
    assert not failing(results), {n: results[n].message for n in failing(results)}
    assert total(results.values()) == (100, 100)


def test_the_starter_fails_every_check_and_says_why(tmp_path):
    results = graded(tmp_path, STARTER)
    assert failing(results) == CHECKS
    for result in results.values():
        text = "\n".join(filter(None, [result.message, result.expected, result.got]))
        assert "NotImplementedError" in text, (result.check.name, text)
        assert "my_hv.py" in text
        assert result.reproduce and "--hypervisor my_hv.py:MyHypervisor" in result.reproduce


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_a_wrong_answer_loses_exactly_the_checks_about_it(mutant, tmp_path):
    assert mutant.fails <= CHECKS
    results = graded(tmp_path, mutant.text())
    assert failing(results) == mutant.fails, {n: results[n].message for n in failing(results)}
    for name in mutant.fails:
        result = results[name]
        assert result.expected and result.got and result.reproduce, result


DELEGATING = '''
from emu.hv import Hypervisor

class MyHypervisor(Hypervisor):
    def enter_trap(self, guest, cause, tval, pc):
        return super().enter_trap(guest, cause, tval, pc)

    def reflect(self, guest, trap):
        return super().reflect(guest, trap)

    def emulate_csr(self, guest, trap, ops):
        return super().emulate_csr(guest, trap, ops)

    def emulate_sret(self, guest, trap, ops):
        return super().emulate_sret(guest, trap, ops)

    def emulate_wfi(self, guest, trap, ops):
        return super().emulate_wfi(guest, trap, ops)

    def emulate_sfence_vma(self, guest, trap, ops):
        return super().emulate_sfence_vma(guest, trap, ops)
'''

CALLING_EMU = '''
from emu.hv import Action, Hypervisor, Outcome
from emu.hv.emulate import ExitHandlers
from emu.hv.vcpu import VirtualHart

class MyHypervisor(Hypervisor):
    def enter_trap(self, guest, cause, tval, pc):
        return VirtualHart.enter_trap(guest.hart, cause, tval, pc)

    def reflect(self, guest, trap):
        return ExitHandlers.reflect(self, guest, trap)

    def emulate_csr(self, guest, trap, ops):
        return ExitHandlers.emulate_csr(self, guest, trap, ops)

    def emulate_sret(self, guest, trap, ops):
        return Action(Outcome.JUMP, "sret", target=guest.hart.sret())

    def emulate_wfi(self, guest, trap, ops):
        return ExitHandlers.emulate_wfi(self, guest, trap, ops)

    def emulate_sfence_vma(self, guest, trap, ops):
        return ExitHandlers.emulate_sfence_vma(self, guest, trap, ops)
'''


@pytest.mark.parametrize("source", [DELEGATING, CALLING_EMU], ids=["super", "direct calls"])
def test_handing_the_work_back_to_emu_earns_nothing(source, tmp_path):
    results = graded(tmp_path, source)
    assert failing(results) == CHECKS
    assert total(results.values()) == (0, 100)
    said = [r for r in results.values() if "yourself" in r.message]
    assert len(said) >= 6, [r.message for r in results.values()]


# ---- the lab's files

def test_every_file_of_the_lab_is_in_the_package():
    """pyproject.toml ships emu/labs' files at most two folders down (*/*/*)."""
    for path in LAB.starter_files() + [LAB.path / "checks.py"]:
        assert len(path.relative_to(LAB.path.parent).parts) <= 3, path


def test_the_sample_guests_are_copies_of_programs_guests():
    guests = LAB.path / "guests"
    for name in ("hello", "ticks", "os", "adv-mcsr"):
        original = (REPO / "programs" / "guests" / name / f"{name}.S").read_text()
        assert (guests / f"{name}.S").read_text() == original.replace(
            '.include "../lib/sbi.inc"', '.include "sbi.inc"')
    library = (REPO / "programs" / "guests" / "lib" / "sbi.inc").read_text()
    copy = (guests / "sbi.inc").read_text()
    assert copy.split("# Contents:")[1] == library.split("# Contents:")[1]


def test_the_generated_kernels_are_the_kits_for_their_seeds(capsys):
    files = sorted((LAB.path / "generated").glob("gen-*.S"))
    assert len(files) >= 6
    for path in files:
        seed = int(re.fullmatch(r"gen-(\d+)\.S", path.name)[1])
        assert path.read_text() == kit.random_kernel_source(seed), path
    assert kit.main(["random", str(seed)]) == 0
    assert capsys.readouterr().out == files[-1].read_text()


def test_the_lab_guests_end_cleanly_and_together_use_every_mechanism():
    """Each guest but forever.S shuts down cleanly under emu's hypervisor, and all
    of them together make every kind of exit this lab is about."""
    reasons, injected = set(), set()
    for path in sorted(LAB.path.rglob("*.S")):
        program = load_program(path)
        guest = kit.run_hv([program], max_insns=1_000_000).guests[0]
        if path.name == "forever.S":
            assert guest.end.reason is EndReason.CRASH and "WFI" in guest.end.message
        else:
            assert guest.end.reason is EndReason.SHUTDOWN and guest.end.status == 0, path
        reasons |= set(guest.stats.exits)
        injected |= set(guest.stats.injected)
    assert {"csr", "sret", "wfi", "sfence.vma", "exception", "illegal instruction",
            "ecall from U", "guest page fault", "shadow fill"} <= reasons
    assert {"supervisor timer interrupt", "supervisor software interrupt"} <= injected


def test_the_commands_a_failed_check_suggests_run_in_the_students_directory(
        tmp_path, monkeypatch):
    student = tmp_path / "lab"
    result = CliRunner().invoke(main, ["lab", "start", "02", str(student)])
    assert result.exit_code == 0, result.output
    shutil.copyfile(REPO / "tests" / "labs" / "02" / "solution" / "my_hv.py",
                    student / "my_hv.py")
    monkeypatch.chdir(student)
    for guest in ("guests/traps.S", "generated/gen-04.S"):
        virtual = CliRunner().invoke(main, ["hv", "--hypervisor", "my_hv.py:MyHypervisor",
                                            "--trace-exits", guest])
        bare = CliRunner().invoke(main, ["run", "--boot", "s", "--mem", "16M", guest])
        assert virtual.exit_code == bare.exit_code == 0, virtual.output
        assert "-> csr: next" in virtual.stderr
        # The guest's console, line by line, each line prefixed with its name (a
        # last line without a newline gets one).
        prefix = f"[{Path(guest).stem}] "
        assert virtual.stdout.replace(prefix, "").rstrip("\n") == bare.stdout.rstrip("\n")
