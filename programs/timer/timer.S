# timer.S: machine timer interrupts, handled in M-mode, with WFI in between.
#
# What it shows:
#   - the CLINT timer: mtime counts up; when mtime >= mtimecmp, the machine
#     timer interrupt is pending (mip.MTIP). Software clears it only by
#     writing a later deadline to mtimecmp; there is no "acknowledge" bit;
#   - 64-bit registers on a 32-bit hart: mtime is read high, low, high again
#     (retrying if the high half moved), and mtimecmp is written in the
#     three-store sequence of the privileged spec, so that no intermediate
#     value ever looks like an early deadline;
#   - the two enables: mie.MTIE (this interrupt may be taken) and mstatus.MIE
#     (M-mode takes interrupts at all). mcause has bit 31 set for an interrupt;
#     machine timer is interrupt 7;
#   - periodic ticks without drift: each deadline is the previous deadline +
#     INTERVAL, not "now" + INTERVAL, so handler latency does not accumulate;
#   - sleeping with WFI without a lost wake-up. Testing "are we done?" and then
#     executing WFI with interrupts on has a race: the last interrupt could
#     come between the test and the WFI, and the hart would sleep for ever.
#     WFI wakes up when an interrupt is pending and enabled in mie even while
#     mstatus.MIE is 0, so main keeps MIE off, tests, sleeps, and only then
#     opens a one-instruction window (MIE on, MIE off) in which the pending
#     interrupt is taken.
#
# Spec sections that matter (privileged ISA 1.12):
#   - 3.1.6.1 (mstatus.MIE, MPIE), 3.1.9 (mip and mie, MTIP and MTIE),
#     3.1.15 (mcause, the interrupt bit and the codes of table 3.6),
#   - 3.2.1 (mtime and mtimecmp, and the RV32 mtimecmp update sequence),
#   - 3.3.3 (WFI: resumes when an interrupt is pending and enabled in mie,
#     whatever the global enable; it may also return early, so it is always
#     in a loop).
#
# On emu, time is deterministic: mtime counts instructions, and WFI skips
# ahead to the deadline. On QEMU mtime follows the host clock (10 MHz), so the
# same program takes 50 ms; the output is the same, because it prints only
# the deadlines it set and whether each was met.
#
# Output: a line per tick, then a summary; exit status 0 (1 on a surprise).

    .include "../lib/board.inc"      # UART_*, TEST_*, ASCII_*

    .equ CLINT_BASE,      0x02000000
    .equ CLINT_MTIMECMP,  0x4000      # hart 0's mtimecmp: low word, high at +4
    .equ CLINT_MTIME,     0xbff8      # mtime: low word, high at +4

    .equ MSTATUS_MIE,     (1 << 3)    # M-mode interrupts globally enabled
    .equ MIE_MTIE,        (1 << 7)    # machine timer interrupt enabled
    .equ MCAUSE_MACHINE_TIMER, 0x80000007   # interrupt bit | code 7

    .equ INTERVAL,        100000      # mtime units between ticks
    .equ TICKS,           5           # then stop
    .equ STACK_SIZE,      4096

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    mtvec, t0               # direct mode: the handler is 4-aligned

    la      a0, text_every          # "timer: a tick every INTERVAL mtime
    call    uart_puts               # units, TICKS ticks"
    li      a0, INTERVAL
    call    print_udec
    la      a0, text_units
    call    uart_puts
    li      a0, TICKS
    call    print_udec
    la      a0, text_ticks
    call    uart_puts

    # The first deadline: now + INTERVAL, as 64-bit numbers (the low word may
    # carry into the high one). `start` is kept to print deadlines relative
    # to it: the absolute values depend on how long booting took.
    call    read_mtime              # a1:a0 = mtime
    la      t0, start
    sw      a0, 0(t0)
    sw      a1, 4(t0)
    li      t1, INTERVAL
    add     t2, a0, t1              # low word + INTERVAL
    sltu    t3, t2, a0              # carry: the sum wrapped around
    add     a1, a1, t3
    mv      a0, t2
    la      t0, deadline
    sw      a0, 0(t0)
    sw      a1, 4(t0)
    call    write_mtimecmp

    li      t0, MIE_MTIE            # let the timer interrupt through; MIE is
    csrs    mie, t0                 # still 0 (reset value) until the window

    li      s0, 0                   # times WFI returned
sleep:
    la      t0, ticks
    lw      t0, 0(t0)
    li      t1, TICKS
    bgeu    t0, t1, finished        # the handler counted the last tick
    wfi                             # sleep until MTIP (enabled in mie)
    addi    s0, s0, 1
    csrsi   mstatus, MSTATUS_MIE    # the window: the pending interrupt is
    csrci   mstatus, MSTATUS_MIE    # taken here, between these two
    j       sleep

finished:
    li      t0, MIE_MTIE            # no more timer interrupts
    csrc    mie, t0
    la      a0, text_woke
    call    uart_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_times
    call    uart_puts
    la      t0, ticks
    lw      a0, 0(t0)
    call    print_udec
    la      a0, text_ticks
    call    uart_puts

    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
1:  j       1b                      # the store stops the machine

# read_mtime: returns a1:a0 = mtime. The two halves are separate loads; if
# the low half wrapped between them, the high half read first is stale, so
# read it again and retry until it did not change.
read_mtime:
    li      t0, CLINT_BASE
    li      t1, CLINT_MTIME
    add     t0, t0, t1
1:  lw      a1, 4(t0)               # high
    lw      a0, 0(t0)               # low
    lw      t1, 4(t0)               # high again
    bne     a1, t1, 1b
    ret

# write_mtimecmp: a1:a0 = the new deadline. Privileged spec 3.2.1: first make
# the low word all ones, so that whatever the high word holds next, the
# comparison cannot match early; then the high word; then the low word.
write_mtimecmp:
    li      t0, CLINT_BASE
    li      t1, CLINT_MTIMECMP
    add     t0, t0, t1
    li      t1, -1
    sw      t1, 0(t0)               # no smaller than the old value
    sw      a1, 4(t0)               # no smaller than the new value
    sw      a0, 0(t0)               # the new value
    ret

# ---------------------------------------------------------------------------
# The trap handler. On entry MIE is 0 (the hart moved it to MPIE), so the
# handler itself is never interrupted. Writing mtimecmp is what clears
# MTIP; returning with it still pending would take the interrupt again at
# once, for ever.

    .balign 4
trap_handler:
    addi    sp, sp, -80             # save what the interrupted code may use
    sw      ra, 76(sp)
    sw      t0, 72(sp)
    sw      t1, 68(sp)
    sw      t2, 64(sp)
    sw      t3, 60(sp)
    sw      t4, 56(sp)
    sw      t5, 52(sp)
    sw      t6, 48(sp)
    sw      a0, 44(sp)
    sw      a1, 40(sp)
    sw      a2, 36(sp)
    sw      a3, 32(sp)
    sw      a4, 28(sp)
    sw      a5, 24(sp)
    sw      a6, 20(sp)
    sw      a7, 16(sp)
    sw      s0, 12(sp)
    sw      s1, 8(sp)

    csrr    t0, mcause
    li      t1, MCAUSE_MACHINE_TIMER
    bne     t0, t1, unexpected_trap

    la      t0, ticks               # one more tick
    lw      s0, 0(t0)
    addi    s0, s0, 1
    sw      s0, 0(t0)

    # "tick N: deadline start+D "
    la      a0, text_tick
    call    uart_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_deadline
    call    uart_puts
    la      t0, deadline
    lw      a0, 0(t0)
    la      t0, start
    lw      t1, 0(t0)
    sub     a0, a0, t1              # (the difference fits in the low word)
    call    print_udec

    # "reached": mtime >= deadline, compared as 64-bit unsigned numbers:
    # the high words decide unless they are equal.
    call    read_mtime
    la      t0, deadline
    lw      t1, 0(t0)
    lw      t2, 4(t0)
    bltu    a1, t2, not_reached
    bne     a1, t2, reached
    bltu    a0, t1, not_reached
reached:
    la      a0, text_reached
    call    uart_puts

    # The next deadline, INTERVAL after this one (64-bit add), or none.
    li      t0, TICKS
    bgeu    s0, t0, last_tick
    la      t0, deadline
    lw      a0, 0(t0)
    lw      a1, 4(t0)
    li      t1, INTERVAL
    add     t2, a0, t1
    sltu    t3, t2, a0
    add     a1, a1, t3
    mv      a0, t2
    sw      a0, 0(t0)
    sw      a1, 4(t0)
    call    write_mtimecmp          # also clears MTIP: mtime < mtimecmp again
    j       handler_return
last_tick:
    li      a0, -1                  # the largest deadline: never, and MTIP
    li      a1, -1                  # goes away
    call    write_mtimecmp

handler_return:
    lw      s1, 8(sp)
    lw      s0, 12(sp)
    lw      a7, 16(sp)
    lw      a6, 20(sp)
    lw      a5, 24(sp)
    lw      a4, 28(sp)
    lw      a3, 32(sp)
    lw      a2, 36(sp)
    lw      a1, 40(sp)
    lw      a0, 44(sp)
    lw      t6, 48(sp)
    lw      t5, 52(sp)
    lw      t4, 56(sp)
    lw      t3, 60(sp)
    lw      t2, 64(sp)
    lw      t1, 68(sp)
    lw      t0, 72(sp)
    lw      ra, 76(sp)
    addi    sp, sp, 80
    mret                            # back to the window in main; MIE = MPIE

not_reached:                        # an interrupt before its deadline
    la      a0, text_not_reached
    call    uart_puts
    j       fail
unexpected_trap:
    la      a0, text_unexpected
    call    uart_puts
fail:
    li      t0, TEST_BASE
    li      t1, (1 << 16) | TEST_FAIL   # exit status 1
    sw      t1, 0(t0)
1:  j       1b

# ---------------------------------------------------------------------------
# Output over the 16550 UART: uart_putc, uart_puts, print_udec, print_hex.

    .include "../lib/uart.inc"

    .section .rodata
text_every:       .asciz "timer: a tick every "
text_units:       .asciz " mtime units, "
text_tick:        .asciz "tick "
text_deadline:    .asciz ": deadline start+"
text_reached:     .asciz " reached\n"
text_not_reached: .asciz " NOT reached\n"
text_unexpected:  .asciz "unexpected trap\n"
text_woke:        .asciz "timer: wfi returned "
text_times:       .asciz " times for "
text_ticks:       .asciz " ticks\n"

    .data
    .balign 8
start:            .word 0, 0        # mtime when main began (low, high)
deadline:         .word 0, 0        # the mtimecmp value last armed
ticks:            .word 0           # timer interrupts handled

    .bss
    .balign 16
stack:            .zero STACK_SIZE
stack_top:
