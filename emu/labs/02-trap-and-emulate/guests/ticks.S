# ticks.S: a timer-driven S-mode guest: ten ticks, sleeping in WFI between.
#
# What it shows:
#   - the supervisor timer through the SBI: the kernel cannot touch the
#     CLINT (that is M-mode's), so it asks the firmware with TIME set_timer
#     for an interrupt when `time` reaches a deadline. The interrupt arrives
#     at stvec with scause = 0x80000005 (interrupt bit | supervisor timer);
#   - the enables: sie.STIE lets the supervisor timer interrupt through,
#     sstatus.SIE lets S-mode take interrupts at all;
#   - one-shot deadlines: SBI set_timer programs ONE interrupt; the handler
#     programs the next (deadline = rdtime + INTERVAL), and set_timer is
#     also what clears the pending interrupt (sip.STIP is read-only in S);
#   - the `time` CSR (rdtime): readable in S-mode because the firmware set
#     mcounteren.TM. Each tick prints how much time passed since the last;
#   - WFI without a lost wake-up: main tests "done?" with sstatus.SIE off,
#     then sleeps. WFI wakes when an interrupt is pending and enabled in
#     sie, even with SIE off; only then does main open a window (SIE on,
#     SIE off) in which the handler runs. Testing with SIE on could let the
#     last interrupt slip in between the test and the WFI: asleep for ever.
#
# Each delta is INTERVAL plus the handler's own work before it re-arms the
# timer (reading time, printing the line), plus the WFI's own tick.
# Time here is virtual: one tick per instruction, and WFI skips forward to
# the deadline. So the deltas are exact and the same on every run, bare or
# under the hypervisor (which counts the guest's instructions the same way).

    .include "sbi.inc"

    .equ INTERVAL,  10000           # time ticks between interrupts
    .equ TICKS,     10

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0               # direct mode: the handler is 4-aligned

    la      a0, text_start
    call    sbi_puts
    li      a0, INTERVAL
    call    print_udec
    la      a0, text_ticks
    call    sbi_puts

    call    read_time               # the deltas start from here
    sw      a0, last_time, t0
    call    arm_timer               # the first deadline: now + INTERVAL
    li      t0, SIE_STIE
    csrs    sie, t0

    li      s0, 0                   # times WFI returned
sleep:
    lw      t0, ticks
    li      t1, TICKS
    bgeu    t0, t1, finished
    wfi                             # until the timer is pending (in sie)
    addi    s0, s0, 1
    csrsi   sstatus, SSTATUS_SIE    # the window: the handler runs here
    csrci   sstatus, SSTATUS_SIE
    j       sleep

finished:
    li      t0, SIE_STIE
    csrc    sie, t0
    la      a0, text_woke
    call    sbi_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_times
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown

# arm_timer: set_timer(rdtime + INTERVAL), a 64-bit addition: the low half
# may carry into the high one.
arm_timer:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    read_time
    li      t1, INTERVAL
    add     t0, a0, t1
    sltu    t2, t0, a0              # the carry
    add     a1, a1, t2
    mv      a0, t0
    call    set_timer
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# The trap handler. It runs with SIE off (the hart moved SIE to SPIE), so it
# is never interrupted itself. It saves every register it (or what it
# calls) may change: the interrupted code did not expect a call.

    .balign 4
trap_handler:
    addi    sp, sp, -64
    sw      ra, 60(sp)
    sw      t0, 56(sp)
    sw      t1, 52(sp)
    sw      t2, 48(sp)
    sw      t3, 44(sp)
    sw      t4, 40(sp)
    sw      t5, 36(sp)
    sw      t6, 32(sp)
    sw      a0, 28(sp)
    sw      a1, 24(sp)
    sw      a2, 20(sp)
    sw      a3, 16(sp)
    sw      a4, 12(sp)
    sw      a5, 8(sp)
    sw      a6, 4(sp)
    sw      a7, 0(sp)

    csrr    t0, scause
    li      t1, SCAUSE_S_TIMER
    bne     t0, t1, unexpected

    call    read_time
    lw      t0, last_time           # delta = now - last (the low halves
    sw      a0, last_time, t1       # suffice: deltas are small)
    sub     t0, a0, t0
    sw      t0, delta, t1

    lw      t0, ticks
    addi    t0, t0, 1
    sw      t0, ticks, t1

    la      a0, text_tick           # "tick N: time +DELTA"
    call    sbi_puts
    lw      a0, ticks
    call    print_udec
    la      a0, text_delta
    call    sbi_puts
    lw      a0, delta
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    lw      t0, ticks
    li      t1, TICKS
    bgeu    t0, t1, 1f
    call    arm_timer               # the next deadline; set_timer also
                                    # clears this pending interrupt
    j       2f
1:  li      a0, -1                  # the last tick: no more ("never"),
    li      a1, -1                  # and the pending one is cleared
    call    set_timer

2:  lw      ra, 60(sp)
    lw      t0, 56(sp)
    lw      t1, 52(sp)
    lw      t2, 48(sp)
    lw      t3, 44(sp)
    lw      t4, 40(sp)
    lw      t5, 36(sp)
    lw      t6, 32(sp)
    lw      a0, 28(sp)
    lw      a1, 24(sp)
    lw      a2, 20(sp)
    lw      a3, 16(sp)
    lw      a4, 12(sp)
    lw      a5, 8(sp)
    lw      a6, 4(sp)
    lw      a7, 0(sp)
    addi    sp, sp, 64
    sret                            # back into the window; SIE = SPIE (0)

unexpected:
    la      a0, text_unexpected
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_start:      .asciz "ticks: a timer interrupt every "
text_ticks:      .asciz " time ticks, 10 of them\n"
text_tick:       .asciz "tick "
text_delta:      .asciz ": time +"
text_woke:       .asciz "ticks: done, WFI returned "
text_times:      .asciz " times\n"
text_unexpected: .asciz "ticks: unexpected trap: "

    .data
    .balign 4
ticks:           .word 0            # timer interrupts handled
last_time:       .word 0            # time at the last tick (low half)
delta:           .word 0

    .bss
    .balign 16
stack:           .zero 4096
stack_top:
