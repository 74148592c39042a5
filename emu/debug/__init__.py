"""The debugger: a UI-free engine over a Machine (session), its command line
(repl, `emu debug`) and the GDB remote serial protocol server (gdbstub,
`emu gdbserver`)."""
