"""Lab 04 (scheduling and shares) graded through the real sandbox: the reference
stride solution and another stride design earn full marks, a seeded lottery all
but the fine-grain checks, the starter and a delegating answer nothing, and
each plausible wrong scheduler loses exactly the checks aimed at its mistake."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emu.labs import find_lab
from emu.labs.report import grade

pytestmark = pytest.mark.usefixtures("sandbox_env")     # children load the core

LAB = find_lab(4)
HERE = Path(__file__).parent / "labs" / "04"
SOLUTION = (HERE / "solution" / "my_scheduler.py").read_text()
LOTTERY = (HERE / "lottery" / "my_scheduler.py").read_text()
ALL = {c.name for c in LAB.checks}
FINE = {"fine_grain_shares", "equal_shares_take_turns"}     # what only stride meets
SHARES = {"long_run_shares", "fine_grain_shares", "woken_guest_does_not_monopolize",
          "small_share_not_starved", "stopped_guest_not_picked"}


def edited(text: str, old: str, new: str) -> str:
    assert old in text, f"the answer no longer holds {old!r}: update the mutant"
    return text.replace(old, new)


def submission(tmp_path: Path, scheduler: str, hv: Path = HERE / "solution") -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(hv / "my_hv.py", folder / "my_hv.py")
    (folder / "my_scheduler.py").write_text(scheduler)
    return folder


def failed(folder: Path) -> tuple[set[str], dict]:
    results = grade(LAB, folder, LAB.checks, jobs=2)
    return {r.check.name for r in results if not r.passed}, {r.check.name: r for r in results}


def test_the_grading_table_matches_the_checks():
    readme = (LAB.path / "README.md").read_text()
    for c in LAB.checks:
        assert f"| {c.title} | {c.points:g} |" in readme, c.title
    assert LAB.points == 100


def test_the_solution_earns_full_marks():
    missed, results = failed(HERE / "solution")
    assert not missed, {name: results[name].message for name in missed}


def test_the_papers_dynamic_stride_earns_full_marks_too():
    # global pass by global stride, remain on leaving: not the solution's design
    missed, results = failed(HERE / "remain")
    assert not missed, {name: results[name].message for name in missed}


def test_a_seeded_lottery_earns_all_but_the_fine_grain_checks():
    missed, results = failed(HERE / "lottery")
    assert missed == FINE
    assert "lottery" in results["fine_grain_shares"].message
    assert sum(r.score for r in results.values()) == 70


def test_the_starter_earns_nothing_and_says_what_to_write():
    missed, results = failed(LAB.path)
    assert missed == ALL
    for result in results.values():
        assert "NotImplementedError" in result.message
        assert "my_scheduler.py" in result.message


def test_delegating_to_emus_round_robin_earns_nothing(tmp_path):
    folder = submission(tmp_path, (HERE / "mutants" / "delegate_only.py").read_text())
    missed, results = failed(folder)
    assert missed == ALL
    assert all("write pick yourself" in r.message for r in results.values())


STRIDE_MUTANTS = {
    # every guest the same stride: plain round robin, one quantum a turn
    "ignores_shares": (("self.passes[chosen] += STRIDE1 // chosen.config.share",
                        "self.passes[chosen] += STRIDE1"), SHARES),
    # the classic stride bug: a woken guest keeps the pass it slept with
    "no_wake_catchup": (("self.passes[guest] = max(self.passes.get(guest, 0), "
                         "self.global_pass)", "self.passes.setdefault(guest, 0)"),
                        {"woken_guest_does_not_monopolize"}),
    # the least pass among all the guests given, asleep or not
    "picks_blocked": (("runnable = [guest for guest in guests if guest.runnable]",
                       "runnable = list(guests)"), {"blocked_guest_not_picked"}),
    # integer strides of a small STRIDE1: 64 // 100 = 0, and 64 // 5 rounds a lot
    "small_stride1": (("STRIDE1 = 1 << 20", "STRIDE1 = 64"),
                      {"small_share_not_starved", "fine_grain_shares"}),
    # RoundRobin's turns of quantum * share on top of stride's: shares squared
    "share_sized_slices": (("        return self.quantum\n",
                            "        return self.quantum * guest.config.share\n"),
                           SHARES | {"equal_shares_take_turns"}),
}


@pytest.mark.parametrize("name", STRIDE_MUTANTS)
def test_a_wrong_stride_scheduler_loses_its_checks(tmp_path, name):
    (old, new), expected = STRIDE_MUTANTS[name]
    missed, results = failed(submission(tmp_path, edited(SOLUTION, old, new)))
    assert missed == expected, {n: results[n].message for n in missed ^ expected}
    for check in missed:
        assert results[check].reproduce.startswith("emu hv --hypervisor my_hv.py:MyHypervisor")


FILE_MUTANTS = {
    "strict_priority": SHARES | {"equal_shares_take_turns"},
    "cached_guest_list": {"stopped_guest_not_picked"},
    "weighted_round_robin": FINE,
}


@pytest.mark.parametrize("name", FILE_MUTANTS)
def test_a_wrong_scheduler_loses_its_checks(tmp_path, name):
    folder = submission(tmp_path, (HERE / "mutants" / f"{name}.py").read_text())
    missed, results = failed(folder)
    assert missed == FILE_MUTANTS[name], {n: results[n].message for n in missed}


def test_a_monopoly_is_explained(tmp_path):
    folder = submission(tmp_path, edited(
        SOLUTION, "self.passes[guest] = max(self.passes.get(guest, 0), self.global_pass)",
        "self.passes.setdefault(guest, 0)"))
    result = grade(LAB, folder, [LAB.check_named("woken_guest_does_not_monopolize")])[0]
    assert "global pass" in result.message
    assert "late" in result.got


def test_an_unseeded_lottery_is_not_deterministic(tmp_path):
    folder = submission(tmp_path, edited(LOTTERY, "random.Random(SEED)", "random.Random()"),
                        hv=HERE / "lottery")
    missed, results = failed(folder)
    assert {"deterministic"} | FINE <= missed
    assert "seeded" in results["deterministic"].message


def test_a_lottery_with_one_generator_for_all_runs_is_not_deterministic(tmp_path):
    # Seeded, but at import: the second run goes on drawing where the first stopped.
    text = edited(LOTTERY, "SEED = 2024\n", "SEED = 2024\nDRAWS = random.Random(SEED)\n")
    text = edited(text, "self.rng = random.Random(SEED)", "self.rng = DRAWS")
    missed, _ = failed(submission(tmp_path, text, hv=HERE / "lottery"))
    assert missed == {"deterministic"} | FINE


def test_a_blocked_pick_is_named(tmp_path):
    folder = submission(tmp_path, edited(
        SOLUTION, "runnable = [guest for guest in guests if guest.runnable]",
        "runnable = list(guests)"))
    result = grade(LAB, folder, [LAB.check_named("blocked_guest_not_picked")])[0]
    assert "blocked in WFI until clock" in result.message
    assert result.got == "sleeper"
