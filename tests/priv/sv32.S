# sv32.S: Sv32 address translation in S- and U-mode.
#
# Privileged spec 1.12, section 4.3 (Sv32) and 4.3.2 (the walk):
#   - 4 KiB pages through a level-0 table and 4 MiB megapages at level 1; a
#     megapage whose PPN[0] is not zero is misaligned: page fault (step 6);
#   - invalid PTEs (V = 0), the reserved W-without-R encoding, and a pointer PTE
#     at level 0 are page faults (steps 3 and 4);
#   - the U bit (4.3.1): S-mode may load/store U pages only with SUM, and never
#     executes them; U-mode touches U pages only;
#   - MXR makes execute-only pages readable (not writable);
#   - A and D are set by the walk (emu's choice, allowed by step 7; QEMU does
#     the same), so the test reads the PTE back;
#   - page faults are causes 12/13/15 with mtval the faulting virtual address
#     (3.1.16), delegable to S through medeleg;
#   - SFENCE.VMA makes a changed PTE visible (4.2.1).
# And emu's rule for misaligned accesses under translation: each page is
# translated on its own, and a fault in the second page reports the address of
# its first byte, the page boundary.
#
# M-mode builds the tables (M is never translated), then runs each access in S
# (from an identity-mapped megapage, so the harness works unchanged) or in U
# (from small snippets in a page mapped with U). Faults go to M unless a case
# delegates them, and the harness resumes in M to check mcause and mtval.

    .include "check.S"

    .equ MARK,      0x5ca1ab00          # word 0 of frame i holds MARK + i

    # Virtual addresses. All VPN[1] = 0x100 ones share one level-0 table.
    .equ VA_BASE,       0x40000000
    .equ VA_S_RW,       VA_BASE + 0x0000    # frame 0, S, RW
    .equ VA_U_RW,       VA_BASE + 0x1000    # frame 1, U, RW
    .equ VA_NO_AD,      VA_BASE + 0x2000    # frame 2, RW, A = D = 0
    .equ VA_X_ONLY,     VA_BASE + 0x3000    # frame 3, execute-only
    .equ VA_RO,         VA_BASE + 0x4000    # frame 4, read-only
    .equ VA_W_ONLY,     VA_BASE + 0x5000    # frame 5, W without R: reserved
    .equ VA_EDGE,       VA_BASE + 0x6000    # frame 6, RW; the next page is
    .equ VA_HOLE,       VA_BASE + 0x7000    # invalid (V = 0)
    .equ VA_REMAP,      VA_BASE + 0x8000    # frame 0, later frame 9
    .equ VA_SPLIT,      VA_BASE + 0x9000    # frame 8, and the page after it is
    .equ VA_SPLIT2,     VA_BASE + 0xA000    # frame 7: not contiguous
    .equ VA_UCODE,      VA_BASE + 0x10000   # the U snippets, U RX
    .equ VA_UCODE_X,    VA_BASE + 0x11000   # the same frame, U execute-only
    .equ VA_NONLEAF0,   VA_BASE + 0x20000   # a pointer PTE at level 0
    .equ VA_NO_L1,      0x40400000          # no level-1 entry at all
    .equ VA_ALIAS,      0xC0000000          # megapage -> RAM_BASE, RW
    .equ VA_BAD_MEGA,   0xC0400000          # megapage with PPN[0] = 1
    .equ VA_MEGA_NO_AD, 0xC0800000          # megapage -> RAM_BASE, A = D = 0

    .equ NFRAMES, 10
    .equ PTE_AD, (PTE_A | PTE_D)
    .equ SPLIT_TAIL, 0xddccbbaa         # the last word of frame 8

# GOTO_U snippet: from M, run snippet (in ucode) in U-mode at its VA_UCODE alias.
.macro GOTO_U snippet
    la      t5, \snippet
    la      t6, ucode
    sub     t5, t5, t6
    li      t6, VA_UCODE
    add     t5, t5, t6
    csrw    mepc, t5
    li      t5, MSTATUS_MPP
    csrc    mstatus, t5                 # MPP = U
    mret
.endm

# S_FAULTS cause, addr, tval, insn: with a1 = addr, insn (in S) traps to M
# with cause and mtval = tval, and a0 (the sentinel) is left alone.
.macro S_FAULTS cause, addr, tval, insn:vararg
    li      a1, \addr
    li      a0, SENTINEL
    EXPECT_TRAP .Lresume\@
    GOTO_MODE PRV_S, .Linsn\@
.Linsn\@:
    \insn
    FAIL
.Lresume\@:
    CHECK_MTRAP \cause, .Linsn\@
    CHECK_MTVAL \tval
    CHECK_MPP PRV_S
    CHECK_EQ a0, SENTINEL
.endm

# S_OK addr, insn: with a1 = addr, insn runs in S without a trap (its result
# stays in a0 for the caller to check).
.macro S_OK addr, insn:vararg
    li      a1, \addr
    EXPECT_TRAP .Lresume\@
    GOTO_MODE PRV_S, .Linsn\@
.Linsn\@:
    \insn
.Lecall\@:
    ecall
    FAIL
.Lresume\@:
    lw      t5, mtrap_epc
    CHECK_ADDR t5, .Lecall\@
.endm

# U_FAULTS cause, addr, tval, snippet / U_OK addr, snippet: the same in U-mode.
.macro U_FAULTS cause, addr, tval, snippet
    li      a1, \addr
    li      a0, SENTINEL
    EXPECT_TRAP .Lresume\@
    GOTO_U  \snippet
.Lresume\@:
    CHECK_WORD mtrap_cause, \cause
    CHECK_MTVAL \tval
    CHECK_MPP PRV_U
    CHECK_EQ a0, SENTINEL
.endm
.macro U_OK addr, snippet
    li      a1, \addr
    EXPECT_TRAP .Lresume\@
    GOTO_U  \snippet
.Lresume\@:
    CHECK_WORD mtrap_cause, CAUSE_USER_ECALL
.endm

main:
    # -- Frames: a marker in word 0 of each, a known tail in frame 8.
    la      a0, frames
    li      a1, MARK
    li      a2, NFRAMES
    jal     vm_mark_frames
    la      t0, frames + 8 * PAGE_SIZE + PAGE_SIZE - 4
    li      t1, SPLIT_TAIL
    sw      t1, 0(t0)
    la      t0, frames + 6 * PAGE_SIZE + 4
    li      t1, 0x0d0c0b0a
    sw      t1, 0(t0)

    # -- The page table.
    la      a0, root                    # identity megapage for the S code
    li      a2, RAM_BASE
    li      a3, RAM_BASE
    li      a4, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD
    jal     vm_map_mega
    li      a2, VA_ALIAS
    li      a3, RAM_BASE
    li      a4, PTE_V | PTE_R | PTE_W | PTE_AD
    jal     vm_map_mega
    li      a2, VA_BAD_MEGA
    li      a3, RAM_BASE + PAGE_SIZE    # PPN[0] = 1: misaligned
    li      a4, PTE_V | PTE_R | PTE_W | PTE_AD
    jal     vm_map_mega
    li      a2, VA_MEGA_NO_AD
    li      a3, RAM_BASE
    li      a4, PTE_V | PTE_R | PTE_W
    jal     vm_map_mega
    MAP4K   VA_S_RW,   0, PTE_V | PTE_R | PTE_W | PTE_AD
    MAP4K   VA_U_RW,   1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD
    MAP4K   VA_NO_AD,  2, PTE_V | PTE_R | PTE_W
    MAP4K   VA_X_ONLY, 3, PTE_V | PTE_X | PTE_A
    MAP4K   VA_RO,     4, PTE_V | PTE_R | PTE_A
    MAP4K   VA_W_ONLY, 5, PTE_V | PTE_W | PTE_AD
    MAP4K   VA_EDGE,   6, PTE_V | PTE_R | PTE_W | PTE_AD
    MAP4K   VA_REMAP,  0, PTE_V | PTE_R | PTE_W | PTE_AD
    MAP4K   VA_SPLIT,  8, PTE_V | PTE_R | PTE_W | PTE_AD
    MAP4K   VA_SPLIT2, 7, PTE_V | PTE_R | PTE_W | PTE_AD
    la      a0, root                    # the U snippets, twice
    la      a1, level0
    li      a2, VA_UCODE
    la      a3, ucode
    li      a4, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    jal     vm_map_4k
    li      a2, VA_UCODE_X
    li      a4, PTE_V | PTE_X | PTE_U | PTE_A
    jal     vm_map_4k
    li      a2, VA_NONLEAF0             # a pointer where a leaf must be
    la      a3, level0
    li      a4, PTE_V
    jal     vm_map_4k
    SET_SATP root

    # -- S-mode through the identity megapage and 4 KiB pages.
    CASE 1
    S_OK    VA_S_RW, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 0
    CASE 2
    li      a0, 0x600dcafe
    S_OK    VA_S_RW, sw a0, 4(a1)
    CHECK_WORD frames + 4, 0x600dcafe
    CASE 3
    S_OK    VA_EDGE, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 6
    S_OK    VA_RO, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 4

    # -- A second megapage aliasing RAM.
    CASE 4
    la      t0, frames
    li      t1, VA_ALIAS - RAM_BASE
    add     s0, t0, t1                  # frame 0 seen through the alias
    li      t0, 0x12344321
    S_OK    0, sw t0, 8(s0)
    CHECK_WORD frames + 8, 0x12344321
    S_OK    0, lw a0, 0(s0)
    CHECK_EQ a0, MARK + 0

    # -- A misaligned megapage is a page fault, for loads and stores.
    CASE 5
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_BAD_MEGA + 0x10, VA_BAD_MEGA + 0x10, lw a0, 0(a1)
    CASE 6
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_BAD_MEGA + 0x20, VA_BAD_MEGA + 0x20, sw a0, 0(a1)

    # -- A and D are set by the walk: a load sets A, a store also sets D.
    CASE 7
    la      a0, root
    li      a2, VA_NO_AD
    jal     vm_pte_addr
    mv      s0, a5                      # the 4 KiB leaf
    lw      t0, 0(s0)
    CHECK_FIELD t0, PTE_AD, 0
    S_OK    VA_NO_AD, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 2
    lw      t0, 0(s0)
    CHECK_FIELD t0, PTE_AD, PTE_A
    CASE 8
    S_OK    VA_NO_AD, sw zero, 8(a1)
    lw      t0, 0(s0)
    la      t1, frames + 2 * PAGE_SIZE  # and nothing else changed
    srli    t1, t1, PAGE_SHIFT
    slli    t1, t1, PTE_PPN_SHIFT
    ori     t1, t1, PTE_V | PTE_R | PTE_W | PTE_AD
    CHECK_REG t0, t1

    # ... on a megapage leaf too.
    CASE 9
    la      a0, root
    li      a2, VA_MEGA_NO_AD
    jal     vm_pte_addr
    mv      s0, a5
    S_OK    VA_MEGA_NO_AD, lw a0, 0(a1)
    lw      t0, 0(s0)
    CHECK_FIELD t0, PTE_AD, PTE_A
    la      s1, frames + 12
    li      t0, VA_MEGA_NO_AD - RAM_BASE
    add     s1, s1, t0                  # frame 0 word 3, via this megapage
    S_OK    0, sw zero, 0(s1)
    lw      t0, 0(s0)
    CHECK_FIELD t0, PTE_AD, PTE_AD

    # -- The U bit from S: no access without SUM, loads and stores with it,
    # never an instruction fetch.
    CASE 10
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_U_RW, VA_U_RW, lw a0, 0(a1)
    CASE 11
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_U_RW + 4, VA_U_RW + 4, sw a0, 0(a1)
    CASE 12
    li      t0, MSTATUS_SUM
    csrs    mstatus, t0
    S_OK    VA_U_RW, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 1
    li      a0, 0x0ddba11
    S_OK    VA_U_RW, sw a0, 4(a1)
    CHECK_WORD frames + PAGE_SIZE + 4, 0x0ddba11
    CASE 13
    li      a1, VA_UCODE
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, 2f
2:  jr      a1                          # S fetching from a U page, with SUM
    FAIL
1:  CHECK_WORD mtrap_cause, CAUSE_FETCH_PAGE_FAULT
    CHECK_WORD mtrap_epc, VA_UCODE
    CHECK_MTVAL VA_UCODE
    CHECK_MPP PRV_S
    li      t0, MSTATUS_SUM
    csrc    mstatus, t0

    # -- The U bit from U: U pages only, for data and for instructions.
    CASE 14
    U_OK    VA_U_RW, u_load
    CHECK_EQ a0, MARK + 1
    CASE 15
    U_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_S_RW + 8, VA_S_RW + 8, u_load
    CASE 16
    U_FAULTS CAUSE_STORE_PAGE_FAULT, VA_S_RW, VA_S_RW, u_store
    CASE 17
    EXPECT_TRAP 1f
    GOTO_MODE PRV_U, u_not_here         # identity-mapped, but not a U page
u_not_here:
    FAIL
1:  CHECK_MTRAP CAUSE_FETCH_PAGE_FAULT, u_not_here
    CHECK_MTVAL_ADDR u_not_here
    CHECK_MPP PRV_U

    # -- MXR: execute-only pages become readable, not writable.
    CASE 18
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_X_ONLY, VA_X_ONLY, lw a0, 0(a1)
    CASE 19
    li      t0, MSTATUS_MXR
    csrs    mstatus, t0
    S_OK    VA_X_ONLY, lw a0, 0(a1)
    CHECK_EQ a0, MARK + 3
    CASE 20
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_X_ONLY, VA_X_ONLY, sw a0, 0(a1)
    CASE 21
    U_OK    VA_UCODE_X, u_load          # U reading its own execute-only page
    lw      t0, ucode
    CHECK_REG a0, t0
    li      t0, MSTATUS_MXR
    csrc    mstatus, t0
    CASE 22
    U_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_UCODE_X + 4, VA_UCODE_X + 4, u_load

    # -- Other permission faults.
    CASE 23
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_RO + 4, VA_RO + 4, sw a0, 0(a1)
    CASE 24
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_W_ONLY, VA_W_ONLY, lw a0, 0(a1)
    CASE 25
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_W_ONLY, VA_W_ONLY, sw a0, 0(a1)
    CASE 26
    li      a1, VA_RO + 0x40            # readable, not executable: a fetch
    EXPECT_TRAP 1f                      # fault, with mepc and mtval = target
    GOTO_MODE PRV_S, 2f
2:  jr      a1
    FAIL
1:  CHECK_WORD mtrap_cause, CAUSE_FETCH_PAGE_FAULT
    CHECK_WORD mtrap_epc, VA_RO + 0x40
    CHECK_MTVAL VA_RO + 0x40
    CHECK_MPP PRV_S
    CASE 27
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_HOLE + 0x123, VA_HOLE + 0x123, lb a0, 0(a1)
    CASE 28
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_NO_L1 + 0x44, VA_NO_L1 + 0x44, lw a0, 0(a1)
    CASE 29
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_NONLEAF0, VA_NONLEAF0, lw a0, 0(a1)
    CASE 30
    li      a1, VA_HOLE                 # a fetch fault: mepc and mtval are the
    EXPECT_TRAP 1f                      # target
    GOTO_MODE PRV_S, 2f
2:  jalr    a1
    FAIL
1:  CHECK_WORD mtrap_cause, CAUSE_FETCH_PAGE_FAULT
    CHECK_WORD mtrap_epc, VA_HOLE
    CHECK_MTVAL VA_HOLE

    # -- SFENCE.VMA makes a changed PTE visible.
    CASE 31
    S_OK    VA_REMAP, lw a0, 0(a1)      # (the translation may now be cached)
    CHECK_EQ a0, MARK + 0
    MAP4K   VA_REMAP, 9, PTE_V | PTE_R | PTE_W | PTE_AD
    li      a1, VA_REMAP
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, 2f
2:  sfence.vma a1, zero                 # this page only
    lw      a0, 0(a1)
    ecall
1:  CHECK_WORD mtrap_cause, CAUSE_SUPERVISOR_ECALL
    CHECK_EQ a0, MARK + 9
    MAP4K   VA_REMAP, 1, PTE_V | PTE_R | PTE_W | PTE_AD
    li      a1, VA_REMAP
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, 2f
2:  sfence.vma                          # everything
    lw      a0, 0(a1)
    ecall
1:  CHECK_WORD mtrap_cause, CAUSE_SUPERVISOR_ECALL
    CHECK_EQ a0, MARK + 1

    # -- Page faults delegated to S: scause, sepc, stval.
    CASE 32
    li      t0, (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT) | (1 << CAUSE_FETCH_PAGE_FAULT)
    csrw    medeleg, t0
    li      a1, VA_HOLE + 8
    EXPECT_STRAP 3f
    EXPECT_TRAP 1f
    GOTO_MODE PRV_S, 2f
2:  sw      zero, 0(a1)
    FAIL
3:  CHECK_STRAP CAUSE_STORE_PAGE_FAULT, 2b
    CHECK_STVAL VA_HOLE + 8
    lw      t0, strap_status
    CHECK_FIELD t0, MSTATUS_SPP, MSTATUS_SPP
    ecall
1:  CHECK_WORD mtrap_cause, CAUSE_SUPERVISOR_ECALL
    csrw    medeleg, zero

    # -- Misaligned accesses under translation (emu performs them, QEMU
    # too). Within one page:
    CASE 33
    S_OK    VA_EDGE + 2, lw a0, 0(a1)
    CHECK_EQ a0, 0x0b0a5ca1             # bytes a1 5c | 0a 0b of frame 6
    # Across two mapped pages, each translated on its own: the frames are
    # not adjacent (VA_SPLIT -> 8, VA_SPLIT2 -> 7).
    CASE 34
    S_OK    VA_SPLIT2 - 2, lw a0, 0(a1)
    CHECK_EQ a0, 0xab07ddcc             # dd cc from frame 8, 07 ab from frame 7
    CASE 35
    li      a0, 0x44332211
    S_OK    VA_SPLIT2 - 2, sw a0, 0(a1)
    lhu     t0, frames + 8 * PAGE_SIZE + PAGE_SIZE - 2
    CHECK_EQ t0, 0x2211
    lhu     t0, frames + 7 * PAGE_SIZE
    CHECK_EQ t0, 0x4433
    # Into an unmapped page: the fault names the first byte of that page.
    CASE 36
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_HOLE - 2, VA_HOLE, lw a0, 0(a1)
    CASE 37
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_HOLE - 1, VA_HOLE, lh a0, 0(a1)
    CASE 38
    S_FAULTS CAUSE_STORE_PAGE_FAULT, VA_HOLE - 3, VA_HOLE, sw a0, 0(a1)
    # Out of an unmapped page: the access's own address.
    CASE 39
    S_FAULTS CAUSE_LOAD_PAGE_FAULT, VA_REMAP - 2, VA_REMAP - 2, lw a0, 0(a1)

    csrw    satp, zero
    PASS

# The U-mode snippets: one page, mapped at VA_UCODE (and VA_UCODE_X). Each
# takes its address in a1 and ends with an ECALL back to M.
    .balign PAGE_SIZE
ucode:
u_load:
    lw      a0, 0(a1)
    ecall
u_store:
    sw      a0, 0(a1)
    ecall
    .balign PAGE_SIZE

    .bss
    .balign PAGE_SIZE
root:   .skip PAGE_SIZE
level0: .skip PAGE_SIZE
frames: .skip NFRAMES * PAGE_SIZE
