# sleep.S: WFI, when it sleeps and when it does not.
#
# WFI waits until an interrupt is pending and enabled in sie, whatever
# sstatus.SIE says (privileged spec 3.3.3); the interrupt is then taken only
# if SIE allows it. On emu's board time is virtual: one tick per instruction,
# and a WFI that sleeps makes time jump to the moment it wakes. Each line
# printed is how far `time` moved across one WFI:
#
#   - the timer set 5000 ticks ahead, STIE on, SIE off: WFI sleeps until the
#     deadline, returns, and the interrupt stays pending (sip.STIP);
#   - an interrupt already pending and enabled (SSIP with SSIE): WFI returns
#     at once, one tick;
#   - a deadline already in the past: the timer is pending before WFI runs;
#   - the timer set, but STIE off: the firmware's timer still fires at the
#     deadline (the SBI keeps mtimecmp armed), which ends the WFI, as on the
#     bare board; STIP is then pending, not enabled;
#   - at last, with SIE on: the WFI sleeps, and the interrupt is taken after
#     it, in the handler, which counts it.

    .include "sbi.inc"

    .equ SIE_SSIE,   (1 << 1)
    .equ SIP_SSIP,   (1 << 1)

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      a0, text_start
    call    sbi_puts

    li      a0, 5000                # timer ahead, STIE on, SIE off
    call    timer_in
    li      t0, SIE_STIE
    csrs    sie, t0
    call    sleep
    csrr    a0, sip
    call    print_hex_line          # STIP pending: 0x20
    call    timer_off

    csrsi   sie, SIE_SSIE           # an interrupt already pending
    csrsi   sip, SIP_SSIP
    call    sleep
    csrci   sip, SIP_SSIP
    csrci   sie, SIE_SSIE

    li      a0, 0                   # a deadline in the past: the timer is due now
    li      a1, 0
    call    set_timer
    call    sleep
    call    timer_off

    li      t0, SIE_STIE            # STIE off, the timer armed
    csrc    sie, t0
    li      a0, 2000
    call    timer_in
    call    sleep
    csrr    a0, sip
    call    print_hex_line          # STIP pending, not enabled
    call    timer_off

    li      a0, 3000                # SIE on: taken after the WFI
    call    timer_in
    li      t0, SIE_STIE
    csrs    sie, t0
    csrsi   sstatus, SSTATUS_SIE
    call    sleep
    csrci   sstatus, SSTATUS_SIE
    lw      a0, interrupts
    call    print_hex_line          # 1: the handler ran

    la      a0, text_done
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown

# sleep: one WFI, and how far time moved across it, printed.
sleep:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    rdtime  s0
    wfi
    rdtime  a0
    sub     a0, a0, s0
    call    print_udec
    li      a0, '\n'
    call    sbi_putc
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# timer_in: the timer a0 ticks from now (the low half only: time is small here).
timer_in:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    mv      t1, a0
    rdtime  a0
    add     a0, a0, t1
    li      a1, 0
    call    set_timer
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# timer_off: no more timer; this also clears a pending STIP.
timer_off:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      a0, -1
    li      a1, -1
    call    set_timer
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

print_hex_line:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# The handler: count a timer interrupt and switch the timer off.
    .balign 4
handler:
    addi    sp, sp, -64
    sw      ra, 60(sp)
    sw      t0, 56(sp)
    sw      t1, 52(sp)
    sw      t2, 48(sp)
    sw      a0, 44(sp)
    sw      a1, 40(sp)
    sw      a6, 36(sp)
    sw      a7, 32(sp)
    csrr    t0, scause
    li      t1, SCAUSE_S_TIMER
    bne     t0, t1, unexpected
    lw      t0, interrupts
    addi    t0, t0, 1
    sw      t0, interrupts, t1
    call    timer_off
    lw      ra, 60(sp)
    lw      t0, 56(sp)
    lw      t1, 52(sp)
    lw      t2, 48(sp)
    lw      a0, 44(sp)
    lw      a1, 40(sp)
    lw      a6, 36(sp)
    lw      a7, 32(sp)
    addi    sp, sp, 64
    sret
unexpected:
    la      a0, text_trap
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_start:     .asciz "sleep: time across each WFI\n"
text_done:      .asciz "sleep: done\n"
text_trap:      .asciz "sleep: unexpected trap: "

    .data
    .balign 4
interrupts:     .word 0

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
