# hello-sbi.S: a minimal S-mode kernel that talks to its firmware through the SBI.
#
# It starts as under OpenSBI: S-mode, at its ELF entry, a0 = hart id, a1 = the
# device tree (which it ignores), satp = 0. It never touches a device: every effect
# goes through an ECALL to the SBI firmware (`emu run --boot s`, or the
# hypervisor under `emu hv`). RISC-V SBI specification v2.0:
#   - chapter 3: a7 = extension ID, a6 = function ID, a0..a5 arguments;
#     returns a0 = error code, a1 = value; all other registers preserved;
#   - chapter 12, Debug Console (DBCN) console_write: a0 = byte count,
#     a1/a2 = low/high half of the string's physical address; it may write
#     fewer bytes than asked (a1 says how many), so we loop;
#   - chapter 5, legacy console putchar (EID 0x01): a0 = the character;
#   - chapter 10, System Reset (SRST) system_reset: a0 = type, a1 = reason.

    .equ SBI_EXT_LEGACY_PUTCHAR, 0x01
    .equ SBI_EXT_DBCN,           0x4442434E     # "DBCN"
    .equ SBI_DBCN_CONSOLE_WRITE, 0
    .equ SBI_EXT_SRST,           0x53525354     # "SRST"
    .equ SBI_SRST_SYSTEM_RESET,  0
    .equ SRST_TYPE_SHUTDOWN,     0
    .equ SRST_REASON_NONE,       0
    .equ SRST_REASON_FAILURE,    1
    .equ SBI_SUCCESS,            0

    .section .text.init
    .globl _start
_start:
    # Print the first line with DBCN console_write, as many calls as it takes.
    la      s0, dbcn_line               # satp = 0: physical = virtual
    la      s1, dbcn_line_end
    sub     s1, s1, s0                  # its length
1:  mv      a0, s1                      # bytes left
    mv      a1, s0                      # address, low half
    li      a2, 0                       # address, high half
    li      a6, SBI_DBCN_CONSOLE_WRITE
    li      a7, SBI_EXT_DBCN
    ecall
    bnez    a0, failed                  # an SBI error code
    add     s0, s0, a1                  # a1 = bytes written
    sub     s1, s1, a1
    bnez    s1, 1b

    # The second line one character at a time with the legacy putchar.
    la      s0, legacy_line
2:  lbu     a0, 0(s0)
    beqz    a0, 3f
    li      a7, SBI_EXT_LEGACY_PUTCHAR
    ecall
    addi    s0, s0, 1
    j       2b

3:  li      a1, SRST_REASON_NONE
shutdown:
    li      a0, SRST_TYPE_SHUTDOWN
    li      a6, SBI_SRST_SYSTEM_RESET
    li      a7, SBI_EXT_SRST
    ecall
4:  wfi                                 # SRST does not return on success
    j       4b

failed:
    li      a1, SRST_REASON_FAILURE
    j       shutdown

    .section .rodata
dbcn_line:
    .ascii "Hello from an S-mode kernel, via SBI DBCN console_write!\n"
dbcn_line_end:
legacy_line:
    .asciz "And this line came one character at a time through the legacy putchar.\n"
