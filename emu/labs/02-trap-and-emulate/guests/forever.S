# forever.S: a WFI that nothing can end.
#
# No interrupt is enabled in sie (none is at reset) and no timer is set, so
# this WFI would wait for ever. The bare board sees that and stops the
# machine (`emu run` exits with status 125, "a WFI nothing can wake":
# docs/board.md, "Crash diagnostics"); a hypervisor must stop this guest too
# (Outcome.STOP), and neither hang nor carry on past the WFI as if it had
# woken.

    .include "sbi.inc"

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      a0, text_start
    call    sbi_puts
    li      a0, -1                  # no timer
    li      a1, -1
    call    set_timer
    wfi
    la      a0, text_woke           # never printed
    call    sbi_puts
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_start:     .asciz "forever: WFI with nothing to wait for\n"
text_woke:      .asciz "forever: woke up?\n"

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
