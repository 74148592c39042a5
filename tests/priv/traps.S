# traps.S: synchronous trap entry and return, and delegation to S-mode.
#
# Privileged spec 1.12: ECALL and EBREAK (3.3.1), trap entry into M-mode (3.1.6.1
# mstatus.MPP/MPIE/MIE, 3.1.14 mepc, 3.1.15 mcause, 3.1.16 mtval), delegation
# through medeleg (3.1.8) with the S-mode side in scause/sepc/stval/sstatus.SPP
# and SPIE (4.1.1, 4.1.7-4.1.9), and MRET/SRET (3.3.2), including 1.12's rule
# that an xRET to a mode below M clears MPRV. ECALL's mtval is 0; EBREAK's is the
# address of the EBREAK (3.1.16: "the faulting virtual address").
#
# The mode the hart is in after a return is observed by ECALL, whose cause names
# the mode it came from (8 U, 9 S, 11 M).

    .include "check.S"

main:
    # -- ECALL from each mode, to M: cause, mepc at the ECALL, mtval 0, MPP.
    CASE 1
    li      t0, MSTATUS_MIE             # MIE=1 is stacked into MPIE (mie is 0:
    csrs    mstatus, t0                 # nothing can interrupt)
    EXPECT_TRAP 1f
m_ecall:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_MACHINE_ECALL, m_ecall
    CHECK_MTVAL 0
    CHECK_MPP PRV_M
    lw      t0, mtrap_status
    CHECK_FIELD t0, MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE

    CASE 2
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, s_ecall
s_ecall:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_SUPERVISOR_ECALL, s_ecall
    CHECK_MTVAL 0
    CHECK_MPP PRV_S

    CASE 3
    EXPECT_TRAP 1f
    GOTO_MODE PRV_U, u_ecall
u_ecall:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_USER_ECALL, u_ecall
    CHECK_MTVAL 0
    CHECK_MPP PRV_U
    CHECK_MTRAP_COUNT 3

    # -- EBREAK: cause 3, mtval = the EBREAK's own address.
    CASE 4
    EXPECT_TRAP 1f
m_ebreak:
    ebreak
    FAIL
1:  CHECK_MTRAP CAUSE_BREAKPOINT, m_ebreak
.ifndef QEMU
    # QEMU 7.2 leaves mtval 0 for EBREAK; the spec (3.1.16) and Spike write pc.
    CHECK_MTVAL_ADDR m_ebreak
.endif
    CHECK_MPP PRV_M

    CASE 5
    EXPECT_TRAP 1f
    GOTO_MODE PRV_U, u_ebreak
u_ebreak:
    ebreak
    FAIL
1:  CHECK_MTRAP CAUSE_BREAKPOINT, u_ebreak
.ifndef QEMU
    CHECK_MTVAL_ADDR u_ebreak
.endif
    CHECK_MPP PRV_U

    # -- MRET: MIE = MPIE, MPIE = 1, MPP = U (the least-privileged mode).
    CASE 6
    li      t0, MSTATUS_MIE
    csrc    mstatus, t0
    li      t0, MSTATUS_MPIE
    csrs    mstatus, t0
    GOTO_MODE PRV_M, 1f
1:  csrr    t0, mstatus
    CHECK_FIELD t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MIE | MSTATUS_MPIE
    li      t0, MSTATUS_MIE
    csrc    mstatus, t0

    # MRET to S with MPIE = 0: S runs with mstatus.MIE = 0, which its ECALL
    # stacks into MPIE.
    CASE 7
    li      t0, MSTATUS_MPIE
    csrc    mstatus, t0
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, s_ecall2
s_ecall2:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_SUPERVISOR_ECALL, s_ecall2
    lw      t0, mtrap_status
    CHECK_FIELD t0, MSTATUS_MPIE, 0

    # MRET to S with MPIE = 1: now MIE was 1 in S.
    CASE 8
    li      t0, MSTATUS_MPIE
    csrs    mstatus, t0
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, s_ecall3
s_ecall3:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_SUPERVISOR_ECALL, s_ecall3
    lw      t0, mtrap_status
    CHECK_FIELD t0, MSTATUS_MPIE, MSTATUS_MPIE

    # MRET to U clears MPRV (1.12, 3.1.6.3); MRET to M keeps it.
    CASE 9
    li      t0, MSTATUS_MPRV
    csrs    mstatus, t0
    EXPECT_TRAP 1f
    GOTO_MODE PRV_U, u_ecall2
u_ecall2:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_USER_ECALL, u_ecall2
.ifndef QEMU
    # QEMU 7.2 predates this 1.12 rule and leaves MPRV set.
    lw      t0, mtrap_status
    CHECK_FIELD t0, MSTATUS_MPRV, 0
.endif

    CASE 10
    li      t0, MSTATUS_MPRV
    csrs    mstatus, t0
    GOTO_MODE PRV_M, 1f                 # MPRV with MPP=M has no effect on M's
1:  csrr    t0, mstatus                 # accesses, and MRET then sets MPP=U:
    li      t1, MSTATUS_MPRV            # clear MPRV before any load or store
    csrc    mstatus, t1
    CHECK_FIELD t0, MSTATUS_MPRV | MSTATUS_MPP, MSTATUS_MPRV

    # -- SRET from S: SIE = SPIE, SPIE = 1, SPP = U; then to U.
    CASE 11
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li      t0, MSTATUS_SIE
    csrc    sstatus, t0
    li      t0, MSTATUS_SPIE | MSTATUS_SPP
    csrs    sstatus, t0
    la      t0, 3f
    csrw    sepc, t0
    sret                                # to S (SPP was S) at 3f
    FAIL
3:  csrr    t0, sstatus
    CHECK_FIELD t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SIE | MSTATUS_SPIE
    li      t0, MSTATUS_SIE
    csrc    sstatus, t0
    SGOTO_MODE PRV_U, u_ecall3          # SPP is U now: SRET to U
u_ecall3:
    ecall
    FAIL
2:  CHECK_MTRAP CAUSE_USER_ECALL, u_ecall3
    CHECK_MPP PRV_U

    # SRET is legal in M-mode (3.3.2: only TSR restricts it, and only in S):
    # it goes to the mode in SPP.
    CASE 12
    li      t0, MSTATUS_SPP
    csrs    mstatus, t0
    la      t0, s_ecall4
    csrw    sepc, t0
    EXPECT_TRAP 1f
    sret
    FAIL
s_ecall4:
    ecall
    FAIL
1:  CHECK_MTRAP CAUSE_SUPERVISOR_ECALL, s_ecall4

    # -- Delegation: a U-mode ECALL with medeleg[8] goes to S, not M.
    CASE 13
    li      t0, 1 << CAUSE_USER_ECALL
    csrw    medeleg, t0
    lw      s0, mtrap_count             # M must not see the delegated trap
    li      t0, MSTATUS_SIE             # SIE=1 in S is stacked into SPIE
    csrs    mstatus, t0
    li      t0, MSTATUS_SPP
    csrs    mstatus, t0                 # SPP=1 beforehand: the trap must clear it
    li      t0, 0x12345678
    csrw    mcause, t0                  # nor touch mcause
    EXPECT_STRAP 1f
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, u_ecall_deleg
u_ecall_deleg:
    ecall
    FAIL
1:  # in S-mode: the S handler resumed here
    CHECK_STRAP CAUSE_USER_ECALL, u_ecall_deleg
    CHECK_STVAL 0
    lw      t0, strap_status
    CHECK_FIELD t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPIE
    csrr    t0, scause
    CHECK_EQ t0, CAUSE_USER_ECALL
    csrr    t0, sepc                    # the handler set sepc to the resume
    CHECK_ADDR t0, 1b                   # point: this was the SRET target
s_back:
    ecall                               # back to M
2:  CHECK_MTRAP CAUSE_SUPERVISOR_ECALL, s_back
    lw      t0, mtrap_count
    addi    s0, s0, 1                   # just the S-mode ECALL reached M
    CHECK_REG t0, s0
    csrw    medeleg, zero

    # A delegated EBREAK from S: SPP = S, stval = pc.
    CASE 14
    li      t0, 1 << CAUSE_BREAKPOINT
    csrw    medeleg, t0
    li      t0, MSTATUS_SIE | MSTATUS_SPP
    csrc    mstatus, t0
    EXPECT_STRAP 1f
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, s_ebreak
s_ebreak:
    ebreak
    FAIL
1:  CHECK_STRAP CAUSE_BREAKPOINT, s_ebreak
.ifndef QEMU
    CHECK_STVAL_ADDR s_ebreak
.endif
    lw      t0, strap_status
    CHECK_FIELD t0, MSTATUS_SPP | MSTATUS_SPIE, MSTATUS_SPP
    ecall
2:  CHECK_MPP PRV_S

    # Delegation never lowers privilege: an EBREAK in M still traps to M.
    CASE 15
    lw      s0, strap_count
    EXPECT_TRAP 1f
m_ebreak2:
    ebreak
    FAIL
1:  CHECK_MTRAP CAUSE_BREAKPOINT, m_ebreak2
    lw      t0, strap_count
    CHECK_REG t0, s0
    csrw    medeleg, zero

    PASS
