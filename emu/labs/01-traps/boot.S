# boot.S: starts a U-mode program on the bare machine, with trap.S as its
# kernel. A program includes it first and defines `main`, which runs in
# U-mode with a stack; it talks to trap.S through ECALL (board.inc lists the
# calls) and ends with the exit call.
#
# What M-mode does before dropping to U-mode:
#   - trap_init (trap.S) installs the handler;
#   - PMP entry 0 lets U-mode reach all memory: with PMP entries but none
#     matching, a U-mode access fails (privileged spec 1.12 section 3.7.1);
#     pmpaddr0 all ones with A = NAPOT covers the whole address space;
#   - MRET with mstatus.MPP = U and mepc = main (section 3.3.2).

    .include "board.inc"

    .equ PMP_R,            0x01
    .equ PMP_W,            0x02
    .equ PMP_X,            0x04
    .equ PMP_NAPOT,        0x18       # A field = 3: a naturally aligned power of two
    .equ USER_STACK_SIZE,  4096

    .section .text.init
    .globl _start
_start:
    la      sp, boot_stack_top
    call    trap_init
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, PMP_NAPOT | PMP_X | PMP_W | PMP_R
    csrw    pmpcfg0, t0
    li      t0, MSTATUS_MPP
    csrc    mstatus, t0               # MPP = 0: U-mode
    la      t0, main
    csrw    mepc, t0
    la      sp, user_stack_top
    mret

    .section .bss
    .balign 16
boot_stack:
    .zero   256
boot_stack_top:
user_stack:
    .zero   USER_STACK_SIZE
user_stack_top:

    .section .text
    .include "trap.S"
