# hello.S: the smallest useful S-mode guest kernel.
#
# What it shows:
#   - how a kernel starts under SBI firmware (OpenSBI, `emu run --boot s`, or
#     the hypervisor `emu hv`): in S-mode at its ELF entry, a0 = hart id,
#     a1 = the device tree (ignored here), satp = 0 (no translation);
#   - the SBI calling convention: a7 = extension ID, a6 = function ID,
#     a0..a5 arguments, ECALL; the answer is a0 = error, a1 = value;
#   - the Base extension: which SBI version the firmware speaks and who
#     implements it (get_spec_version: major in bits 30:24, minor in 23:0;
#     get_impl_id: a number, here "emu" in ASCII);
#   - two ways to print: DBCN console_write (a whole string at a physical
#     address) and the legacy console putchar (one byte per call, from SBI
#     v0.1; slow, but every firmware has it);
#   - shutting down with SRST system_reset.
#
# The same ELF gives the same output on bare `emu run --boot s` and as a
# guest of `emu hv`: it only talks to the SBI, never to a device.

    .include "../lib/sbi.inc"

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top           # the firmware gives us no stack
    mv      s0, a0                  # the hart id, printed below

    la      a0, text_hello          # DBCN console_write (via sbi_puts)
    call    sbi_puts
    la      a0, text_hart
    call    sbi_puts
    mv      a0, s0
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    # Base get_spec_version: "SBI specification vMAJOR.MINOR".
    SBI     SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
    bnez    a0, failed
    mv      s1, a1
    la      a0, text_spec
    call    sbi_puts
    srli    a0, s1, 24              # major: bits 30:24 (bit 31 is 0)
    andi    a0, a0, 0x7f
    call    print_udec
    li      a0, '.'
    call    sbi_putc
    li      t0, 0xffffff            # minor: bits 23:0
    and     a0, s1, t0
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    # Base get_impl_id and get_impl_version.
    SBI     SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID
    bnez    a0, failed
    mv      s1, a1
    la      a0, text_impl
    call    sbi_puts
    mv      a0, s1
    call    print_hex
    la      a0, text_version
    call    sbi_puts
    SBI     SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION
    bnez    a0, failed
    mv      a0, a1
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    # The last line one byte per call, through the legacy putchar (EID 0x01,
    # which returns its result in a0 only and ignores a6).
    la      s1, text_legacy
1:  lbu     a0, 0(s1)
    beqz    a0, 2f
    li      a7, SBI_EXT_LEGACY_PUTCHAR
    ecall
    addi    s1, s1, 1
    j       1b

2:  li      a0, SRST_REASON_NONE
    call    shutdown

failed:
    la      a0, text_failed
    call    sbi_puts
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_hello:   .asciz "hello: an S-mode kernel, printing through SBI DBCN console_write\n"
text_hart:    .asciz "hello: booted on hart "
text_spec:    .asciz "hello: SBI specification v"
text_impl:    .asciz "hello: SBI implementation id "
text_version: .asciz ", version "
text_legacy:  .asciz "hello: and this line came one byte at a time through the legacy putchar\n"
text_failed:  .asciz "hello: an SBI call failed\n"

    .bss
    .balign 16
stack:        .zero 4096
stack_top:
