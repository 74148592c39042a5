# pmp.S: physical memory protection, from guest code.
#
# Privileged spec 1.12, section 3.7. The lowest-numbered entry that matches an
# access decides it; S and U need the entry's R, W or X, M only when the entry is
# locked (L), and a locked entry ignores writes to its pmpcfg byte and pmpaddr
# (a locked TOR entry to the pmpaddr below it too) until reset. A denied access
# raises the access fault of its kind (1 fetch, 5 load, 7 store) with mtval the
# address. A pmpcfg write takes effect at once, whatever the hart had cached.
#
# Entry 15, the last to be looked at, lets S and U execute anywhere and nothing
# else, so the harness's code runs in U while U reads and writes only what a
# case grants it. U-mode code here does its accesses and an ECALL, and the
# checks run back in M. The locked entries come last: nothing unlocks them.
# (tests/test_pmp.py covers the rest: NAPOT sizes, the page walk, devices,
# partial matches, the TLB's whole-page rule, a model of the matching rules.)

    .include "check.S"

    .equ PMP_TOR,       (1 << 3)
    .equ PMP_NA4,       (2 << 3)
    .equ PMP_L,         0x80
    .equ NAPOT_4K,      (PAGE_SIZE >> 3) - 1    # the low pmpaddr bits of a 4 KiB range
    .equ MARK,          0x600dcafe

# PMPADDR_NAPOT_4K csr, label: csr = the NAPOT pmpaddr of the page at label.
.macro PMPADDR_NAPOT_4K csr, label
    la      t0, \label
    srli    t0, t0, 2
    ori     t0, t0, NAPOT_4K
    csrw    \csr, t0
.endm

# PMPADDR_AT csr, label, offset: csr = (label + offset) >> 2 (a NA4 or TOR bound).
.macro PMPADDR_AT csr, label, offset
    la      t0, \label + \offset
    srli    t0, t0, 2
    csrw    \csr, t0
.endm

# U_ACCESS insn: run insn (a1 = its address) in U-mode, then ECALL back to M.
# The access must succeed: a fault is an unexpected trap.
.macro U_ACCESS insn:vararg
    EXPECT_TRAP .Lback\@
    GOTO_MODE PRV_U, .Lu\@
.Lu\@:
    \insn
.Lecall\@:
    ecall
.Lback\@:
    CHECK_MTRAP CAUSE_USER_ECALL, .Lecall\@
.endm

# U_FAULTS cause, insn: insn (a1 = its address), run in U-mode, raises cause
# with mtval = a1, and leaves a0 alone.
.macro U_FAULTS cause, insn:vararg
    li      a0, SENTINEL
    EXPECT_TRAP .Lback\@
    GOTO_MODE PRV_U, .Lu\@
.Lu\@:
    \insn
    FAIL
.Lback\@:
    CHECK_MTRAP \cause, .Lu\@
    CHECK_REG_MTVAL a1
    CHECK_EQ a0, SENTINEL
.endm

# CHECK_REG_MTVAL reg: the last M-mode trap's mtval equals reg.
.macro CHECK_REG_MTVAL reg
    lw      t5, mtrap_tval
    CHECK_REG t5, \reg
.endm

main:
    li      t0, PMP_ALL_ADDR
    csrw    pmpaddr15, t0
    li      t0, (PMP_NAPOT | PMP_X) << 24
    csrw    pmpcfg3, t0
    csrw    pmpcfg0, zero               # the harness's entry 0 (all memory) off
    la      a1, prot
    li      t0, MARK
    sw      t0, 0(a1)                   # M needs no entry: none is locked

.ifndef QEMU
    # -- WARL (emu's choices; QEMU 7.2 keeps other values): bits 5 and 6 read
    # 0, and W without R is written as neither (as on Spike).
    CASE 1
    li      t0, 0x7f7f7f7f
    csrw    pmpcfg1, t0
    CHECK_CSR pmpcfg1, 0x1f1f1f1f
    li      t0, 0x0b160a02              # W; TOR W; NA4 X W; TOR W R
    csrw    pmpcfg1, t0
    CHECK_CSR pmpcfg1, 0x0b140800
    csrw    pmpcfg1, zero
.endif

    # -- NAPOT, read only: U may load, not store, not execute.
    CASE 2
    PMPADDR_NAPOT_4K pmpaddr0, prot
    li      t0, PMP_NAPOT | PMP_R
    csrw    pmpcfg0, t0
    la      a1, prot
    U_ACCESS lw a0, 0(a1)
    CHECK_EQ a0, MARK

    CASE 3
    la      a1, prot + 8
    U_FAULTS CAUSE_STORE_ACCESS, sw a1, 0(a1)
    CHECK_WORD prot + 8, 0

    CASE 4
    la      a1, prot
    EXPECT_TRAP 1f
    GOTO_MODE PRV_U, u_jump
u_jump:
    jr      a1
    FAIL
1:  CHECK_MTRAP CAUSE_FETCH_ACCESS, prot    # the target's fetch faults
    CHECK_MTVAL_ADDR prot

    # -- Priority: entry 0, one word with no permission (NA4), shadows entry 1.
    CASE 5
    PMPADDR_AT pmpaddr0, prot, 8
    PMPADDR_NAPOT_4K pmpaddr1, prot
    li      t0, (PMP_NAPOT | PMP_R) << 8 | PMP_NA4
    csrw    pmpcfg0, t0
    la      a1, prot + 8
    U_FAULTS CAUSE_LOAD_ACCESS, lw a0, 0(a1)
    la      a1, prot + 12
    U_ACCESS lw a0, 0(a1)

    # -- TOR: entry 1 covers [pmpaddr0 << 2, pmpaddr1 << 2); entry 0 is OFF.
    CASE 6
    PMPADDR_AT pmpaddr0, prot2, 0x100
    PMPADDR_AT pmpaddr1, prot2, 0x200
    li      t0, (PMP_TOR | PMP_R | PMP_W) << 8
    csrw    pmpcfg0, t0
    la      a1, prot2 + 0x1fc
    U_ACCESS sw a1, 0(a1)
    lw      t0, prot2 + 0x1fc
    CHECK_ADDR t0, prot2 + 0x1fc
    la      a1, prot2 + 0x100
    U_ACCESS sw a1, 0(a1)
    la      a1, prot2 + 0x200
    U_FAULTS CAUSE_STORE_ACCESS, sw a1, 0(a1)
    la      a1, prot2 + 0xfc
    U_FAULTS CAUSE_LOAD_ACCESS, lw a0, 0(a1)

    # -- A pmpcfg write takes effect at once: the page U just stored to (and a
    # TLB may hold) is read-only from the next access on.
    CASE 7
    PMPADDR_NAPOT_4K pmpaddr0, prot
    li      t0, PMP_NAPOT | PMP_R | PMP_W
    csrw    pmpcfg0, t0
    la      a1, prot + 16
    U_ACCESS sw a1, 0(a1)
    U_ACCESS sw a1, 0(a1)
    li      t0, PMP_NAPOT | PMP_R
    csrw    pmpcfg0, t0
    U_FAULTS CAUSE_STORE_ACCESS, sw a1, 0(a1)
    U_ACCESS lw a0, 0(a1)
    CHECK_ADDR a0, prot + 16

    # -- MPRV: M-mode loads and stores are checked as MPP's (here U's).
    CASE 8
    la      a1, prot + 16
    EXPECT_TRAP 1f
    li      t0, MSTATUS_MPP
    csrc    mstatus, t0
    li      t0, MSTATUS_MPRV            # MPP = U
    csrs    mstatus, t0
    lw      a0, 0(a1)                   # R: allowed
m_store:
    sw      zero, 0(a1)                 # no W: faults, and the trap clears MPRV
    FAIL
1:  CHECK_MTRAP CAUSE_STORE_ACCESS, m_store
    CHECK_REG_MTVAL a1
    CHECK_ADDR a0, prot + 16
    lw      t0, prot + 16
    CHECK_ADDR t0, prot + 16

    # -- A locked entry binds M-mode and ignores writes to its pmpaddr and cfg.
    CASE 9
    PMPADDR_NAPOT_4K pmpaddr8, prot3
    li      t0, PMP_L | PMP_NAPOT | PMP_R
    csrw    pmpcfg2, t0
    la      a1, prot3
    lw      a0, 0(a1)
    EXPECT_TRAP 1f
m_locked_store:
    sw      a1, 0(a1)
    FAIL
1:  CHECK_MTRAP CAUSE_STORE_ACCESS, m_locked_store
    CHECK_REG_MTVAL a1
    CHECK_WORD prot3, 0
    csrw    pmpaddr8, zero
    la      t0, prot3
    srli    t0, t0, 2
    ori     t0, t0, NAPOT_4K
    csrr    t1, pmpaddr8
    CHECK_REG t1, t0
    li      t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
    csrw    pmpcfg2, t0
    CHECK_CSR pmpcfg2, PMP_L | PMP_NAPOT | PMP_R

    # -- A locked TOR entry locks the pmpaddr below it (its bottom) as well.
    CASE 10
    PMPADDR_AT pmpaddr9, prot3, 0
    PMPADDR_AT pmpaddr10, prot3, PAGE_SIZE
    li      t0, (PMP_L | PMP_TOR | PMP_R) << 16 | (PMP_L | PMP_NAPOT | PMP_R)
    csrw    pmpcfg2, t0
    csrw    pmpaddr9, zero
    csrw    pmpaddr10, zero
    la      t0, prot3
    srli    t0, t0, 2
    csrr    t1, pmpaddr9
    CHECK_REG t1, t0
    la      t0, prot3 + PAGE_SIZE
    srli    t0, t0, 2
    csrr    t1, pmpaddr10
    CHECK_REG t1, t0

    PASS

    .bss
    .balign PAGE_SIZE
prot:   .skip PAGE_SIZE
prot2:  .skip PAGE_SIZE
prot3:  .skip PAGE_SIZE
