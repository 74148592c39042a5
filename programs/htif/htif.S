# htif.S: ending a bare M-mode run through Spike's HTIF tohost word.
#
# Spike's host-target interface (riscv-isa-sim, fesvr/htif.cc; the convention
# riscv-tests use): the ELF defines 64-bit `tohost` and `fromhost` symbols, and
# writing an odd value v to tohost ends the run with exit status v >> 1. The
# emulator watches tohost only because this ELF defines the symbol (the .tohost
# section of programs/link.ld). Like riscv-tests on RV32, we store the low word
# and then the high word.
#
# If the run goes on anyway, HTIF did not work: say so and fail through the
# test device, so a broken HTIF never looks like a pass.

    .equ UART_BASE,       0x10000000
    .equ UART_LSR,        5
    .equ UART_LSR_THRE,   0x20
    .equ TEST_BASE,       0x00100000
    .equ TEST_FAIL,       0x3333
    .equ EXIT_CODE_SHIFT, 16
    .equ HTIF_EXIT_OK,    (0 << 1) | 1  # odd: exit, with status 0
    .equ GRACE,           1000          # instructions to wait for the host

    .section .text.init
    .globl _start
_start:
    la      a0, message
    jal     puts

    la      t0, tohost
    li      t1, HTIF_EXIT_OK
    sw      t1, 0(t0)                   # the low word: the exit request
    sw      zero, 4(t0)                 # the high word: 0

    li      t0, GRACE                   # the host acts within a few steps
1:  addi    t0, t0, -1
    bnez    t0, 1b
    la      a0, still_running
    jal     puts
    li      t0, TEST_BASE
    li      t1, (1 << EXIT_CODE_SHIFT) | TEST_FAIL
    sw      t1, 0(t0)
2:  j       2b

# puts: a0 = a NUL-terminated string, to the UART (polling THRE). Clobbers a0-a3.
puts:
    li      a1, UART_BASE
1:  lbu     a2, 0(a0)
    beqz    a2, 3f
2:  lbu     a3, UART_LSR(a1)
    andi    a3, a3, UART_LSR_THRE
    beqz    a3, 2b
    sb      a2, 0(a1)
    addi    a0, a0, 1
    j       1b
3:  ret

    .section .rodata
message:
    .asciz "Hello through the UART; the exit goes through HTIF tohost.\n"
still_running:
    .asciz "FAIL: the write to tohost did not stop the machine\n"

    # The HTIF mailbox: 64-bit words, each on its own 64-byte line as in Spike.
    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword 0
    .balign 64
    .globl fromhost
fromhost:
    .dword 0
