"""`python -m emu` is the `emu` command."""
from emu.cli import main

main(prog_name="emu")
