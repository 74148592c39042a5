# short.S: a guest that counts to COUNT (two instructions a step), then shuts
# down through the SBI. Once it has stopped, the hypervisor no longer gives
# it to the scheduler, and the others share the CPU it leaves.

    .include "lib.inc"

    .equ COUNT, 150000

    .section .text.init
    .globl _start
_start:
    la      a0, text_start
    call    puts
    li      s0, COUNT
count:
    addi    s0, s0, -1
    bnez    s0, count
    la      a0, text_done
    call    puts
    call    shutdown

    .section .rodata
text_start: .asciz "short: counting to 150000, then shutting down\n"
text_done:  .asciz "short: done\n"
