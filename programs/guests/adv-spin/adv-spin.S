# adv-spin.S: an adversarial guest that never gives the CPU back.
#
# What it shows: a kernel that, after one line of output, turns off every
# interrupt it could get (sstatus.SIE, sie), cancels its timer and spins in a
# tight loop for ever: no ECALL, no WFI, no trap of any kind. Nothing the
# guest does will ever return control voluntarily.
#
# On bare hardware that is the end of the machine (here `emu run --max-insns`
# stops it: status 124). Under a hypervisor it must not be: the hypervisor
# owns the real timer (M-mode, or its own trap setup), which the guest cannot
# mask, so it takes the CPU back when the guest's quantum ends and the other
# guests keep running. That is Popek and Goldberg's resource control.

    .include "../lib/sbi.inc"

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      a0, text_spin
    call    sbi_puts

    csrci   sstatus, SSTATUS_SIE    # no S-mode interrupts...
    csrw    sie, zero               # ...of any kind
    li      a0, -1                  # and no timer deadline ("never")
    li      a1, -1
    call    set_timer

    li      t0, 0
spin:
    addi    t0, t0, 1               # count, so the loop is not just a jump
    j       spin

    .section .rodata
text_spin:  .asciz "adv-spin: spinning for ever with interrupts off, never yielding\n"

    .bss
    .balign 16
stack:      .zero 4096
stack_top:
