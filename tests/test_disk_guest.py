"""The disk guest (programs/guests/disk/) on emu's disks: virtio-mmio block devices
and the PLIC, under `emu run --boot s --disk` and `emu hv --disk`.

The guest drives the first virtio block device it finds through the PLIC's S-mode
context: it prints the text at the start of sector 0, reads a run counter from
sector 1 ("emu disk guest: run N"), writes it back one higher, reads it again and
compares (programs/guests/README.md). Its run without a disk is in
tests/test_guests.py. The driver was checked on QEMU's virt machine with both
transports (the README says how); here it checks emu's devices by what the guest
prints, its exit status, and what is left in the disk image.

The options used: `emu run --disk FILE` (`FILE,ro`: read-only, the device offers
VIRTIO_BLK_F_RO) and `--snapshot` (writes go to a copy, the file is left alone);
`emu hv --disk NAME=FILE`, NAME a guest's name (its file's stem, repeated ones
made unique with -2). A single disk is in slot 0, PLIC source 1; the transport,
legacy or modern, is the device's choice, and both give the same output but for
the name."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.cli import main
from tests.test_guests import build_guest

MAX_INSNS = 50_000_000
SECTOR = 512
SECTORS = 128
MESSAGE = "Hello from sector 0 of the test disk!"
TRANSPORT = re.compile(r"legacy transport \(version 1\)|modern transport \(version 2\)")
FAILED_WRITE = ("disk: writing sector 1 all the same: the device must refuse\n"
                "disk: FAILED: write of sector 1: I/O error (VIRTIO_BLK_S_IOERR)\n")


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> Path:
    return build_guest("disk", tmp_path_factory.mktemp("disk") / "disk.elf")


def run_sector(run: int) -> bytes:
    """Sector 1 as the guest writes it on its run number `run`."""
    return f"emu disk guest: run {run}\n".encode().ljust(SECTOR, b"\0")


def make_image(path: Path, message: str = MESSAGE, sectors: int = SECTORS,
               last_run: int | None = None) -> bytes:
    """A disk of `sectors` sectors, `message` and a newline at the start of sector
    0, zeros elsewhere, or sector 1 as run `last_run` left it."""
    data = bytearray(sectors * SECTOR)
    text = message.encode() + b"\n"
    data[:len(text)] = text
    if last_run is not None:
        data[SECTOR:2 * SECTOR] = run_sector(last_run)
    path.write_bytes(data)
    return bytes(data)


def after_run(image: bytes, run: int) -> bytes:
    """The image once run `run` has written sector 1, and nothing else."""
    return image[:SECTOR] + run_sector(run) + image[2 * SECTOR:]


def opening(message: str = MESSAGE, sectors: int = SECTORS, read_only: bool = False,
            last_run: int = 0) -> str:
    """What the guest prints up to its write; the transport's name is TRANSPORT."""
    return ("disk: a virtio block driver, on hart 0\n"
            "disk: virtio-mmio slot 0 at 0x10001000: block device, TRANSPORT, "
            "PLIC source 1\n"
            f"disk: {sectors} sectors of 512 bytes, "
            f"{'read-only (VIRTIO_BLK_F_RO)' if read_only else 'writable'}\n"
            f'disk: sector 0 says "{message}"\n'
            f"disk: sector 1 counts {last_run} runs before this one\n")


def expected(message: str = MESSAGE, sectors: int = SECTORS, last_run: int = 0) -> str:
    """The whole output of a run that succeeds."""
    return (opening(message, sectors, last_run=last_run)
            + f'disk: wrote sector 1: "emu disk guest: run {last_run + 1}"\n'
            "disk: sector 1 reads back as written\n"
            "disk: 4 requests, 4 interrupts, all OK\n")


def normal(out: str) -> str:
    return TRANSPORT.sub("TRANSPORT", out)


def run(elf: Path, *options: str):
    return CliRunner().invoke(main, ["run", "--boot", "s", "--mem", "16M", "--max-insns",
                                     str(MAX_INSNS), *options, str(elf)])


def hv(*args: str):
    return CliRunner().invoke(main, ["hv", "--max-insns", str(MAX_INSNS), *args])


def console(out: str, name: str) -> str:
    """Guest `name`'s lines of `emu hv`'s standard output, without their prefix."""
    prefix = f"[{name}] "
    return "".join(line[len(prefix):] + "\n" for line in out.splitlines()
                   if line.startswith(prefix))


# ---- emu run --boot s --disk ----

def test_reads_writes_and_the_write_persists(elf, tmp_path):
    path = tmp_path / "disk.img"
    image = make_image(path)
    first = run(elf, "--disk", str(path))
    assert normal(first.stdout) == expected(), first.stderr
    assert first.exit_code == 0, first.stderr
    assert path.read_bytes() == after_run(image, 1)
    second = run(elf, "--disk", str(path))
    assert normal(second.stdout) == expected(last_run=1), second.stderr
    assert second.exit_code == 0, second.stderr
    assert path.read_bytes() == after_run(image, 2)


def test_snapshot_leaves_the_image_alone_and_runs_repeat_exactly(elf, tmp_path):
    path = tmp_path / "disk.img"
    image = make_image(path, last_run=41)
    summaries = []
    for attempt in range(2):
        summary = tmp_path / f"run{attempt}.json"
        result = run(elf, "--disk", str(path), "--snapshot", "--json", str(summary))
        assert normal(result.stdout) == expected(last_run=41), result.stderr
        assert result.exit_code == 0, result.stderr
        assert path.read_bytes() == image
        data = json.loads(summary.read_text())
        summaries.append((result.stdout, data["instructions"], data["retired"]))
    assert summaries[0] == summaries[1]


def test_a_read_only_disk_refuses_the_write(elf, tmp_path):
    """The device offers VIRTIO_BLK_F_RO and answers the write with
    VIRTIO_BLK_S_IOERR (virtio 1.1 section 5.2.6.2); the guest says so and fails."""
    path = tmp_path / "disk.img"
    image = make_image(path)
    result = run(elf, "--disk", f"{path},ro")
    assert normal(result.stdout) == opening(read_only=True) + FAILED_WRITE, result.stderr
    assert result.exit_code == 1
    assert path.read_bytes() == image


@settings(max_examples=8, deadline=None)
@given(message=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                       min_size=1, max_size=64),
       last_run=st.integers(0, 10**8),
       sectors=st.integers(2, 4096))
def test_any_message_any_counter_any_size(elf, tmp_path_factory, message, last_run, sectors):
    path = tmp_path_factory.mktemp("prop") / "disk.img"
    image = make_image(path, message, sectors, last_run)
    result = run(elf, "--disk", str(path))
    assert normal(result.stdout) == expected(message, sectors, last_run), result.stderr
    assert result.exit_code == 0
    assert path.read_bytes() == after_run(image, last_run + 1)


# ---- emu hv --disk NAME=FILE ----

def test_two_guests_two_disks_each_as_its_bare_run(elf, tmp_path):
    """Each guest drives its own disk, in its own slot 0, and prints and writes
    what the same disk gives a bare run (equivalence)."""
    disks = {"disk": ("the first guest's disk", 64), "disk-2": ("the second guest's disk", 300)}
    paths = {name: tmp_path / f"{name}.img" for name in disks}
    images = {name: make_image(paths[name], message, sectors)
              for name, (message, sectors) in disks.items()}
    result = hv(*[arg for name in disks for arg in ("--disk", f"{name}={paths[name]}")],
                str(elf), str(elf))
    assert result.exit_code == 0, result.stderr
    for name, (message, sectors) in disks.items():
        out = console(result.stdout, name)
        assert normal(out) == expected(message, sectors), name
        assert paths[name].read_bytes() == after_run(images[name], 1), name
        bare_path = tmp_path / f"bare-{name}.img"
        bare_path.write_bytes(images[name])
        bare = run(elf, "--disk", str(bare_path))
        assert bare.stdout == out, name
        assert bare_path.read_bytes() == after_run(images[name], 1), name


def test_a_guest_sees_only_its_own_disk(elf, tmp_path):
    """disk-2 has no disk: it must not find disk's, nor be woken by its interrupts;
    a read-only disk fails its own guest alone."""
    path = tmp_path / "a.img"
    image = make_image(path)
    result = hv("--disk", f"disk={path}", str(elf), str(elf))
    assert normal(console(result.stdout, "disk")) == expected()
    assert console(result.stdout, "disk-2") == \
        (Path(__file__).parent.parent / "programs/guests/disk/expected.txt").read_text()
    assert result.exit_code == 1
    assert path.read_bytes() == after_run(image, 1)

    other = tmp_path / "b.img"
    other_image = make_image(other, "read me only")
    result = hv("--disk", f"disk={path}", "--disk", f"disk-2={other},ro", str(elf), str(elf))
    assert normal(console(result.stdout, "disk")) == expected(last_run=1)
    assert normal(console(result.stdout, "disk-2")) == \
        opening("read me only", read_only=True) + FAILED_WRITE
    assert result.exit_code == 1
    assert path.read_bytes() == after_run(image, 2)
    assert other.read_bytes() == other_image
