# late.S: a guest that sleeps for a long time, then counts for ever as
# spin.S does. While it sleeps the others run; when it wakes it must get
# its share of the CPU from then on, not make up for the time it slept.

    .include "lib.inc"

    .equ LONG_NAP, 400000

    .section .text.init
    .globl _start
_start:
    la      a0, text_start
    call    puts
    li      a0, LONG_NAP
    call    sleep
    la      a0, text_awake
    call    puts
    li      s0, 0
count:
    addi    s0, s0, 1
    j       count

    .section .rodata
text_start: .asciz "late: asleep for 400000 ticks\n"
text_awake: .asciz "late: awake, counting for ever\n"
