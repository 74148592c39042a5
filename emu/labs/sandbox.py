"""Running one check of a lab on a student's files, in a child process of its own.

Student code is untrusted in the sense that matters to a grader: it may not
parse, raise, loop forever, eat memory, print without end, kill its process or
crash it. Each check therefore runs as `python -m emu.labs.sandbox` with

- a private copy of the student's files as its directory (theirs are never
  modified, and one check cannot leave anything for the next);
- a wall-clock timeout (the check's), a CPU-time limit, a memory limit (an
  address-space limit; under AddressSanitizer, which reserves terabytes of
  address space, the parent watches the resident size instead), a limit on the
  size of any file it writes, and a process group of its own, killed at the end;
- its verdict written as JSON to a file the parent names, and its output (what
  the student's code printed) kept, up to OUTPUT_LIMIT bytes.

Whatever the child does, the parent turns it into a Result with a clear message.
This protects the grader from mistakes, not from a student who sets out to forge
a verdict: code that runs in the child can do what the child can. Run graders of
untrusted classes inside a container (Gradescope does)."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from emu.labs import Check, Lab, LabError, load_lab
from emu.errors import describe_error
from emu.labs.work import CheckFailed, LabStub, Work

FILE_LIMIT = 64 << 20           # bytes in any one file it writes
OUTPUT_LIMIT = 8192             # bytes of its output kept for the report
STUDENT_FILE_LIMIT = 4 << 20    # a student's file larger than this is not copied
POLL = 0.02                     # seconds between looks at a running child
EMU_ROOT = Path(__file__).resolve().parents[2]      # where `import emu` finds this emu


@dataclass
class Result:
    """The verdict on one check."""
    check: Check
    passed: bool
    message: str = ""               # why it failed
    expected: str | None = None
    got: str | None = None
    reproduce: str | None = None    # an emu command that shows the failure
    note: str = ""                  # what a passing check says
    output: str = ""                # what the student's code printed
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return self.check.points if self.passed else 0.0


# ---- the parent's side

def run_check(lab: Lab, check: Check, student_dir: Path) -> Result:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="emu-lab-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp) / "work"
        copy_student_files(student_dir, work)
        verdict, output = Path(tmp) / "verdict.json", Path(tmp) / "output"
        with output.open("w+b") as out:
            stopped, status = _supervise(lab, check, work, verdict, out)
            out.seek(0)
            printed = out.read(OUTPUT_LIMIT + 1)
        text = printed[:OUTPUT_LIMIT].decode("utf-8", "replace")
        if len(printed) > OUTPUT_LIMIT:
            text += "\n[... more output cut]"
        result = _verdict(check, verdict, stopped, status, text)
    result.seconds = time.monotonic() - started
    return result


def copy_student_files(source: Path, target: Path) -> None:
    """The student's regular files (no links, nothing huge, no caches), so
    that nothing a check does can reach theirs."""
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_symlink() or not path.is_file() or path.stat().st_size > STUDENT_FILE_LIMIT:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)


def _under_asan() -> bool:
    return "libasan" in os.environ.get("LD_PRELOAD", "")


def _supervise(lab: Lab, check: Check, work: Path, verdict: Path,
               out) -> tuple[str | None, int]:
    """Run the child to its end: why the parent stopped it ("timeout", or
    "memory" when the parent watches it; None if it ended), and its exit status. The child sets its own limits (no
    preexec_fn: the parent grades with threads, and a fork between threads must
    run no Python before exec)."""
    limit_space = not _under_asan()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0",
               PYTHONPATH=os.pathsep.join(filter(None, [str(EMU_ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    if not limit_space:     # a huge allocation is a MemoryError, a crash a signal, as without
        env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                     "allocator_may_return_null=1",
                                                     "handle_segv=0"]))
    command = [sys.executable, "-m", "emu.labs.sandbox", str(lab.path), check.name, str(work),
               str(verdict)]
    child = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + check.timeout
    stopped = None
    try:
        while stopped is None and child.poll() is None:
            if time.monotonic() > deadline:
                stopped = "timeout"
            elif not limit_space and _resident(child.pid) > check.memory:
                stopped = "memory"
            else:
                time.sleep(POLL)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)    # the child and anything it started
        except ProcessLookupError:
            pass
        child.wait()
    return stopped, child.returncode


def _cpu_seconds(check: Check) -> int:
    """The CPU time a check may use: a little more than its wall-clock timeout,
    which usually ends it first."""
    return int(check.timeout) + 5


def _limit(check: Check) -> None:
    """The child's limits, set before any of the student's code runs."""
    cpu = _cpu_seconds(check)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not _under_asan():
        resource.setrlimit(resource.RLIMIT_AS, (check.memory, check.memory))


def _resident(pid: int) -> int:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _verdict(check: Check, verdict: Path, stopped: str | None, status: int,
             output: str) -> Result:
    if stopped == "timeout":
        return Result(check, False, f"did not finish in {check.timeout:g} s: an endless loop, "
                      "or a guest that never ends?", output=output)
    if stopped == "memory":
        return Result(check, False, f"used more than {check.memory >> 20} MiB of memory",
                      output=output)
    try:
        data = json.loads(verdict.read_text())
        return Result(check, **{k: data[k] for k in ("passed", "message", "expected", "got",
                                                      "reproduce", "note")}, output=output)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if status < 0:
        name = signal.Signals(-status).name
        why = {"SIGXCPU": f"used more than {_cpu_seconds(check)} s of CPU time",
               "SIGXFSZ": f"wrote a file larger than {FILE_LIMIT >> 20} MiB"}.get(
            name, f"crashed: the check's process died of {name}")
    else:
        why = f"the check's process ended (status {status}) before giving a verdict"
    return Result(check, False, why, output=output)


# ---- the child's side

def child_main(folder: str, check_name: str, work_dir: str, verdict_path: str) -> None:
    sys.dont_write_bytecode = True
    work_root = Path(work_dir)
    sys.path.insert(0, work_dir)        # the student's modules may import each other
    lab = load_lab(Path(folder))
    check = lab.check_named(check_name)
    _limit(check)
    verdict = {"passed": False, "message": "", "expected": None, "got": None,
               "reproduce": None, "note": ""}
    try:
        work = Work(work_root, f"lab {lab.number:02d}", lab.spec.files, lab.spec.stubs)
        verdict["note"] = check.run(work) or ""
        verdict["passed"] = True
    except CheckFailed as failed:
        verdict.update(message=failed.message, reproduce=failed.reproduce,
                       expected=_text(failed.expected), got=_text(failed.got))
    except LabStub as stub:
        verdict["message"] = str(stub)
    except (Exception, SystemExit) as error:     # the student's code raised, or exited
        verdict["message"] = describe_error(error, work_root)
    sys.stdout.flush()
    Path(verdict_path).write_text(json.dumps(verdict))


def _text(value) -> str | None:
    return None if value is None else value if isinstance(value, str) else repr(value)


if __name__ == "__main__":
    try:
        child_main(*sys.argv[1:5])
    except LabError as error:
        sys.exit(f"emu lab: {error}")
