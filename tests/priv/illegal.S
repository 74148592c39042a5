# illegal.S: every way to raise illegal-instruction, and its neighbours that must not.
#
# Privileged spec 1.12: illegal-instruction is cause 2 (table 3.6), with mtval
# holding the instruction bits (3.1.16; optional in the spec, done by emu, Spike
# and QEMU). Sources of the exception:
#   - encodings that are not instructions of RV32IMA_Zicsr_Zifencei (unpriv 1.5:
#     the all-zero and all-ones words are defined illegal; RV32 shift amounts
#     with bit 5 set, unpriv 2.4.1; RV64-only opcodes; 16-bit encodings
#     without C);
#   - CSR accesses (2.1, 2.3): unimplemented numbers, writes to read-only CSRs
#     (csr[11:10] = 3) unless the instruction does not write (CSRRS/CSRRC with
#     rs1 = x0, CSRRSI/CSRRCI with uimm = 0; 9.1 of the unprivileged spec), CSRs
#     above the current privilege (csr[9:8]), counters gated by mcounteren and
#     scounteren (3.1.11);
#   - privileged instructions (3.1.6.5): MRET below M, SRET below S or in S with
#     TSR, SFENCE.VMA and satp in S with TVM, WFI in U (always, on emu) and in S
#     with TW.
# Every case also checks that rd kept its old value: a trapping instruction has
# no architectural effect.

    .include "check.S"


# ILLEGAL prv, instruction: the instruction, run in prv, raises illegal
# instruction with mtval = its own bits, and a1 (the rd of the CSR cases) is
# unchanged. Expected bits come from memory: no hand-encoding to get wrong.
.macro ILLEGAL prv, insn:vararg
    li      a1, SENTINEL
    EXPECT_TRAP .Lresume\@
    GOTO_MODE \prv, .Linsn\@
.Linsn\@:
    \insn
    FAIL
.Lresume\@:
    CHECK_MTRAP CAUSE_ILLEGAL_INSTRUCTION, .Linsn\@
    lw      t0, .Linsn\@
    lw      t1, mtrap_tval
    CHECK_REG t1, t0
    CHECK_EQ a1, SENTINEL
    CHECK_MPP \prv
.endm

# LEGAL prv, instruction: runs in prv without a trap (and comes back to M).
.macro LEGAL prv, insn:vararg
    EXPECT_TRAP .Lresume\@
    GOTO_MODE \prv, .Linsn\@
.Linsn\@:
    \insn
.Lecall\@:
    ecall
    FAIL
.Lresume\@:
    lw      t0, mtrap_epc
    CHECK_ADDR t0, .Lecall\@
.endm

main:
    # -- Not instructions.
    CASE 1
    ILLEGAL PRV_M, .word 0x00000000     # all zero: illegal by definition
    CASE 2
    ILLEGAL PRV_M, .word 0xffffffff     # all ones: illegal by definition
    CASE 3
    ILLEGAL PRV_M, .word 0x0000000b     # custom-0 opcode
    CASE 4
    ILLEGAL PRV_U, .word 0x0000000b
    CASE 5
    ILLEGAL PRV_M, .word 0x02051513     # slli a0, a0, 32: shamt[5] = 1
    CASE 6
    ILLEGAL PRV_M, .word 0x42055513     # srai a0, a0, 32
    CASE 7
    ILLEGAL PRV_M, .word 0x00053503     # ld a0, 0(a0): RV64 only
    CASE 8
    ILLEGAL PRV_M, .word 0x0005051b     # addiw a0, a0, 0: RV64 only
    CASE 9
    ILLEGAL PRV_M, .word 0x40b51533     # funct7 0100000 with SLL: reserved
    CASE 10
    # A 16-bit (C extension) encoding (c.nop): reserved without C. The upper
    # half is zero so that mtval is the same whether a core reports 16 or 32
    # bits of it.
    ILLEGAL PRV_M, .word 0x00000001

    # -- CSRs that do not exist.
    CASE 11
    ILLEGAL PRV_M, csrr a1, 0x7c0       # custom M-mode read/write range
    CASE 12
    ILLEGAL PRV_M, csrw 0x5c0, a0       # custom S-mode range
    CASE 13
    ILLEGAL PRV_M, csrrs a1, 0x000, x0  # ustatus: no N extension
.ifndef QEMU
    # QEMU 7.2 implements the hardware performance monitor CSRs; emu does not.
    CASE 14
    ILLEGAL PRV_M, csrr a1, 0xb03       # mhpmcounter3
    CASE 15
    ILLEGAL PRV_M, csrr a1, 0x320       # mcountinhibit
    CASE 16
    ILLEGAL PRV_M, csrr a1, 0xc03       # hpmcounter3
.endif

    # -- Writes to read-only CSRs (csr[11:10] = 3).
    CASE 20
    ILLEGAL PRV_M, csrw mhartid, a0
    CASE 21
    ILLEGAL PRV_M, csrrw a1, mvendorid, x0  # CSRRW writes even from x0
    CASE 22
    ILLEGAL PRV_M, csrrwi a1, marchid, 0
.ifndef QEMU
    # rs1 is not x0, so this is a write even of zero (unpriv 9.1: "will still
    # attempt to write the unmodified value back"). QEMU 7.2 decides by the
    # value (zero: no write) and lets it pass.
    CASE 23
    li      a0, 0
    ILLEGAL PRV_M, csrrs a1, mimpid, a0
.endif
    CASE 24
    ILLEGAL PRV_M, csrrci a1, mhartid, 1
    CASE 25
    ILLEGAL PRV_M, csrrsi a1, cycle, 1
    CASE 26
    ILLEGAL PRV_M, csrw time, a0
    CASE 27
    li      a0, 1
    ILLEGAL PRV_M, csrrc a1, instreth, a0

    # ... and the forms that only read are legal on them.
    CASE 30
    li      a1, SENTINEL
    csrrs   a1, mhartid, x0
    CHECK_EQ a1, 0
    li      a1, SENTINEL
    csrrc   a1, mvendorid, x0
    CHECK_EQ a1, 0
    li      a1, SENTINEL
    csrrsi  a1, mhartid, 0
    CHECK_EQ a1, 0
    li      a1, SENTINEL
    csrrci  a1, mhartid, 0
    CHECK_EQ a1, 0
    csrrs   a1, cycle, x0
    csrrci  a1, instret, 0

    # -- CSRs above the current privilege.
    CASE 31
    ILLEGAL PRV_S, csrr a1, mstatus
    CASE 32
    ILLEGAL PRV_S, csrw mscratch, a0
    CASE 33
    ILLEGAL PRV_S, csrr a1, mhartid
    CASE 34
    ILLEGAL PRV_S, csrr a1, mcycle
    CASE 35
    ILLEGAL PRV_U, csrr a1, sstatus
    CASE 36
    ILLEGAL PRV_U, csrw sscratch, a0
    CASE 37
    ILLEGAL PRV_U, csrr a1, satp
    CASE 38
    ILLEGAL PRV_U, csrr a1, mepc
    CASE 39
    LEGAL PRV_S, csrr a1, sstatus

    # -- Counters gated by mcounteren (for S and U) and scounteren (for U).
    CASE 40
    csrw    mcounteren, zero
    csrw    scounteren, zero
    ILLEGAL PRV_S, csrr a1, cycle
    CASE 41
    ILLEGAL PRV_U, csrr a1, time
    CASE 42
    li      t0, 0x7                     # CY, TM, IR for S
    csrw    mcounteren, t0
    LEGAL PRV_S, csrr a1, instret
    CASE 43
    ILLEGAL PRV_U, csrr a1, instret     # scounteren still 0
    CASE 44
    csrw    scounteren, t0
    LEGAL PRV_U, csrr a1, timeh
    CASE 45
    li      t0, 0x5                     # TM off in mcounteren: U loses it too
    csrw    mcounteren, t0
    ILLEGAL PRV_U, csrr a1, time
    CASE 46
    ILLEGAL PRV_S, csrr a1, timeh
    csrw    mcounteren, zero
    csrw    scounteren, zero

    # -- xRET.
    CASE 50
    ILLEGAL PRV_S, mret
    CASE 51
    ILLEGAL PRV_U, mret
    CASE 52
    ILLEGAL PRV_U, sret
    CASE 53
    li      t0, MSTATUS_TSR
    csrs    mstatus, t0
    ILLEGAL PRV_S, sret
    li      t0, MSTATUS_TSR
    csrc    mstatus, t0

    # -- SFENCE.VMA and satp.
    CASE 54
    ILLEGAL PRV_U, sfence.vma
    CASE 55
    li      t0, MSTATUS_TVM
    csrs    mstatus, t0
    ILLEGAL PRV_S, sfence.vma
    CASE 56
    ILLEGAL PRV_S, csrr a1, satp
    CASE 57
    ILLEGAL PRV_S, csrw satp, zero
    CASE 58
    LEGAL PRV_M, sfence.vma             # TVM binds S only
    li      t0, MSTATUS_TVM
    csrc    mstatus, t0
    CASE 59
    LEGAL PRV_S, sfence.vma

    # -- WFI. (Legal WFIs are in interrupts.S: they need a wake-up.)
    CASE 60
    ILLEGAL PRV_U, wfi
    CASE 61
    li      t0, MSTATUS_TW
    csrs    mstatus, t0
    ILLEGAL PRV_U, wfi
    CASE 62
    ILLEGAL PRV_S, wfi
    li      t0, MSTATUS_TW
    csrc    mstatus, t0

    PASS
