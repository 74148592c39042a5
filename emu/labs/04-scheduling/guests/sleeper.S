# sleeper.S: a guest that works a little, then sleeps in WFI, for ever:
# WORK loop iterations (two instructions each), then a nap of NAP time
# ticks. s1 counts its naps. While it sleeps it is blocked: the scheduler
# must not pick it, and must pick it again once its timer has come.

    .include "lib.inc"

    .equ WORK, 1500
    .equ NAP,  20000

    .section .text.init
    .globl _start
_start:
    la      a0, text_start
    call    puts
    li      s1, 0
work:
    li      t3, WORK
1:  addi    t3, t3, -1
    bnez    t3, 1b
    li      a0, NAP
    call    sleep
    addi    s1, s1, 1
    j       work

    .section .rodata
text_start: .asciz "sleeper: 1500 loops of work, then a nap of 20000 ticks, for ever\n"
