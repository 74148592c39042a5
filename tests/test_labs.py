"""The lab framework (`emu lab`): the catalogue, the sandbox a check runs in, the
reports and the class-wide grader, on a self-test lab (tests/labs/selftest) whose
checks each call one function of the student's answer.py, so that a test can
make the student's code misbehave in every way it can."""
from __future__ import annotations

import csv
import json
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import main
from emu.labs import LABS_DIR, LabError, all_labs, find_lab, load_lab
from emu.labs.report import grade, select
from emu.options import unique_names

pytestmark = pytest.mark.usefixtures("sandbox_env")     # children load the core

SELFTEST = Path(__file__).parent / "labs" / "selftest"
GOOD = """\
def add(a, b):
    return a + b


def work():
    return 1


def slice(guest):
    return 10 * guest.config.share
"""


@pytest.fixture(autouse=True)
def selftest_lab(monkeypatch):
    monkeypatch.setenv("EMU_LAB_PATH", str(SELFTEST))


def lab():
    return find_lab(90)


def submission(tmp_path: Path, text: str = GOOD, name: str = "student") -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "answer.py").write_text(text)
    shutil.copyfile(SELFTEST / "90-selftest" / "guest.S", directory / "guest.S")
    return directory


def results_of(directory: Path, **kwargs) -> dict:
    return {r.check.name: r for r in grade(lab(), directory, lab().checks, jobs=2, **kwargs)}


def emu(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


# ---- the catalogue

def test_the_package_labs_and_extra_folders_are_listed_in_order():
    slugs = [lab.slug for lab in all_labs()]
    assert slugs == sorted(slugs)
    assert slugs[-1] == "90-selftest"


def test_a_lab_is_found_by_number_or_folder_name_and_a_missing_one_is_a_clear_error():
    assert find_lab("90").slug == find_lab(90).slug == find_lab("90-selftest").slug
    with pytest.raises(LabError, match="no lab '89'.*90-selftest"):
        find_lab(89)


def test_a_lab_folder_without_checks_or_lab_spec_is_refused(tmp_path):
    folder = tmp_path / "07-broken"
    folder.mkdir()
    (folder / "checks.py").write_text("x = 1\n")
    with pytest.raises(LabError, match="no LAB = LabSpec"):
        load_lab(folder)
    (folder / "checks.py").write_text("def oops(:\n")
    with pytest.raises(LabError, match="cannot be loaded: SyntaxError"):
        load_lab(folder)


def test_a_checks_module_is_loaded_as_an_import_would_load_it(tmp_path):
    folder = tmp_path / "07-dataclass"
    folder.mkdir()
    (folder / "checks.py").write_text(
        "from dataclasses import dataclass\nfrom emu.labs import LabSpec, check\n"
        "LAB = LabSpec(title='t', goal='g', files=())\n"
        "@dataclass\nclass Case:\n    value: int\n"
        "@check(points=1)\ndef one(work):\n    return str(Case(1))\n")
    assert [c.name for c in load_lab(folder).checks] == ["one"]


def package_labs():
    return [lab for lab in all_labs() if lab.path.parent == LABS_DIR]


def test_emus_labs_are_01_to_04_of_100_points_each():
    assert [(lab.slug[:2], lab.points) for lab in package_labs()] == \
        [("01", 100), ("02", 100), ("03", 100), ("04", 100)]


def test_each_handouts_grading_table_is_its_checks_titles_and_points():
    for lab in package_labs():
        rows = re.findall(r"^\| (.+?) \| (\d+) \|$", (lab.path / "README.md").read_text(),
                          re.MULTILINE)
        assert [(title, int(points)) for title, points in rows] == \
            [(c.title, c.points) for c in lab.checks], lab.slug


def test_each_lab_ships_its_answer_files_where_the_package_data_reaches():
    """What `emu lab start` copies is what a wheel holds: pyproject's package data
    for emu.labs reaches files two folders below a lab's (emu/labs/NN-name/a/b)."""
    for lab in package_labs():
        for name in lab.spec.files:
            assert (lab.path / name).is_file(), (lab.slug, name)
        for path in lab.starter_files():
            assert len(path.relative_to(lab.path).parts) <= 2, path


def test_selecting_checks_by_substring_of_name_or_title_or_by_glob():
    assert [c.name for c in select(lab(), "add")] == ["adds"]
    assert [c.name for c in select(lab(), "QUANTA")] == ["slices"]
    assert [c.name for c in select(lab(), "*s")] == ["adds", "returns", "slices", "guest_stops"]
    assert select(lab(), "nothing") == []


# ---- grading a right and a wrong answer

def test_a_right_answer_earns_full_marks(tmp_path):
    results = results_of(submission(tmp_path))
    assert all(r.passed for r in results.values()), results
    assert results["adds"].note == "add works"


def test_a_wrong_answer_says_what_was_expected_what_happened_and_how_to_see_it(tmp_path):
    result = results_of(submission(tmp_path, GOOD.replace("a + b", "a - b")))["adds"]
    assert not result.passed and result.score == 0
    assert (result.message, result.expected, result.got) == ("add(2, 3) is wrong", "5", "-1")
    assert "answer.add(2, 3)" in result.reproduce


def test_the_students_output_is_kept_and_cut_when_it_is_long(tmp_path):
    text = GOOD.replace("return a + b", "print('x' * 100000)\n    return a")
    result = results_of(submission(tmp_path, text))["adds"]
    assert result.output.startswith("xxxx") and result.output.endswith("[... more output cut]")
    assert len(result.output) < 9000


# ---- the sandbox: whatever the student's code does, the grader goes on

def broken(body: str) -> str:
    """The good answer with work() replaced."""
    return GOOD.replace("def work():\n    return 1", "def work():\n" + body)


@pytest.mark.parametrize("body, message", [
    ("    while True:\n        pass\n", "did not finish in 5 s: an endless loop"),
    ("    return bytearray(1 << 36)\n", "MemoryError (answer.py, line 6, in work)"),
    # Under AddressSanitizer the parent watches the resident size instead of the
    # address space (emu/labs/sandbox.py), and this hog is stopped before a malloc fails.
    ("    hog = []\n    while True:\n        hog.append(bytearray(1 << 20))\n",
     ("MemoryError (answer.py, line 8, in work)", "used more than 512 MiB of memory")),
    ("    return {}['key']\n", "KeyError: 'key' (answer.py, line 6, in work)"),
    ("    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
     "crashed: the check's process died of SIGSEGV"),
    ("    import os\n    os._exit(0)\n", "ended (status 0) before giving a verdict"),
    ("    import sys\n    sys.exit(3)\n", "SystemExit: 3 (answer.py, line 7, in work)"),
    ("    return work()\n", "RecursionError"),
])
def test_a_misbehaving_answer_fails_its_check_with_a_clear_message_and_no_other(
        tmp_path, body, message):
    results = results_of(submission(tmp_path, broken(body)))
    assert not results["returns"].passed
    assert any(m in results["returns"].message for m in
               ((message,) if isinstance(message, str) else message))
    assert results["adds"].passed and results["slices"].passed


def test_a_guest_that_never_ends_fails_its_check_and_only_it(tmp_path):
    directory = submission(tmp_path)
    (directory / "guest.S").write_text("    .globl _start\n_start:\n1:  j 1b\n")
    results = results_of(directory)
    assert results["guest_stops"].message.startswith("did not finish in 5 s")
    assert [n for n, r in results.items() if not r.passed] == ["guest_stops"]
    (directory / "guest.S").write_text((SELFTEST / "90-selftest" / "guest.S").read_text())
    assert results_of(directory)["guest_stops"].passed


def test_a_syntax_error_names_the_file_and_line_in_every_check(tmp_path):
    results = results_of(submission(tmp_path, GOOD + "\ndef oops(:\n"))
    for name, result in results.items():
        assert result.passed == (name == "guest_stops")
        if not result.passed:
            assert result.message == "answer.py, line 12: invalid syntax"


def test_an_exception_while_importing_is_the_students(tmp_path):
    results = results_of(submission(tmp_path, "import nonexistent_module\n" + GOOD))
    assert results["adds"].message.startswith(
        "answer.py fails when imported: ModuleNotFoundError: No module named "
        "'nonexistent_module' (answer.py, line 1, in <module>)")


def test_a_missing_file_is_named(tmp_path):
    directory = tmp_path / "empty"
    directory.mkdir()
    result = results_of(directory)["adds"]
    assert result.message == "answer.py is missing: the lab's answer is in answer.py, guest.S"


def test_the_students_files_are_never_modified(tmp_path):
    body = ("    from pathlib import Path\n    Path('answer.py').write_text('gone')\n"
            "    Path('new.txt').write_text('x')\n")
    directory = submission(tmp_path, broken(body))
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    results_of(directory)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_delegating_to_the_packages_own_implementation_earns_nothing(tmp_path):
    text = GOOD.replace("return 10 * guest.config.share",
                        "from emu.hv.scheduler import RoundRobin\n"
                        "    return RoundRobin(10).slice_for(guest)")
    result = results_of(submission(tmp_path, text))["slices"]
    assert not result.passed
    assert result.message == \
        "lab 90: write slice_for yourself (emu's own is not part of your answer)"


# ---- the commands

def test_start_copies_the_handout_and_starter_and_never_overwrites(tmp_path):
    target = tmp_path / "mine"
    status, out = emu("lab", "start", "90", str(target))
    assert status == 0 and "created: README.md, answer.py, guest.S" in out
    assert not (target / "checks.py").exists()
    (target / "answer.py").write_text(GOOD)
    status, out = emu("lab", "start", "90", str(target))
    assert "kept (they exist; delete one to get the starter's again): README.md, answer.py, " \
        "guest.S" in out
    assert (target / "answer.py").read_text() == GOOD


def test_check_finds_the_lab_a_directory_was_started_for_and_exits_0_only_with_full_marks(
        tmp_path):
    target = tmp_path / "mine"
    emu("lab", "start", "90", str(target))
    status, out = emu("lab", "check", "--dir", str(target))
    assert status == 1
    assert "FAIL  add(2, 3) is 5" in out and "score: 3/7" in out
    (target / "answer.py").write_text(GOOD)
    status, out = emu("lab", "check", "--dir", str(target), "-k", "add")
    assert status == 0 and out.splitlines()[-1] == "score: 3/3"


def test_check_without_a_lab_number_in_an_unknown_directory_says_so(tmp_path):
    status, out = emu("lab", "check", "--dir", str(tmp_path))
    assert status == 1 and "which lab is in" in out


def validate_gradescope(results: dict) -> None:
    """Gradescope's documented autograder results format (the fields we write)."""
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str)
    assert results["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number",
                             "output", "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert isinstance(test["output"], str)
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert results["score"] == sum(t["score"] for t in results["tests"])


def test_check_writes_gradescope_results(tmp_path):
    directory = submission(tmp_path, GOOD.replace("a + b", "a * b"))
    status, _ = emu("lab", "check", "90", "--dir", str(directory), "--json",
                    str(tmp_path / "results.json"))
    results = json.loads((tmp_path / "results.json").read_text())
    validate_gradescope(results)
    assert status == 1 and results["score"] == 4
    assert [t["status"] for t in results["tests"]] == ["failed", "passed", "passed", "passed"]
    assert "expected: 5\ngot:      6" in results["tests"][0]["output"]


def test_grade_grades_thirty_submissions_in_parallel_into_a_csv(tmp_path):
    submissions = [submission(tmp_path, GOOD if i % 3 else GOOD.replace("a + b", "0"),
                              f"s{i:02d}") for i in range(30)]
    status, out = emu("lab", "grade", "90", *map(str, submissions), "--jobs", "2",
                      "--csv", str(tmp_path / "grades.csv"), "--json-dir", str(tmp_path / "json"),
                      "-k", "add")
    assert status == 0
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [r["submission"] for r in rows] == [f"s{i:02d}" for i in range(30)]
    assert [r["score"] for r in rows] == ["0" if i % 3 == 0 else "3" for i in range(30)]
    assert {r["max_score"] for r in rows} == {"3"} and rows[1]["adds"] == "3"
    assert "s00: 0/3" in out and "s01: 3/3" in out
    for path in (tmp_path / "json").iterdir():
        validate_gradescope(json.loads(path.read_text()))
    assert len(list((tmp_path / "json").iterdir())) == 30


def test_submissions_are_named_after_their_directories_uniquely():
    """Two students' directories of one name (from two sections, say), and one
    whose name is the suffix the second would get, keep three rows of their own."""
    assert unique_names(["alice", "bob", "alice", "alice-2", "alice"]) == \
        ["alice", "bob", "alice-2", "alice-2-2", "alice-3"]


def test_autograder_builds_gradescopes_zip(tmp_path):
    wheel = tmp_path / "emu-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    status, out = emu("lab", "autograder", "90", "-o", str(tmp_path / "lab.zip"),
                      "--wheel", str(wheel))
    assert status == 0, out
    with zipfile.ZipFile(tmp_path / "lab.zip") as archive:
        assert sorted(archive.namelist()) == sorted(["setup.sh", "run_autograder", wheel.name])
        for name in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(archive.getinfo(name).external_attr >> 16) == 0o755
            script = archive.read(name).decode()
            assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
        assert f"pip install -q /autograder/source/{wheel.name}" in archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        assert ("emu lab check 90-selftest --dir /autograder/submission "
                "\\\n    --json /autograder/results/results.json") in run


def test_autograder_refuses_two_ways_of_installing(tmp_path):
    wheel = tmp_path / "w.whl"
    wheel.write_bytes(b"")
    result = CliRunner().invoke(main, ["lab", "autograder", "90", "-o", str(tmp_path / "z.zip"),
                                       "--wheel", str(wheel), "--pip", "emu"])
    assert result.exit_code == 2 and "give one" in result.output


def test_list_shows_each_lab_with_points_and_goal():
    status, out = emu("lab", "list")
    assert status == 0
    assert out.splitlines()[-1].split() == "90-selftest 7 points Exercise the grader.".split()


def test_an_unknown_lab_is_a_clear_error_not_a_traceback():
    status, out = emu("lab", "start", "89")
    assert status == 1 and out.startswith("Error: no lab '89'")
