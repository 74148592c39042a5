# fib.S: recursive Fibonacci with proper stack frames, printed over the UART.
#
# What it shows:
#   - a recursive function that follows the RISC-V calling convention: the
#     caller passes the argument in a0 and gets the result back in a0; `call`
#     puts the return address in ra; the callee saves ra and the s registers
#     it uses in its own stack frame and restores them before `ret`;
#   - calls into a small output library built on the 16550 UART (uart_putc,
#     uart_puts and print_udec, from programs/lib/uart.inc), whose routines
#     follow the same convention; print_udec converts to decimal with the M
#     extension's divu and remu;
#   - how fast naive recursion grows: each line also counts the calls it took.
#
# Spec sections that matter:
#   - RISC-V psABI (ELF psABI specification), "Integer Register Convention":
#     a0-a7 arguments and results, ra return address, t0-t6 and a0-a7 are
#     caller-saved (a callee may destroy them), s0-s11 and sp are callee-saved
#     (a callee must give them back unchanged); "Procedure Calling Convention":
#     the stack grows downwards and sp stays 16-byte aligned.
#   - Unprivileged ISA: 2.5 (JAL and JALR: `call` is auipc+jalr and links ra,
#     `ret` is jalr x0, 0(ra)); 7.2 (DIVU, REMU).
#
# Output: "fib(n) = value (calls: count)" for n = 0..20, then the machine
# stops with exit status 0 through the test finisher.

    .include "../lib/board.inc"      # UART_*, TEST_*, ASCII_*

    .equ FIB_LAST,        20          # print fib(0) .. fib(FIB_LAST)
    .equ STACK_SIZE,      4096        # fib(20) nests 19 frames of 16 bytes

    .section .text.init
    .globl _start
_start:
    # The hart starts with every register zero, sp included: a stack is the
    # first thing any code that makes calls needs.
    la      sp, stack_top

    # s0 and s1 survive the calls below (callee-saved), so the loop keeps its
    # counter and limit there rather than in t or a registers.
    li      s0, 0                   # n
    li      s1, FIB_LAST
next_n:
    la      a0, text_fib_open       # "fib("
    call    uart_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_equals         # ") = "
    call    uart_puts

    la      t0, fib_calls           # count the calls of this fib(n) alone
    sw      zero, 0(t0)
    mv      a0, s0
    call    fib                     # a0 = fib(n)
    call    print_udec

    la      a0, text_calls_open     # " (calls: "
    call    uart_puts
    la      t0, fib_calls
    lw      a0, 0(t0)
    call    print_udec
    la      a0, text_calls_close    # ")\n"
    call    uart_puts

    addi    s0, s0, 1
    ble     s0, s1, next_n

    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
1:  j       1b                      # the store stops the machine; never reached

# fib: a0 = n (unsigned); returns a0 = fib(n), with fib(0) = 0, fib(1) = 1,
# fib(n) = fib(n-1) + fib(n-2).
#
# The frame (16 bytes: the psABI keeps sp 16-byte aligned at every call):
#
#      sp+16  +----------------+  <- the caller's sp
#      sp+12  | ra             |  return address into our caller
#      sp+8   | s0             |  the caller's s0 (we use s0 for n)
#      sp+4   | s1             |  the caller's s1 (we use s1 for fib(n-1))
#      sp+0   | (padding)      |  <- our sp
#
# Why save anything: `call fib` below overwrites ra, so without a saved copy
# we could never return; and n must outlive the first recursive call, which
# is free to destroy a0 and the t registers. The s registers survive calls,
# but only because every function that uses one saves and restores it: so we
# do too, for whoever called us.
fib:
    la      t0, fib_calls           # one more call (a global, for the report)
    lw      t1, 0(t0)
    addi    t1, t1, 1
    sw      t1, 0(t0)

    li      t0, 2
    bltu    a0, t0, fib_base        # n < 2: fib(n) = n, no frame needed

    addi    sp, sp, -16             # prologue: make the frame, save
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)

    mv      s0, a0                  # n, kept across the calls
    addi    a0, s0, -1
    call    fib                     # a0 = fib(n-1)
    mv      s1, a0                  # kept across the next call
    addi    a0, s0, -2
    call    fib                     # a0 = fib(n-2)
    add     a0, a0, s1              # fib(n) = fib(n-1) + fib(n-2)

    lw      s1, 4(sp)               # epilogue: restore, free the frame
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
fib_base:
    ret

# ---------------------------------------------------------------------------
# Output over the 16550 UART: uart_putc, uart_puts, print_udec, print_hex.

    .include "../lib/uart.inc"

    .section .rodata
text_fib_open:    .asciz "fib("
text_equals:      .asciz ") = "
text_calls_open:  .asciz " (calls: "
text_calls_close: .asciz ")\n"

    .data
    .balign 4
fib_calls:        .word 0           # calls to fib since main last cleared it

    .bss
    .balign 16
stack:            .zero STACK_SIZE
stack_top:                          # sp starts here: the stack grows down
