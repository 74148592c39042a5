"""Lab 03 (shadow paging), graded through the real sandbox: the starter earns
nothing and says why, the reference solution (tests/labs/03/solution) earns
full marks, each plausible wrong pager loses the checks that should catch it,
and a pager that only calls emu's own earns nothing."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emu.labs import find_lab
from emu.labs.report import grade
from tests.conftest import emu_env

pytestmark = pytest.mark.usefixtures("sandbox_env")     # children load the core

HERE = Path(__file__).resolve().parent
SOLUTION = HERE / "labs" / "03" / "solution"
DELEGATE = HERE / "labs" / "03" / "delegate"
ROOT = HERE.parent

CHECKS = {"permission_rule", "walk_faults", "accessed_dirty", "user_sum_mxr", "megapages",
          "sample_os", "no_stale_mapping", "shadow_budget", "isolation", "side_by_side"}


@pytest.fixture(scope="module")
def lab():
    return find_lab("03")


def failed(results) -> set[str]:
    return {r.check.name for r in results if not r.passed}


def by_name(results) -> dict:
    return {r.check.name: r for r in results}


def starter_copy(lab, target: Path) -> Path:
    """What `emu lab start 03` gives a student."""
    for source in lab.starter_files():
        path = target / source.relative_to(lab.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
    return target


def test_the_checks_are_the_ones_the_handout_grades(lab):
    assert {c.name for c in lab.checks} == CHECKS
    assert lab.points == 100
    readme = (lab.path / "README.md").read_text()
    for c in lab.checks:
        assert f"| {c.title} | {c.points:g} |" in readme, c.title
    assert "calling it (for example through `super()`) earns nothing" in readme


@pytest.mark.parametrize("name", ["os", "adv-probe", "adv-secret"])
def test_the_labs_sample_guests_are_emus(lab, name):
    """The lab ships copies (programs/ is not installed): they must not drift."""
    def moved(text: str) -> str:                # sbi.inc is beside them in the lab
        return text.replace('"../lib/sbi.inc"', '"sbi.inc"')
    original = (ROOT / "programs" / "guests" / name / f"{name}.S").read_text()
    assert (lab.path / "guests" / f"{name}.S").read_text() == moved(original)
    library = (ROOT / "programs" / "guests" / "lib" / "sbi.inc").read_text()
    ours = (lab.path / "guests" / "sbi.inc").read_text()
    assert ours.split("\n", 2)[2] == moved(library).split("\n", 1)[1]


def test_the_starter_earns_nothing_and_says_what_to_write(lab, tmp_path):
    results = by_name(grade(lab, starter_copy(lab, tmp_path / "student"), lab.checks, jobs=2))
    assert failed(results.values()) == CHECKS
    rule = results["permission_rule"]
    assert "NotImplementedError: pte_allows" in rule.message
    assert "my_pager.py, line" in rule.message
    faults = results["walk_faults"]
    assert "stopped by the hypervisor" in faults.message
    assert "NotImplementedError: walk" in faults.message
    assert faults.reproduce == ("emu run --boot s --mem 16M guests/faults.S; "
                                "emu hv --hypervisor my_hv.py:MyHypervisor guests/faults.S")
    assert "--mem 6M" in results["megapages"].reproduce


def test_the_solution_earns_full_marks_through_the_command_line(tmp_path):
    report = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "emu", "lab", "check", "03", "--dir",
                           str(SOLUTION), "--json", str(report), "-j", "2"],
                          cwd=ROOT, env=emu_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["score"] == 100
    assert all(test["status"] == "passed" for test in data["tests"])


def test_a_pager_that_calls_emus_own_earns_nothing(lab):
    results = grade(lab, DELEGATE, lab.checks, jobs=2)
    assert failed(results) == CHECKS
    assert all("lab 03: write" in r.message for r in results), [r.message for r in results]


def test_a_correct_pte_allows_alone_earns_its_check(lab, tmp_path):
    student = starter_copy(lab, tmp_path / "student")
    solution = (SOLUTION / "my_pager.py").read_text()
    rule = solution[solution.index("def pte_allows"):solution.index("class MyPager")]
    starter = (student / "my_pager.py").read_text()
    start = starter.index("def pte_allows")
    end = starter.index("class MyPager")
    (student / "my_pager.py").write_text(starter[:start] + rule + starter[end:])
    results = grade(lab, student, lab.checks, jobs=2)
    assert failed(results) == CHECKS - {"permission_rule"}


# Wrong pagers students write, as edits of the solution, and the checks each
# must fail (all the others pass).
MUTANTS = {
    # the U bit ignored: user code reaches kernel pages, the kernel user pages
    "forgets_the_u_bit": ([("""    if pte & PTE_U:
        # S-mode never runs user code, and touches user data only with SUM.
        if priv == Priv.S and (access == Access.FETCH or not sum_):
            return False
    elif priv == Priv.U:
        return False
""", "")], {"permission_rule", "accessed_dirty", "user_sum_mxr", "megapages", "sample_os",
            "no_stale_mapping", "side_by_side"}),
    "sum_lets_s_fetch_user_pages": (
        [("if priv == Priv.S and (access == Access.FETCH or not sum_):",
          "if priv == Priv.S and not sum_:")],
        {"permission_rule", "user_sum_mxr", "megapages", "side_by_side"}),
    "mxr_ignored": (
        [("return bool(pte & PTE_R) or (mxr and bool(pte & PTE_X))", "return bool(pte & PTE_R)")],
        {"permission_rule", "user_sum_mxr", "megapages", "side_by_side"}),
    # A and D never set in the guest's PTE (a store then faults for ever)
    "no_accessed_dirty": (
        [("            if update and pte & needed != needed:", "            if False:")],
        {"accessed_dirty", "megapages", "side_by_side"}),
    "dirty_on_every_access": (
        [("needed = PTE_A | (PTE_D if access == Access.STORE else 0)", "needed = PTE_A | PTE_D")],
        {"walk_faults", "accessed_dirty", "user_sum_mxr", "megapages", "sample_os",
         "no_stale_mapping", "side_by_side"}),
    # D-clear pages mapped writable: D never gets set
    "clean_pages_writable": (
        [("""        if not pte & PTE_D:
            rights &= ~PTE_W                        # the first store must set D
""", "")], {"accessed_dirty", "megapages", "side_by_side"}),
    "rights_copied_from_the_pte": (
        [("""        rights = 0
        for access, bit in ACCESS_BITS:
            if pte_allows(pte, access, hart.priv, hart.sum, hart.mxr):
                rights |= bit
""", """        rights = pte & LEAF_RIGHTS
""")], {"user_sum_mxr", "megapages", "side_by_side"}),
    # megapages mishandled, four ways
    "megapage_offset_of_a_page": (
        [("            size = PAGE_SIZE << (10 * level)        # 4 KiB, or 4 MiB",
          "            size = PAGE_SIZE")], {"megapages"}),
    "misaligned_megapage_allowed": (
        [("            if level == 1 and ppn & 0x3FF:          # a misaligned megapage\n"
          "                return PAGE_FAULT[access]\n", "")], {"walk_faults", "megapages"}),
    "megapages_split_into_pages": (
        [("if walk.level == 1 and self.ram.contains(region, MEGAPAGE):", "if False:")],
        {"megapages", "no_stale_mapping", "side_by_side"}),
    # a guest-physical address outside the guest's RAM mapped anyway
    "megapage_mapped_past_ram": (
        [("if walk.level == 1 and self.ram.contains(region, MEGAPAGE):", "if walk.level == 1:")],
        {"megapages"}),
    "physical_address_cut_to_32_bits": (
        [("return Walk(((ppn << 12) & ~(size - 1)) | (va & (size - 1)), pte, level)",
          "return Walk((((ppn << 12) & ~(size - 1)) | (va & (size - 1))) & 0xFFFF_FFFF, pte, "
          "level)")], {"walk_faults", "isolation"}),
    # the first guest's RAM for every guest: isolation broken
    "guest_physical_as_host_physical": (
        [("frame = self.ram.host(walk.gpa & ~(PAGE_SIZE - 1))",
          "frame = walk.gpa & ~(PAGE_SIZE - 1)"),
         ("(self.ram.host(region) >> 12)", "(region >> 12)")], {"isolation", "side_by_side"}),
    "new_table_every_fill": (
        [("if entry & PTE_V and not entry & LEAF_RIGHTS:\n            table =",
          "if False:\n            table =")],
        {"megapages", "sample_os", "shadow_budget", "side_by_side"}),
    # the pool never recycled
    "flush_keeps_the_pool": (
        [("        self.roots.clear()\n        self.reclaim_pool()\n",
          "        self.roots.clear()\n")],
        {"sample_os", "shadow_budget", "side_by_side"}),
    # a satp write (or a full fence) that drops no shadow
    "flush_drops_nothing": (
        [("        self.roots.clear()\n        self.reclaim_pool()\n", "")],
        {"accessed_dirty", "sample_os", "no_stale_mapping", "shadow_budget", "side_by_side"}),
    "flush_forgets_the_tlb": (
        [("        self.reclaim_pool()\n        self.invalidate_tlb()\n",
          "        self.reclaim_pool()\n")],
        {"no_stale_mapping"}),
    "flush_address_forgets_the_tlb": (
        [("            self.write_pte(slot, 0)\n        self.invalidate_tlb()\n",
          "            self.write_pte(slot, 0)\n")], {"accessed_dirty", "no_stale_mapping"}),
    # the leaf of one root cleared (the last made), not every context's
    "flush_address_in_one_root": (
        [("        for root in self.roots.values():\n            slot = root + 4 * (va >> 22)",
          "        for root in list(self.roots.values())[-1:]:\n"
          "            slot = root + 4 * (va >> 22)")],
        {"accessed_dirty", "no_stale_mapping", "side_by_side"}),
    "flush_address_misses_megapages": (
        [("            if entry & PTE_V and not entry & LEAF_RIGHTS:\n"
          "                slot = ((entry",
          "            if entry & PTE_V:\n                slot = ((entry")],
        {"no_stale_mapping", "side_by_side"}),
    # second-level tables remembered across a flush: the pool's frames are
    # handed out again while the cache still uses them
    "table_cache_outlives_flush": ([("""        entry = self.read_pte(root_slot)
        if entry & PTE_V and not entry & LEAF_RIGHTS:
            table = (entry >> PTE_PPN_SHIFT) << 12
        else:
            table = self.alloc_table()
            if entry & PTE_V:                       # a megapage, now split
                self.invalidate_tlb()
            self.write_pte(root_slot, (table >> 12) << PTE_PPN_SHIFT | PTE_V)
""", """        cache = self.__dict__.setdefault("tables", {})
        table = cache.get(root_slot)
        if table is None:
            table = cache[root_slot] = self.alloc_table()
        self.write_pte(root_slot, (table >> 12) << PTE_PPN_SHIFT | PTE_V)
""")], {"sample_os", "shadow_budget", "side_by_side"}),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_wrong_pager_loses_the_checks_that_catch_it(lab, tmp_path, name):
    edits, expected = MUTANTS[name]
    student = tmp_path / name
    shutil.copytree(SOLUTION, student)
    text = (student / "my_pager.py").read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"the edit no longer applies to the solution: {old!r}"
        text = text.replace(old, new)
    (student / "my_pager.py").write_text(text)
    results = grade(lab, student, lab.checks, jobs=2)
    assert failed(results) == expected, {r.check.name: r.message for r in results if not r.passed}
    for result in results:
        if not result.passed:
            assert result.message
