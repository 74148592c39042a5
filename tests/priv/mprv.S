# mprv.S: mstatus.MPRV, M-mode loads and stores translated as S or U.
#
# Privileged spec 1.12, section 3.1.6.3: with MPRV = 1, loads and stores (not
# instruction fetches) are translated and protected as though the privilege
# were mstatus.MPP, with SUM and MXR applying as in that mode. A fault traps to
# M with mtval = the virtual address; trap entry writes MPP = M (the mode
# trapped from), which ends MPRV's effect without clearing it.
#
# The page table here maps no code at all: M keeps executing at physical
# addresses while its data accesses go through the table, which shows that
# fetches are not translated. Between setting and clearing MPRV the test uses
# registers only (the harness's checks load from physical addresses).

    .include "check.S"

    .equ MARK,      0x3a7e0000          # word 0 of frame i holds MARK + i
    .equ NFRAMES,   4
    .equ PTE_AD,    (PTE_A | PTE_D)

    .equ VA_BASE,   0x40000000
    .equ VA_S_RW,   VA_BASE + 0x0000    # frame 0, S, RW
    .equ VA_U_RW,   VA_BASE + 0x1000    # frame 1, U, RW
    .equ VA_X_ONLY, VA_BASE + 0x2000    # frame 2, S, execute-only
    .equ VA_NO_AD,  VA_BASE + 0x3000    # frame 3, S, RW, A = D = 0

# MPRV_AS prv: from here on M's loads and stores are done as prv.
.macro MPRV_AS prv
    li      t5, MSTATUS_MPP
    csrc    mstatus, t5
    li      t5, MSTATUS_MPRV | ((\prv) << MSTATUS_MPP_SHIFT)
    csrs    mstatus, t5
.endm

# MPRV_OFF: back to M's own, untranslated accesses.
.macro MPRV_OFF
    li      t5, MSTATUS_MPRV
    csrc    mstatus, t5
.endm

# MPRV_FAULTS prv, cause, addr, insn: insn (with a1 = addr), done as prv,
# traps to M with cause and mtval = addr, leaving a0 alone.
.macro MPRV_FAULTS prv, cause, addr, insn:vararg
    li      a1, \addr
    li      a0, SENTINEL
    EXPECT_TRAP .Lresume\@
    MPRV_AS \prv
.Linsn\@:
    \insn
    MPRV_OFF
    FAIL
.Lresume\@:
    CHECK_MTRAP \cause, .Linsn\@
    CHECK_MTVAL \addr
    CHECK_MPP PRV_M                     # trapped from M, whatever MPRV said
    CHECK_EQ a0, SENTINEL
.endm

main:
    la      a0, frames
    li      a1, MARK
    li      a2, NFRAMES
    jal     vm_mark_frames
    MAP4K   VA_S_RW,   0, PTE_V | PTE_R | PTE_W | PTE_AD
    MAP4K   VA_U_RW,   1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD
    MAP4K   VA_X_ONLY, 2, PTE_V | PTE_X | PTE_A
    MAP4K   VA_NO_AD,  3, PTE_V | PTE_R | PTE_W
    SET_SATP root                       # M itself is not translated

    # -- MPRV with MPP = S: loads and stores through the table; the code,
    # which the table does not map, keeps running.
    CASE 1
    li      a1, VA_S_RW
    li      a2, 0x0badf00d
    MPRV_AS PRV_S
    lw      a0, 0(a1)
    sw      a2, 4(a1)
    MPRV_OFF
    CHECK_EQ a0, MARK + 0
    CHECK_WORD frames + 4, 0x0badf00d

    # -- MPP = S: U pages need SUM.
    CASE 2
    MPRV_FAULTS PRV_S, CAUSE_LOAD_PAGE_FAULT, VA_U_RW + 8, lw a0, 0(a1)
    lw      t0, mtrap_status            # MPRV was still set at the trap
    CHECK_FIELD t0, MSTATUS_MPRV, MSTATUS_MPRV
    CASE 3
    MPRV_FAULTS PRV_S, CAUSE_STORE_PAGE_FAULT, VA_U_RW, sw a0, 0(a1)
    CASE 4
    li      t0, MSTATUS_SUM
    csrs    mstatus, t0
    li      a1, VA_U_RW
    MPRV_AS PRV_S
    lw      a0, 0(a1)
    MPRV_OFF
    li      t0, MSTATUS_SUM
    csrc    mstatus, t0
    CHECK_EQ a0, MARK + 1

    # -- MPP = U: U pages only.
    CASE 5
    li      a1, VA_U_RW
    li      a2, 0x1234abcd
    MPRV_AS PRV_U
    lw      a0, 0(a1)
    sw      a2, 8(a1)
    MPRV_OFF
    CHECK_EQ a0, MARK + 1
    CHECK_WORD frames + PAGE_SIZE + 8, 0x1234abcd
    CASE 6
    MPRV_FAULTS PRV_U, CAUSE_LOAD_PAGE_FAULT, VA_S_RW, lw a0, 0(a1)
    CASE 7
    MPRV_FAULTS PRV_U, CAUSE_STORE_PAGE_FAULT, VA_S_RW + 12, sh a0, 0(a1)
    CASE 8
    MPRV_FAULTS PRV_S, CAUSE_LOAD_PAGE_FAULT, VA_BASE + 0x7000, lw a0, 0(a1)

    # -- MXR applies to the MPRV view as well.
    CASE 9
    MPRV_FAULTS PRV_S, CAUSE_LOAD_PAGE_FAULT, VA_X_ONLY, lw a0, 0(a1)
    CASE 10
    li      t0, MSTATUS_MXR
    csrs    mstatus, t0
    li      a1, VA_X_ONLY
    MPRV_AS PRV_S
    lw      a0, 0(a1)
    MPRV_OFF
    li      t0, MSTATUS_MXR
    csrc    mstatus, t0
    CHECK_EQ a0, MARK + 2

    # -- The walk sets A and D for MPRV accesses too.
    CASE 11
    li      a1, VA_NO_AD
    MPRV_AS PRV_S
    sw      zero, 4(a1)
    MPRV_OFF
    la      a0, root
    li      a2, VA_NO_AD
    jal     vm_pte_addr
    lw      t0, 0(a5)
    CHECK_FIELD t0, PTE_AD, PTE_AD

    # -- MPP = M: MPRV changes nothing, physical addresses as usual.
    CASE 12
    la      a1, frames
    MPRV_AS PRV_M
    lw      a0, 0(a1)
    MPRV_OFF
    CHECK_EQ a0, MARK + 0

    # -- With satp bare, MPRV with MPP = U reaches physical memory (PMP
    # entry 0 lets U in on QEMU; emu has no PMP checks).
    CASE 13
    csrw    satp, zero
    la      a1, frames + 2 * PAGE_SIZE
    MPRV_AS PRV_U
    lw      a0, 0(a1)
    MPRV_OFF
    CHECK_EQ a0, MARK + 2

    PASS

    .bss
    .balign PAGE_SIZE
root:   .skip PAGE_SIZE
level0: .skip PAGE_SIZE
frames: .skip NFRAMES * PAGE_SIZE
