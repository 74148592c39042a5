# csr.S: the M- and S-mode CSRs: ID registers, WARL masks, views, counters.
#
# Privileged spec 1.12, chapter 3 (machine-level CSRs) and chapter 4 (supervisor):
#   misa (3.1.1) = RV32 with A, I, M, S, U; mvendorid/marchid/mimpid/mhartid
#   (3.1.2-3.1.5) all 0 on emu; mstatus (3.1.6) with its writable fields only,
#   mstatush (3.1.6, RV32) reading 0; sstatus (4.1.1) a restricted view of
#   mstatus; medeleg/mideleg (3.1.8) with medeleg[11] read-only zero and only
#   the S interrupts delegable; sie/sip (4.1.3) views of mie/mip masked by mideleg;
#   mtvec (3.1.7) with mode 2/3 becoming 0/1 (emu's WARL choice: val & ~2, as
#   Spike); mepc/sepc (3.1.14, 4.1.7) with bits 1:0 zero (IALIGN = 32); satp (4.1.11)
#   with ASIDLEN = 0; the counters (3.1.10, 3.1.11) with emu's exact rules: a
#   trapped instruction is counted by mcycle and not by minstret, and a CSR write
#   to a counter replaces that instruction's own increment; the 64-bit pairs carry.
#   The Zicsr instructions (unprivileged spec chapter 9) return the old value.
#
# Exact counter and mtime values, and masks where QEMU 7.2 implements more (H-,
# V- and F-related bits, ASIDs, PMU counters, triggers), are emu-only.

    .include "check.S"

    .equ MISA_RV32IMASU, 0x40141101     # MXL=1 (bit 30); A, I, M, S, U
    # The mstatus fields emu implements: SIE MIE SPIE MPIE SPP MPP MPRV SUM MXR
    # TVM TW TSR.
    .equ MSTATUS_WRITABLE, (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
    .equ SSTATUS_VIEW, (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR)
    .equ MIE_ALL, (MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP)
    .equ MIP_M_WRITABLE, (MIP_SSIP | MIP_STIP | MIP_SEIP)
    .equ S_INTERRUPTS, (MIP_SSIP | MIP_STIP | MIP_SEIP)
    .equ SATP_WRITABLE, 0x803FFFFF      # MODE and PPN; ASID reads 0
    # Exceptions that can come from S or U and so must be delegable.
    .equ MEDELEG_EXPECTED, ((1 << CAUSE_MISALIGNED_FETCH) | (1 << CAUSE_FETCH_ACCESS) | (1 << CAUSE_ILLEGAL_INSTRUCTION) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_MISALIGNED_LOAD) | (1 << CAUSE_LOAD_ACCESS) | (1 << CAUSE_MISALIGNED_STORE) | (1 << CAUSE_STORE_ACCESS) | (1 << CAUSE_USER_ECALL) | (1 << CAUSE_SUPERVISOR_ECALL) | (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT))

main:
    # -- Identification.
    CASE 1
    CHECK_CSR misa, MISA_RV32IMASU
    CHECK_CSR mvendorid, 0
    CHECK_CSR mhartid, 0
.ifndef QEMU
    CHECK_CSR marchid, 0                # QEMU reports its version in both
    CHECK_CSR mimpid, 0
.endif

    # -- Zicsr: every form returns the old value and does its write.
    CASE 2
    li      t0, 0x12345678
    csrw    mscratch, t0
    li      t1, 0x0000ffff
    csrrs   a0, mscratch, t1            # old value out, bits set
    CHECK_EQ a0, 0x12345678
    csrrc   a0, mscratch, t1
    CHECK_EQ a0, 0x1234ffff
    csrrwi  a0, mscratch, 0x15
    CHECK_EQ a0, 0x12340000
    csrrsi  a0, mscratch, 0x0a
    CHECK_EQ a0, 0x15
    csrrci  a0, mscratch, 0x1f
    CHECK_EQ a0, 0x1f
    csrrw   a0, mscratch, x0
    CHECK_EQ a0, 0
    li      t0, 0xa5a5a5a5
    csrrw   zero, sscratch, t0          # rd = x0: a write without the read
    CHECK_CSR sscratch, 0xa5a5a5a5

    # -- mstatus: only the implemented fields are writable.
    CASE 3
    li      t0, -1
    csrw    mstatus, t0
    csrr    a0, mstatus
    csrr    a1, sstatus
    csrw    mstatus, zero
.ifndef QEMU
    CHECK_EQ a0, MSTATUS_WRITABLE       # (QEMU also has VS and SD)
    CHECK_EQ a1, SSTATUS_VIEW
.else
    CHECK_FIELD a0, MSTATUS_WRITABLE, MSTATUS_WRITABLE
    CHECK_FIELD a1, SSTATUS_VIEW | MSTATUS_MPP | MSTATUS_MIE | MSTATUS_MPIE, SSTATUS_VIEW
.endif
    CHECK_CSR mstatus, 0
    CHECK_CSR mstatush, 0

    # sstatus writes reach exactly the S fields of mstatus.
    CASE 4
    li      t0, -1
    csrw    sstatus, t0
    csrr    a0, mstatus
    csrw    mstatus, zero
    CHECK_FIELD a0, MSTATUS_WRITABLE, SSTATUS_VIEW
    CASE 5
    li      t0, MSTATUS_WRITABLE
    csrw    mstatus, t0
    csrw    sstatus, zero
    csrr    a0, mstatus
    csrw    mstatus, zero
    CHECK_FIELD a0, MSTATUS_WRITABLE, MSTATUS_WRITABLE & ~SSTATUS_VIEW

    # -- medeleg: the exceptions from below M are delegable; ECALL from M is not.
    CASE 6
    li      t0, -1
    csrw    medeleg, t0
    csrr    a0, medeleg
    csrw    medeleg, zero
    CHECK_FIELD a0, MEDELEG_EXPECTED, MEDELEG_EXPECTED
.ifndef QEMU
    # QEMU 7.2 lets medeleg[11] be set; 1.12 (3.1.8) makes it read-only zero.
    CHECK_FIELD a0, 1 << CAUSE_MACHINE_ECALL, 0
.endif

    # -- mideleg: SSIP, STIP and SEIP only.
    CASE 7
    li      t0, -1
    csrw    mideleg, t0
    csrr    a0, mideleg
    csrw    mideleg, zero
.ifndef QEMU
    CHECK_EQ a0, S_INTERRUPTS           # (QEMU 7.2 also has the VS and LCOF bits)
.else
    CHECK_FIELD a0, MIE_ALL, S_INTERRUPTS
.endif

    # -- mie and mip.
    CASE 8
    li      t0, -1
    csrw    mie, t0
    csrr    a0, mie
    csrw    mip, t0                     # only SSIP, STIP, SEIP are M-writable
    csrr    a1, mip
    csrw    mip, zero
.ifndef QEMU
    CHECK_EQ a0, MIE_ALL
    CHECK_EQ a1, MIP_M_WRITABLE
.else
    CHECK_FIELD a0, MIE_ALL, MIE_ALL
    CHECK_FIELD a1, MIE_ALL, MIP_M_WRITABLE
.endif

    # -- sie and sip are mie and mip seen through mideleg. (mie is all ones,
    # mstatus.MIE is 0: nothing is taken in M-mode.)
    CASE 9
    CHECK_CSR sie, 0                    # nothing delegated: nothing visible
    li      t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw    mip, t0
    CHECK_CSR sip, 0
    CASE 10
    li      t0, S_INTERRUPTS
    csrw    mideleg, t0
    csrr    a0, sie
    csrr    a1, sip
    CHECK_FIELD a0, MIE_ALL, S_INTERRUPTS
    CHECK_FIELD a1, MIE_ALL, MIP_SSIP | MIP_STIP | MIP_SEIP
    CASE 11
    li      t0, MIP_STIP                # only the timer delegated
    csrw    mideleg, t0
    csrr    a0, sie
    CHECK_FIELD a0, MIE_ALL, MIP_STIP
    csrw    sie, zero                   # clears STIE only
    csrr    a0, mie
    CHECK_FIELD a0, MIE_ALL, MIE_ALL & ~MIP_STIP
    li      t0, -1
    csrw    sie, t0                     # sets STIE only
    csrr    a0, mie
    CHECK_FIELD a0, MIE_ALL, MIE_ALL
    CASE 12
    li      t0, S_INTERRUPTS
    csrw    mideleg, t0
    csrw    mip, zero
    li      t0, -1
    csrw    sip, t0                     # of sip, only SSIP is writable
    csrr    a0, mip
    CHECK_FIELD a0, MIE_ALL, MIP_SSIP
    csrw    sip, zero
    csrr    a0, mip
    CHECK_FIELD a0, MIE_ALL, 0
    csrw    mideleg, zero
    csrw    mie, zero

    # -- mepc and sepc: bits 1:0 are zero (no C extension). QEMU 7.2 keeps
    # them (a deviation from 3.1.14: "the two low bits are always zero").
.ifndef QEMU
    CASE 13
    li      t0, -1
    csrw    mepc, t0
    CHECK_CSR mepc, 0xfffffffc
    csrw    sepc, t0
    CHECK_CSR sepc, 0xfffffffc
.endif

    # -- mtvec: direct and vectored are kept; the reserved modes are not.
    CASE 14
    la      s0, mtrap_entry
    ori     t0, s0, MTVEC_VECTORED
    csrw    mtvec, t0
    csrr    a0, mtvec
    csrw    mtvec, s0                   # the harness's handler back at once
    sub     a0, a0, s0
    CHECK_EQ a0, MTVEC_VECTORED
.ifndef QEMU
    # emu's WARL rule, as Spike's: mode bit 1 is dropped (2 -> 0, 3 -> 1).
    # QEMU 7.2 ignores such a write altogether.
    CASE 15
    ori     t0, s0, 2
    csrw    mtvec, t0
    csrr    a0, mtvec
    ori     t0, s0, 3
    csrw    mtvec, t0
    csrr    a1, mtvec
    csrw    mtvec, s0
    sub     a0, a0, s0
    CHECK_EQ a0, 0
    sub     a1, a1, s0
    CHECK_EQ a1, MTVEC_VECTORED
.endif

    # -- satp: MODE and PPN are kept; ASIDLEN is 0. M-mode is never translated,
    # so writing it here is harmless.
    CASE 16
    li      t0, -1
    csrw    satp, t0
    csrr    a0, satp
    csrw    satp, zero
.ifndef QEMU
    CHECK_EQ a0, SATP_WRITABLE          # (QEMU 7.2 has 9 ASID bits)
.else
    CHECK_FIELD a0, SATP_WRITABLE, SATP_WRITABLE
.endif

    # -- Trigger and PMP registers: present. tdata1 reads 0 on emu (no
    # triggers); QEMU 7.2 implements triggers and PMP as WARL, so emu-only.
.ifndef QEMU
    CASE 17
    csrw    tselect, zero
    CHECK_CSR tdata1, 0
    li      t0, 0x12345678
    csrw    pmpaddr15, t0
    CHECK_CSR pmpaddr15, 0x12345678
    csrw    pmpaddr15, zero
    li      t0, 0x1f1f1f1f
    csrw    pmpcfg3, t0
    CHECK_CSR pmpcfg3, 0x1f1f1f1f
    csrw    pmpcfg3, zero
.endif

    # -- Counters. Not exact on QEMU (its mcycle is a clock, and it counts
    # instructions in translation blocks), so all of this is emu-only.
.ifndef QEMU
    # A write sets the value the next instruction reads: the write's own
    # increment is suppressed. Every later instruction adds exactly 1.
    CASE 20
    li      t0, 1000
    csrw    minstret, t0
    csrr    a0, minstret
    CHECK_EQ a0, 1000
    csrw    minstret, t0
    nop
    nop
    nop
    csrr    a0, minstret
    CHECK_EQ a0, 1003
    csrw    minstret, t0
    csrr    a0, instret                 # the U-mode alias reads the same counter
    CHECK_EQ a0, 1000

    CASE 21
    li      t0, 5000
    csrw    mcycle, t0
    addi    zero, zero, 0
    csrr    a0, mcycle
    CHECK_EQ a0, 5001
    csrw    mcycle, t0
    csrr    a0, cycle
    CHECK_EQ a0, 5000

    # minstret vs mcycle: equal pace without traps (the difference 2 is the
    # minstret write, counted by mcycle only, and the minstret read, which
    # retires between the two reads) ...
    CASE 22
    csrw    mcycle, zero
    csrw    minstret, zero
    nop
    csrr    a0, minstret
    csrr    a1, mcycle
    sub     a1, a1, a0
    CHECK_EQ a1, 2
    # ... and a trapping instruction is one more cycle but no instruction. The
    # handler's own instructions all retire.
    CASE 23
    EXPECT_TRAP 1f
    csrw    mcycle, zero
    csrw    minstret, zero
    .word   0                           # illegal: executed, not retired
1:  csrr    a0, minstret
    csrr    a1, mcycle
    sub     a1, a1, a0
    CHECK_EQ a1, 3
    # ECALL and EBREAK do not retire either (unpriv 2.8).
    CASE 24
    EXPECT_TRAP 1f
    csrw    mcycle, zero
    csrw    minstret, zero
    ecall
1:  EXPECT_TRAP 2f
    ebreak
2:  csrr    a0, minstret
    csrr    a1, mcycle
    sub     a1, a1, a0
    CHECK_EQ a1, 4

    # 64-bit: minstret's carry goes into minstreth.
    CASE 25
    csrw    minstret, zero              # low small, so the next write cannot carry
    li      t0, 5
    csrw    minstreth, t0
    li      t0, -1
    csrw    minstret, t0                # 5:ffffffff, the write not counted
    nop                                 # retires: 6:00000000
    csrr    a0, minstreth               # reads 6, retires: 6:00000001
    csrr    a1, minstret                # reads 1
    CHECK_EQ a0, 6
    CHECK_EQ a1, 1
    csrr    a0, instreth
    CHECK_EQ a0, 6
    CASE 26
    csrw    mcycle, zero
    li      t0, 7
    csrw    mcycleh, t0
    li      t0, -1
    csrw    mcycle, t0
    nop
    csrr    a0, mcycleh
    csrr    a1, mcycle
    CHECK_EQ a0, 8
    CHECK_EQ a1, 1
    csrr    a0, cycleh
    CHECK_EQ a0, 8

    # time is mtime, and mtime advances by 1 per instruction.
    CASE 27
    li      t0, MTIME_ADDR
    lw      a0, 0(t0)
    csrr    a1, time
    sub     a1, a1, a0
    CHECK_EQ a1, 1
    lw      a0, 0(t0)
    nop
    nop
    csrr    a1, time
    sub     a1, a1, a0
    CHECK_EQ a1, 3
.endif
    # On any machine: time moves forward (QEMU's at 10 MHz, so poll a while),
    # and timeh is mtime's high half.
    .equ TIME_POLLS, 1000000
    CASE 28
    li      t0, MTIME_ADDR
    li      t1, TIME_POLLS
    csrr    a0, time
1:  csrr    a1, time
    bne     a1, a0, 2f
    addi    t1, t1, -1
    bnez    t1, 1b
    FAIL
2:  csrr    a0, timeh
    lw      a1, 4(t0)
    CHECK_REG a0, a1

    PASS
