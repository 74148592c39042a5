# interrupts.S: timer and software interrupts, delegation, WFI, vectored trap entry.
#
# Privileged spec 1.12: mip/mie (3.1.9) with the rule for when an interrupt is
# taken (enabled in mie, pending in mip, and either a lower privilege than the
# interrupt's target or xstatus.xIE set; interrupts delegated by mideleg go to
# S and are never taken in M), the priority order MEI > MSI > MTI > SEI > SSI >
# STI, mcause with bit 31 set and mtval 0 (3.1.15, 3.1.16), mtvec vectored mode
# (3.1.7: pc = base + 4 * cause for interrupts, base for exceptions), the CLINT
# timer (3.2.1: MTIP is mtime >= mtimecmp) and software interrupt (msip), the S
# side (4.1.3 sip/sie, 4.1.2 stvec) and WFI (3.3.3: it resumes when an interrupt
# is pending and enabled in mie, whatever the global enables; a trap taken at
# the wake-up has xepc = the instruction after the WFI).
#
# Timing: QEMU's mtime is a 10 MHz clock, emu's advances by 1 per instruction
# (and WFI jumps it to mtimecmp), so the tests only ask for "mtime has reached
# the deadline" and poll with generous bounds; emu's exact skip is checked
# under .ifndef QEMU.

    .include "check.S"

    .equ TIMER_DELTA,  10000            # ticks: 1 ms on QEMU
    .equ SPIN_LIMIT,   50000000         # loop turns before giving up on an interrupt

main:
    # -- The machine timer, taken in M with MIE set.
    CASE 1
    li      a0, TIMER_DELTA
    jal     set_timer
    li      t0, MIP_MTIP
    csrw    mie, t0
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
    li      t1, SPIN_LIMIT
spin1:
    addi    t1, t1, -1
    bnez    t1, spin1
spin1_end:
    FAIL
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    CHECK_MTVAL 0
    CHECK_MPP PRV_M
    lw      t0, mtrap_status
    CHECK_FIELD t0, MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE
    lw      t0, mtrap_epc               # somewhere in the loop
    la      t1, spin1
    bltu    t0, t1, 3f
    la      t1, spin1_end
    bleu    t0, t1, 4f
3:  FAIL
4:  csrr    t0, mip                     # still pending: MTIP follows mtimecmp
    CHECK_FIELD t0, MIP_MTIP, MIP_MTIP
    jal     stop_timer
    csrr    t0, mip
    CHECK_FIELD t0, MIP_MTIP, 0

    # -- Pending but MIE clear: not taken in M; setting MIE takes it at once,
    # before the next instruction.
    CASE 2
    li      a0, 0                       # deadline now: MTIP as soon as can be
    jal     set_timer
    lw      s0, mtrap_count
    li      t1, 1000                    # let it become pending
1:  addi    t1, t1, -1
    bnez    t1, 1b
    csrr    t0, mip
    CHECK_FIELD t0, MIP_MTIP, MIP_MTIP
    lw      t0, mtrap_count
    CHECK_REG t0, s0
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
after_mie_set:
    nop
    FAIL
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    lw      t0, mtrap_epc
    CHECK_ADDR t0, after_mie_set

    # -- Below M, M-level interrupts are enabled whatever MIE says.
    CASE 3
    EXPECT_TRAP 2f
    GOTO_MODE PRV_U, u_start            # MTIP still pending, MIE = 0
u_start:
    nop
    FAIL
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    lw      t0, mtrap_epc
    CHECK_ADDR t0, u_start
    CHECK_MPP PRV_U
    jal     stop_timer

    # -- WFI with MIE set: wakes on the timer, the trap's mepc is after the WFI.
    CASE 4
    li      a0, TIMER_DELTA
    jal     set_timer
    mv      s0, a0                      # the deadline
    mv      s1, a1
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
    wfi
after_wfi:
    j       after_wfi                   # a spurious wake-up waits here
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    lw      t0, mtrap_epc
    CHECK_ADDR t0, after_wfi
    mv      a0, s0
    mv      a1, s1
    jal     mtime_reached
    CHECK_EQ a0, 1
    jal     stop_timer

    # -- WFI with MIE clear: wakes (MTIE is set) and just goes on.
    CASE 5
    li      a0, TIMER_DELTA
    jal     set_timer
    mv      s0, a0
    mv      s1, a1
    lw      s2, mtrap_count
    li      t1, SPIN_LIMIT
1:  wfi                                 # (a WFI may also wake early: loop)
    mv      a0, s0
    mv      a1, s1
    jal     mtime_reached
    bnez    a0, 2f
    addi    t1, t1, -1
    bnez    t1, 1b
    FAIL
2:  lw      t0, mtrap_count
    CHECK_REG t0, s2
    csrr    t0, mip
    CHECK_FIELD t0, MIP_MTIP, MIP_MTIP
    jal     stop_timer

.ifndef QEMU
    # emu: time is virtual, and WFI skips it to the deadline at once, however
    # far: one WFI wakes at mtimecmp exactly; mtime then ticks once for the WFI
    # and once for each of the three instructions up to the load (li is two).
    .equ FAR_AWAY, 1000000000           # 100 s of QEMU's clock
    CASE 6
    li      a0, FAR_AWAY
    jal     set_timer
    mv      s0, a0
    mv      s1, a1
    wfi
    li      t0, MTIME_ADDR
    lw      a0, 0(t0)
    lw      a1, 4(t0)
    CHECK_REG a1, s1
    sub     a0, a0, s0
    sltiu   a0, a0, 4                   # 0 <= mtime - mtimecmp <= 3
    CHECK_EQ a0, 1
    jal     stop_timer
.endif

    # -- WFI in S with TW = 0 is legal; the M timer wakes it and is taken in M.
    CASE 7
    li      a0, TIMER_DELTA
    jal     set_timer
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, s_wfi
s_wfi:
    wfi
after_s_wfi:
    j       after_s_wfi
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    lw      t0, mtrap_epc
    la      t2, after_s_wfi             # woken: the trap is after the WFI (or
    beq     t0, t2, 3f                  # spinning there, if it woke early)
    FAIL
3:  CHECK_MPP PRV_S
    jal     stop_timer

    # -- The software interrupt: msip in the CLINT is mip.MSIP.
    CASE 8
    li      t0, MIP_MSIP
    csrw    mie, t0
    li      t0, MSIP_ADDR
    li      t1, 1
    sw      t1, 0(t0)
    csrr    t1, mip
    CHECK_FIELD t1, MIP_MSIP, MIP_MSIP
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
1:  j       1b
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_SOFT
    CHECK_MTVAL 0
    li      t0, MSIP_ADDR
    sw      zero, 0(t0)
    csrr    t1, mip
    CHECK_FIELD t1, MIP_MSIP, 0

    # -- Priority: software before timer when both are pending.
    CASE 9
    li      a0, 0
    jal     set_timer
    li      t0, MSIP_ADDR
    li      t1, 1
    sw      t1, 0(t0)
    li      t0, MIP_MSIP | MIP_MTIP
    csrw    mie, t0
    li      t1, 1000
1:  addi    t1, t1, -1
    bnez    t1, 1b
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
1:  j       1b
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_SOFT
    li      t0, MSIP_ADDR
    sw      zero, 0(t0)
    EXPECT_TRAP 2f                      # then the timer
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
1:  j       1b
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    jal     stop_timer
    csrw    mie, zero

    # -- Supervisor timer: STIP set by M in mip, delegated, taken in S when
    # sstatus.SIE is set.
    CASE 10
    li      t0, MIP_STIP
    csrw    mideleg, t0
    csrw    mie, t0
    csrs    mip, t0
    lw      s0, mtrap_count
    li      t0, MSTATUS_MIE             # delegated: M never takes it
    csrs    mstatus, t0
    nop
    nop
    csrc    mstatus, t0
    lw      t0, mtrap_count
    CHECK_REG t0, s0
    EXPECT_STRAP 2f
    GOTO_MODE PRV_S, 1f
1:  nop                                 # SIE = 0: not yet
    li      t0, MSTATUS_SIE
    csrs    sstatus, t0
s_after_sie:
    nop
    FAIL
2:  CHECK_WORD strap_cause, CAUSE_INTERRUPT | IRQ_S_TIMER
    lw      t0, strap_epc
    CHECK_ADDR t0, s_after_sie
    CHECK_STVAL 0
    lw      t0, strap_status
    CHECK_FIELD t0, MSTATUS_SPP | MSTATUS_SPIE, MSTATUS_SPP | MSTATUS_SPIE
    csrr    t0, sip                     # visible to S, not clearable by S
    CHECK_FIELD t0, MIP_STIP, MIP_STIP
    EXPECT_TRAP 3f
    ecall
3:  CHECK_MPP PRV_S

    # From U the delegated interrupt is taken whatever SIE says.
    CASE 11
    EXPECT_STRAP 2f
    EXPECT_TRAP 3f
    GOTO_MODE PRV_U, u_start2
u_start2:
    nop
    FAIL
2:  CHECK_WORD strap_cause, CAUSE_INTERRUPT | IRQ_S_TIMER
    lw      t0, strap_epc
    CHECK_ADDR t0, u_start2
    lw      t0, strap_status
    CHECK_FIELD t0, MSTATUS_SPP, 0
    ecall
3:  CHECK_MPP PRV_S

    # Not delegated, the same STIP goes to M, even from S with SIE clear.
    CASE 12
    csrw    mideleg, zero
    EXPECT_TRAP 2f
    GOTO_MODE PRV_S, s_start3
s_start3:
    nop
    FAIL
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_S_TIMER
    lw      t0, mtrap_epc
    CHECK_ADDR t0, s_start3
    CHECK_MPP PRV_S
    li      t0, MIP_STIP
    csrc    mip, t0
    csrw    mie, zero

    # -- Supervisor software interrupt: S sets its own sip.SSIP.
    CASE 13
    li      t0, MIP_SSIP
    csrw    mideleg, t0
    csrw    mie, t0
    EXPECT_STRAP 2f
    GOTO_MODE PRV_S, 1f
1:  li      t0, MSTATUS_SIE
    csrs    sstatus, t0
    li      t0, MIP_SSIP
    csrs    sip, t0
1:  j       1b
2:  CHECK_WORD strap_cause, CAUSE_INTERRUPT | IRQ_S_SOFT
    li      t0, MIP_SSIP
    csrc    sip, t0                     # S clears it itself
    csrr    t0, sip
    CHECK_FIELD t0, MIP_SSIP, 0
    EXPECT_TRAP 3f
    ecall
3:  CHECK_MPP PRV_S
    csrw    mideleg, zero
    csrw    mie, zero

    # -- Vectored mtvec: interrupts go to base + 4 * cause, exceptions to base.
    CASE 14
    la      t0, mvectors
    ori     t0, t0, MTVEC_VECTORED
    csrw    mtvec, t0
    li      a0, 0
    jal     set_timer
    li      t0, MIP_MTIP
    csrw    mie, t0
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
1:  j       1b
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_TIMER
    CHECK_WORD vector_hits + 4 * IRQ_M_TIMER, 1
    jal     stop_timer
    csrw    mie, zero
    CASE 15
    li      t0, MSIP_ADDR
    li      t1, 1
    sw      t1, 0(t0)
    li      t0, MIP_MSIP
    csrw    mie, t0
    EXPECT_TRAP 2f
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0
1:  j       1b
2:  CHECK_WORD mtrap_cause, CAUSE_INTERRUPT | IRQ_M_SOFT
    CHECK_WORD vector_hits + 4 * IRQ_M_SOFT, 1
    li      t0, MSIP_ADDR
    sw      zero, 0(t0)
    csrw    mie, zero
    CASE 16
    EXPECT_TRAP 1f                      # an exception: to base (slot 0)
vec_ecall:
    ecall
1:  CHECK_MTRAP CAUSE_MACHINE_ECALL, vec_ecall
    CHECK_WORD vector_hits, 1
    CHECK_WORD vector_hits + 4 * IRQ_M_TIMER, 1
    la      t0, mtrap_entry
    csrw    mtvec, t0

    # -- Vectored stvec, for a delegated S timer interrupt (slot 5).
    CASE 17
    la      t0, svectors
    ori     t0, t0, MTVEC_VECTORED
    csrw    stvec, t0
    li      t0, MIP_STIP
    csrw    mideleg, t0
    csrw    mie, t0
    csrs    mip, t0
    EXPECT_STRAP 2f
    EXPECT_TRAP 3f
    GOTO_MODE PRV_U, 1f
1:  j       1b
2:  CHECK_WORD strap_cause, CAUSE_INTERRUPT | IRQ_S_TIMER
    CHECK_WORD svector_hits + 4 * IRQ_S_TIMER, 1
    ecall
3:  li      t0, MIP_STIP
    csrc    mip, t0
    csrw    mie, zero
    csrw    mideleg, zero
    la      t0, strap_entry
    csrw    stvec, t0

    PASS

# set_timer: mtimecmp = mtime + a0 (64-bit); returns the deadline in a0 (low)
# and a1 (high). Writes the high half to all ones first so that no interrupt
# fires on a half-written value (the CLINT's usual sequence). Clobbers t0-t2.
set_timer:
    li      t0, MTIME_ADDR
1:  lw      t1, 4(t0)                   # read mtime consistently: hi, lo, hi
    lw      t2, 0(t0)
    lw      a1, 4(t0)
    bne     t1, a1, 1b
    add     a0, t2, a0
    sltu    t2, a0, t2                  # the carry
    add     a1, a1, t2
    li      t0, MTIMECMP_ADDR
    li      t1, -1
    sw      t1, 4(t0)
    sw      a0, 0(t0)
    sw      a1, 4(t0)
    ret

# stop_timer: mtimecmp as far as it goes, which clears MTIP. Clobbers t0, t1.
stop_timer:
    li      t0, MTIMECMP_ADDR
    li      t1, -1
    sw      t1, 4(t0)
    sw      t1, 0(t0)
    ret

# mtime_reached: a0 = 1 if mtime >= the 64-bit deadline a1:a0, else 0.
# Clobbers t0, t2, t3.
mtime_reached:
    li      t0, MTIME_ADDR
1:  lw      t2, 4(t0)
    lw      t3, 0(t0)
    lw      t0, 4(t0)
    bne     t0, t2, mtime_reached       # the high half moved: read again
    bltu    t2, a1, 3f                  # high below: not yet
    bne     t2, a1, 2f                  # high above: reached
    bltu    t3, a0, 3f
2:  li      a0, 1
    ret
3:  li      a0, 0
    ret

# The vector tables: a slot counts its hits, then joins the usual handler
# (which records the cause and resumes). It parks t6 in the scratch CSR and t5
# in memory, as the handler does, so every register survives.
.macro VECTOR_SLOT hits, n, scratch, entry
    csrrw   t6, \scratch, t6
    la      t6, vector_save
    sw      t5, 0(t6)
    la      t6, \hits + 4 * (\n)
    lw      t5, 0(t6)
    addi    t5, t5, 1
    sw      t5, 0(t6)
    la      t6, vector_save
    lw      t5, 0(t6)
    csrrw   t6, \scratch, t6
    j       \entry
.endm

    .equ VECTORS, 16                    # slots 0..15: causes up to MEI (11)

# One jump per slot; slot 0 takes the exceptions.
    .balign 256                         # more than vectored mode needs
mvectors:
    .set slot, 0
    .rept VECTORS
    .if slot == 0
    j       mslot0
    .elseif slot == IRQ_M_SOFT
    j       mslot3
    .elseif slot == IRQ_M_TIMER
    j       mslot7
    .else
    j       vector_unexpected
    .endif
    .set slot, slot + 1
    .endr

    .balign 256
svectors:
    .set slot, 0
    .rept VECTORS
    .if slot == IRQ_S_TIMER
    j       sslot5
    .else
    j       vector_unexpected
    .endif
    .set slot, slot + 1
    .endr

mslot0: VECTOR_SLOT vector_hits, 0, mscratch, mtrap_entry
mslot3: VECTOR_SLOT vector_hits, IRQ_M_SOFT, mscratch, mtrap_entry
mslot7: VECTOR_SLOT vector_hits, IRQ_M_TIMER, mscratch, mtrap_entry
sslot5: VECTOR_SLOT svector_hits, IRQ_S_TIMER, sscratch, strap_entry

vector_unexpected:
    FAIL

    .data
    .balign 4
vector_hits:    .skip 4 * VECTORS
svector_hits:   .skip 4 * VECTORS
vector_save:    .word 0
