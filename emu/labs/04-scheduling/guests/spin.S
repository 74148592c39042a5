# spin.S: a CPU-bound guest. It counts in s0 for ever: no SBI call after its
# first line, no WFI, no trap. It never gives the CPU back, so how much CPU
# it gets is the scheduler's decision alone: its instruction count (the
# summary line of `emu hv`) is that decision, measured.

    .include "lib.inc"

    .section .text.init
    .globl _start
_start:
    la      a0, text_start
    call    puts
    li      s0, 0
count:
    addi    s0, s0, 1
    j       count

    .section .rodata
text_start: .asciz "spin: counting for ever\n"
