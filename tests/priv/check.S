# check.S: the harness shared by the self-checking privileged tests in tests/priv/.
#
# Each test is one bare M-mode program, in the style of riscv-tests (env/p and
# isa/macros/scalar/test_macros.h), for the privileged spec 1.12 behaviour the
# emulator implements. A test file starts with
#
#       .include "check.S"
#   main:
#       CASE 1                  # gp = 1: the case number, named in the exit status
#       li a0, 7
#       CHECK_EQ a0, 7          # on mismatch the run stops with exit status 1
#       ...
#       PASS                    # exit status 0
#
# and is built by programs/Makefile or tests/gnu.py (GNU as: no C preprocessor,
# so conditionals are .ifdef with --defsym symbols, and macros are .macro).
#
# Conventions
#   gp (x3)   the current case number, set by CASE n (1 to 254, increasing).
#   t5, t6    scratch for the macros: never keep a value there across a macro.
#             Everything else belongs to the test.
#   mscratch  the harness's, as is sscratch: the handlers park t6 there, and
#             each trap leaves it holding the trap frame's address.
#   mtvec     mtrap_entry, direct mode; stvec strap_entry. A test that changes
#             one restores it before anything can trap.
#
# Pass and fail go through the board's test device (a SiFive test finisher, as on
# QEMU's virt machine): PASS stores 0x5555, a failure (case << 16) | 0x3333, so
# the exit status of `emu run` (and of QEMU) is 0 or the failing case number. A
# failure first prints "FAIL case N: found X expected Y" on the UART (for an
# unexpected trap, X is mcause and Y mepc); a passing test prints nothing.
#
# Expected traps. EXPECT_TRAP label arms the M-mode handler for one trap: it
# records mcause, mepc, mtval and mstatus in the trap record, then resumes at
# label in M-mode, with MPRV and mstatus.MIE cleared (so a still-pending interrupt
# does not fire again and M-mode accesses are untranslated). The test then checks
# the record with CHECK_MTRAP and friends. EXPECT_STRAP label does the same for
# traps delegated to S-mode: the S handler records scause, sepc, stval and
# sstatus, and resumes at label in S-mode with SIE cleared. A trap that arrives
# while its handler is not armed fails the current case. The handlers preserve
# every register, so a test can check that a trapping instruction left rd alone.
#
# Failing from any mode. A failed check may run in S- or U-mode, perhaps with
# translation on and the test device unmapped, so it does not store to the device
# itself: it executes the ECALL at check_fail. The M handler (directly, or via the
# S handler when U ecalls are delegated) recognises that pc and reports from
# M-mode, where the device is always reachable. Tests never set medeleg bit 9, so
# an S-mode ECALL always reaches M.
#
# QEMU. The tests also run on QEMU's virt machine as a second opinion
# (`make -C programs qemu-check`: qemu-system-riscv32 -M virt -bios none, with
# -cpu rv32,c=off,f=off,d=off,h=off so that its ISA is emu's). Checks where
# QEMU 7.2 rightly or wrongly differs from emu's rules (exact counters and
# mtime, ID and WARL values, EBREAK's mtval, a few QEMU 7.2 deviations from the
# spec named where they occur) sit inside `.ifndef QEMU`; the QEMU build
# passes --defsym QEMU=1. Before anything drops to S or U, _start opens PMP
# entry 0 to all of memory (as OpenSBI does): emu's reset state already does
# (as Spike's), QEMU's does not.

# ---------------------------------------------------------------------------
# Names (privileged spec 1.12, tables 3.6 and 4.2; sections 3.1.6, 3.1.9, 4.3.1)
# ---------------------------------------------------------------------------

    .equ CAUSE_MISALIGNED_FETCH,    0
    .equ CAUSE_FETCH_ACCESS,        1
    .equ CAUSE_ILLEGAL_INSTRUCTION, 2
    .equ CAUSE_BREAKPOINT,          3
    .equ CAUSE_MISALIGNED_LOAD,     4
    .equ CAUSE_LOAD_ACCESS,         5
    .equ CAUSE_MISALIGNED_STORE,    6
    .equ CAUSE_STORE_ACCESS,        7
    .equ CAUSE_USER_ECALL,          8
    .equ CAUSE_SUPERVISOR_ECALL,    9
    .equ CAUSE_MACHINE_ECALL,       11
    .equ CAUSE_FETCH_PAGE_FAULT,    12
    .equ CAUSE_LOAD_PAGE_FAULT,     13
    .equ CAUSE_STORE_PAGE_FAULT,    15

    .equ CAUSE_INTERRUPT,           0x80000000
    .equ IRQ_S_SOFT,                1
    .equ IRQ_M_SOFT,                3
    .equ IRQ_S_TIMER,               5
    .equ IRQ_M_TIMER,               7
    .equ IRQ_S_EXT,                 9
    .equ IRQ_M_EXT,                 11
    .equ MIP_SSIP,                  (1 << IRQ_S_SOFT)
    .equ MIP_MSIP,                  (1 << IRQ_M_SOFT)
    .equ MIP_STIP,                  (1 << IRQ_S_TIMER)
    .equ MIP_MTIP,                  (1 << IRQ_M_TIMER)
    .equ MIP_SEIP,                  (1 << IRQ_S_EXT)
    .equ MIP_MEIP,                  (1 << IRQ_M_EXT)

    .equ PRV_U,                     0
    .equ PRV_S,                     1
    .equ PRV_M,                     3

    .equ MSTATUS_SIE,               (1 << 1)
    .equ MSTATUS_MIE,               (1 << 3)
    .equ MSTATUS_SPIE,              (1 << 5)
    .equ MSTATUS_MPIE,              (1 << 7)
    .equ MSTATUS_SPP,               (1 << 8)
    .equ MSTATUS_MPP_SHIFT,         11
    .equ MSTATUS_MPP,               (3 << MSTATUS_MPP_SHIFT)
    .equ MSTATUS_MPRV,              (1 << 17)
    .equ MSTATUS_SUM,               (1 << 18)
    .equ MSTATUS_MXR,               (1 << 19)
    .equ MSTATUS_TVM,               (1 << 20)
    .equ MSTATUS_TW,                (1 << 21)
    .equ MSTATUS_TSR,               (1 << 22)

    .equ MTVEC_VECTORED,            1

    .equ SATP_MODE_SV32,            0x80000000
    .equ PAGE_SHIFT,                12
    .equ PAGE_SIZE,                 (1 << PAGE_SHIFT)
    .equ MEGAPAGE_SHIFT,            22
    .equ MEGAPAGE_SIZE,             (1 << MEGAPAGE_SHIFT)
    .equ PTE_PPN_SHIFT,             10
    .equ PTE_V,                     (1 << 0)
    .equ PTE_R,                     (1 << 1)
    .equ PTE_W,                     (1 << 2)
    .equ PTE_X,                     (1 << 3)
    .equ PTE_U,                     (1 << 4)
    .equ PTE_G,                     (1 << 5)
    .equ PTE_A,                     (1 << 6)
    .equ PTE_D,                     (1 << 7)

    # The board (DESIGN.md; the same addresses as QEMU's virt machine).
    .equ TEST_BASE,                 0x00100000
    .equ TEST_PASS,                 0x5555
    .equ TEST_FAIL,                 0x3333
    .equ TEST_CODE_SHIFT,           16
    .equ CLINT_BASE,                0x02000000
    .equ CLINT_MSIP,                0x0000
    .equ CLINT_MTIMECMP,            0x4000
    .equ CLINT_MTIME,               0xBFF8
    # Whole addresses: the offsets above do not fit a load/store immediate.
    .equ MSIP_ADDR,                 CLINT_BASE + CLINT_MSIP
    .equ MTIMECMP_ADDR,             CLINT_BASE + CLINT_MTIMECMP
    .equ MTIME_ADDR,                CLINT_BASE + CLINT_MTIME
    .equ UART_BASE,                 0x10000000
    .equ RAM_BASE,                  0x80000000

    # PMP entry 0 as NAPOT over the whole address space, read/write/execute
    # (privileged spec 3.7.1: pmpaddr all ones is the largest NAPOT range).
    .equ PMP_ALL_ADDR,              0xFFFFFFFF
    .equ PMP_R,                     (1 << 0)
    .equ PMP_W,                     (1 << 1)
    .equ PMP_X,                     (1 << 2)
    .equ PMP_NAPOT,                 (3 << 3)
    .equ PMP_ALL_CFG,               (PMP_NAPOT | PMP_X | PMP_W | PMP_R)

    .equ CASE_OUTSIDE,              255     # a failure before the first CASE
    .equ SENTINEL,                  0x5a5a0001  # a register's value before an
                                                # instruction that must not write it

    # The trap frames (one for M, one for S): where mscratch/sscratch point.
    .equ FRAME_T5,      0       # the test's t5 while the handler runs
    .equ FRAME_RESUME,  4       # where to resume after the next trap; 0: none expected
    .equ FRAME_CAUSE,   8
    .equ FRAME_EPC,     12
    .equ FRAME_TVAL,    16
    .equ FRAME_STATUS,  20      # mstatus (sstatus) as the trap left it
    .equ FRAME_COUNT,   24      # traps taken so far
    .equ FRAME_SIZE,    32

# ---------------------------------------------------------------------------
# Cases and checks
# ---------------------------------------------------------------------------

    .set check_last_case, 0

# CASE n: the checks that follow belong to case n (the failing exit status).
.macro CASE n
    .if (\n) <= check_last_case
    .error "CASE numbers must increase through a file"
    .endif
    .if (\n) >= CASE_OUTSIDE
    .error "CASE numbers must be below 255 (an exit status is one byte)"
    .endif
    .set check_last_case, (\n)
    li      gp, \n
.endm

# CHECK_EQ reg, value: reg (not t6) equals the constant value.
.macro CHECK_EQ reg, value
    li      t6, \value
    beq     \reg, t6, .Lcheck_ok\@
    mv      t5, \reg
    j       check_fail
.Lcheck_ok\@:
.endm

# CHECK_ADDR reg, label: reg (not t6) equals the address label (+ offset).
.macro CHECK_ADDR reg, label
    la      t6, \label
    beq     \reg, t6, .Lcheck_ok\@
    mv      t5, \reg
    j       check_fail
.Lcheck_ok\@:
.endm

# CHECK_REG reg, other: two registers (neither t5 nor t6) are equal.
.macro CHECK_REG reg, other
    beq     \reg, \other, .Lcheck_ok\@
    mv      t5, \reg
    mv      t6, \other
    j       check_fail
.Lcheck_ok\@:
.endm

# CHECK_CSR csr, value: reading csr gives the constant value.
.macro CHECK_CSR csr, value
    csrr    t5, \csr
    CHECK_EQ t5, \value
.endm

# CHECK_WORD label, value: the word in memory at label equals value.
.macro CHECK_WORD label, value
    lw      t5, \label
    CHECK_EQ t5, \value
.endm

# CHECK_FIELD reg, mask, value: (reg & mask) == value.
.macro CHECK_FIELD reg, mask, value
    li      t6, \mask
    and     t5, \reg, t6
    CHECK_EQ t5, \value
.endm

# FAIL: fail the current case unconditionally (code that must not be reached).
.macro FAIL
    li      t5, 0
    li      t6, 0
    j       check_fail
.endm

# PASS: every check held; stop with exit status 0.
.macro PASS
    j       check_pass
.endm

# ---------------------------------------------------------------------------
# Traps
# ---------------------------------------------------------------------------

# EXPECT_TRAP label: the next trap taken in M-mode resumes at label, in M-mode.
.macro EXPECT_TRAP label
    la      t5, \label
    la      t6, mtrap_frame
    sw      t5, FRAME_RESUME(t6)
.endm

# EXPECT_STRAP label: the next trap taken in S-mode resumes at label, in S-mode.
.macro EXPECT_STRAP label
    la      t5, \label
    la      t6, strap_frame
    sw      t5, FRAME_RESUME(t6)
.endm

# CHECK_MTRAP cause, epc: the last M-mode trap had this mcause and mepc (a label).
.macro CHECK_MTRAP cause, epc
    CHECK_WORD mtrap_cause, \cause
    lw      t5, mtrap_epc
    CHECK_ADDR t5, \epc
.endm

# CHECK_MTVAL value / CHECK_MTVAL_ADDR label: the last M-mode trap's mtval.
.macro CHECK_MTVAL value
    CHECK_WORD mtrap_tval, \value
.endm
.macro CHECK_MTVAL_ADDR label
    lw      t5, mtrap_tval
    CHECK_ADDR t5, \label
.endm

# CHECK_MPP prv: the last M-mode trap came from privilege prv (mstatus.MPP).
.macro CHECK_MPP prv
    lw      t5, mtrap_status
    CHECK_FIELD t5, MSTATUS_MPP, ((\prv) << MSTATUS_MPP_SHIFT)
.endm

# The same for the S-mode trap record.
.macro CHECK_STRAP cause, epc
    CHECK_WORD strap_cause, \cause
    lw      t5, strap_epc
    CHECK_ADDR t5, \epc
.endm
.macro CHECK_STVAL value
    CHECK_WORD strap_tval, \value
.endm
.macro CHECK_STVAL_ADDR label
    lw      t5, strap_tval
    CHECK_ADDR t5, \label
.endm

# CHECK_MTRAP_COUNT n / CHECK_STRAP_COUNT n: traps taken so far by each handler.
.macro CHECK_MTRAP_COUNT n
    CHECK_WORD mtrap_count, \n
.endm
.macro CHECK_STRAP_COUNT n
    CHECK_WORD strap_count, \n
.endm

# ---------------------------------------------------------------------------
# Privilege changes
# ---------------------------------------------------------------------------

# GOTO_MODE prv, label: from M-mode, continue at label in privilege prv (MRET).
# mstatus.MPIE is left as it is: it becomes MIE, which matters only for prv = M.
.macro GOTO_MODE prv, label
    li      t5, MSTATUS_MPP
    csrc    mstatus, t5
    li      t5, ((\prv) << MSTATUS_MPP_SHIFT)
    csrs    mstatus, t5
    la      t5, \label
    csrw    mepc, t5
    mret
.endm

# SGOTO_MODE prv, label: from S-mode, continue at label in prv (U or S; SRET).
.macro SGOTO_MODE prv, label
    li      t5, MSTATUS_SPP
    csrc    sstatus, t5
    .if (\prv) == PRV_S
    csrs    sstatus, t5
    .endif
    la      t5, \label
    csrw    sepc, t5
    sret
.endm

# ---------------------------------------------------------------------------
# Sv32 helpers (privileged spec 4.3). Page tables are built at run time: a PTE
# holds a shifted physical address, which no relocation can express.
#
#   31        22 21        12 11          0      a virtual address
#   |   VPN[1]   |   VPN[0]   |   offset   |
#   root[VPN[1]] -> a leaf (4 MiB megapage) or the level-0 table,
#   level0[VPN[0]] -> a 4 KiB leaf. PTE = PPN << 10 | D A G U X W R V.
#
# Subroutines (call with jal ra; they clobber t0 and t1, and vm_map_mega a3,
# vm_mark_frames a0-a2):
#   vm_map_4k    a0 root, a1 level-0 table, a2 va, a3 pa, a4 PTE flags:
#                root[VPN1(va)] points to the level-0 table, which maps va to pa.
#   vm_map_mega  a0 root, a2 va, a3 pa, a4 flags: a leaf at level 1.
#   vm_set_l1    a0 root, a2 va, a3 raw PTE: root[VPN1(va)] = a3, as it is.
#   vm_pte_addr  a0 root, a2 va -> a5 = the address of the PTE that maps va
#                (the level-1 entry if it is a leaf, else the level-0 entry).
#   vm_mark_frames  a0 first frame, a1 mark, a2 count: word 0 of frame i is
#                set to mark + i, so a load shows which frame it reached.
# ---------------------------------------------------------------------------

    .equ VPN_BITS,      10
    .equ VPN_MASK,      (1 << VPN_BITS) - 1
    .equ PTE_SIZE_LOG2, 2
    .equ PTE_LEAF,      (PTE_R | PTE_W | PTE_X)

# MAP4K va, frame, flags: map va to frame number `frame` through the test's own
# page tables, which by convention are the page-aligned symbols root, level0
# (one level-0 table: all the test's 4 KiB pages share VPN[1]) and frames.
.macro MAP4K va, frame, flags
    la      a0, root
    la      a1, level0
    li      a2, \va
    la      a3, frames + (\frame) * PAGE_SIZE
    li      a4, \flags
    jal     vm_map_4k
.endm

# SET_SATP root: satp = Sv32 with the given root table, then flush.
.macro SET_SATP root
    la      t5, \root
    srli    t5, t5, PAGE_SHIFT
    li      t6, SATP_MODE_SV32
    or      t5, t5, t6
    csrw    satp, t5
    sfence.vma
.endm

    .text
vm_map_4k:
    srli    t0, a2, MEGAPAGE_SHIFT
    slli    t0, t0, PTE_SIZE_LOG2
    add     t0, a0, t0                  # &root[VPN1]
    srli    t1, a1, PAGE_SHIFT
    slli    t1, t1, PTE_PPN_SHIFT
    ori     t1, t1, PTE_V               # V alone: a pointer to the next level
    sw      t1, 0(t0)
    srli    t0, a2, PAGE_SHIFT
    andi    t0, t0, VPN_MASK
    slli    t0, t0, PTE_SIZE_LOG2
    add     t0, a1, t0                  # &level0[VPN0]
    srli    t1, a3, PAGE_SHIFT
    slli    t1, t1, PTE_PPN_SHIFT
    or      t1, t1, a4
    sw      t1, 0(t0)
    ret

vm_map_mega:
    srli    t1, a3, PAGE_SHIFT
    slli    t1, t1, PTE_PPN_SHIFT
    or      t1, t1, a4
    mv      a3, t1
    # fall through: store it as the level-1 entry
vm_set_l1:
    srli    t0, a2, MEGAPAGE_SHIFT
    slli    t0, t0, PTE_SIZE_LOG2
    add     t0, a0, t0
    sw      a3, 0(t0)
    ret

vm_pte_addr:
    srli    t0, a2, MEGAPAGE_SHIFT
    slli    t0, t0, PTE_SIZE_LOG2
    add     a5, a0, t0                  # &root[VPN1]
    lw      t1, 0(a5)
    andi    t0, t1, PTE_LEAF
    bnez    t0, 1f                      # a megapage: that is the leaf
    srli    t1, t1, PTE_PPN_SHIFT
    slli    t1, t1, PAGE_SHIFT          # the level-0 table
    srli    t0, a2, PAGE_SHIFT
    andi    t0, t0, VPN_MASK
    slli    t0, t0, PTE_SIZE_LOG2
    add     a5, t1, t0
1:  ret

vm_mark_frames:
    li      t1, PAGE_SIZE
1:  sw      a1, 0(a0)
    addi    a1, a1, 1
    add     a0, a0, t1
    addi    a2, a2, -1
    bnez    a2, 1b
    ret

# ---------------------------------------------------------------------------
# Code: _start, the handlers, pass and fail
# ---------------------------------------------------------------------------

    .section .text.init
    .globl _start
_start:
    # QEMU enters with a0/a1 set by its reset stub; emu with all zero. Start
    # from the same state on both.
    li      gp, 0
    la      t0, mtrap_entry
    csrw    mtvec, t0
    la      t0, mtrap_frame
    csrw    mscratch, t0
    la      t0, strap_entry
    csrw    stvec, t0
    la      t0, strap_frame
    csrw    sscratch, t0
    csrw    medeleg, zero
    csrw    mideleg, zero
    csrw    mie, zero
    csrw    mip, zero
    csrw    satp, zero
    # No timer interrupt until a test asks for one: mtimecmp as far away as it
    # goes (its reset value is not architectural), and no software interrupt.
    li      t0, MTIMECMP_ADDR
    li      t1, -1
    sw      t1, 4(t0)
    sw      t1, 0(t0)
    li      t0, MSIP_ADDR
    sw      zero, 0(t0)
    li      t0, PMP_ALL_ADDR
    csrw    pmpaddr0, t0
    li      t0, PMP_ALL_CFG
    csrw    pmpcfg0, t0
    li      t0, 0
    j       main

    .text

# The M-mode trap handler. It needs t5 and t6 and gives both back: the test's t6
# waits in mscratch, and mscratch holds the frame address again on the way out.
    .balign 4
    .globl mtrap_entry
mtrap_entry:
    csrrw   t6, mscratch, t6            # park the test's t6
    la      t6, mtrap_frame
    sw      t5, FRAME_T5(t6)
    csrr    t5, mepc
    sw      t5, FRAME_EPC(t6)
    la      t6, check_fail              # a failed check asks M-mode to report it
    beq     t5, t6, mtrap_report_fail
    la      t6, mtrap_frame
    csrr    t5, mcause
    sw      t5, FRAME_CAUSE(t6)
    csrr    t5, mtval
    sw      t5, FRAME_TVAL(t6)
    csrr    t5, mstatus
    sw      t5, FRAME_STATUS(t6)
    lw      t5, FRAME_COUNT(t6)
    addi    t5, t5, 1
    sw      t5, FRAME_COUNT(t6)
    lw      t5, FRAME_RESUME(t6)
    beqz    t5, mtrap_unexpected
    sw      zero, FRAME_RESUME(t6)      # armed for one trap only
    csrw    mepc, t5
    li      t5, MSTATUS_MPP             # resume in M-mode ...
    csrs    mstatus, t5
    # ... with MIE off after MRET (a pending interrupt would fire again at once)
    # and MPRV off (MRET to M keeps MPRV, and MPP becomes U after MRET).
    li      t5, MSTATUS_MPIE | MSTATUS_MPRV
    csrc    mstatus, t5
    lw      t5, FRAME_T5(t6)
    csrrw   t6, mscratch, t6            # the test's t6 back; mscratch = frame
    mret

mtrap_unexpected:
    csrr    t5, mcause
    csrr    t6, mepc
    j       check_report

mtrap_report_fail:
    la      t6, mtrap_frame
    lw      t5, FRAME_T5(t6)            # found
    csrrw   t6, mscratch, t6            # expected
    j       check_report

# The S-mode trap handler, for traps delegated by medeleg/mideleg. The same
# shape with sscratch; S-mode runs with the code and data identity-mapped.
    .balign 4
    .globl strap_entry
strap_entry:
    csrrw   t6, sscratch, t6
    la      t6, strap_frame
    sw      t5, FRAME_T5(t6)
    csrr    t5, sepc
    sw      t5, FRAME_EPC(t6)
    la      t6, check_fail              # a failed check from U, delegated here
    beq     t5, t6, strap_escalate
    la      t6, strap_frame
    csrr    t5, scause
    sw      t5, FRAME_CAUSE(t6)
    csrr    t5, stval
    sw      t5, FRAME_TVAL(t6)
    csrr    t5, sstatus
    sw      t5, FRAME_STATUS(t6)
    lw      t5, FRAME_COUNT(t6)
    addi    t5, t5, 1
    sw      t5, FRAME_COUNT(t6)
    lw      t5, FRAME_RESUME(t6)
    beqz    t5, strap_unexpected
    sw      zero, FRAME_RESUME(t6)
    csrw    sepc, t5
    li      t5, MSTATUS_SPP             # resume in S-mode with SIE off
    csrs    sstatus, t5
    li      t5, MSTATUS_SPIE
    csrc    sstatus, t5
    lw      t5, FRAME_T5(t6)
    csrrw   t6, sscratch, t6
    sret

strap_unexpected:
    csrr    t5, scause
    csrr    t6, sepc
    j       check_fail                  # from S-mode: the ECALL reaches M

strap_escalate:
    la      t6, strap_frame
    lw      t5, FRAME_T5(t6)
    csrrw   t6, sscratch, t6
    j       check_fail

# A failed check, from any privilege: ECALL up to the M handler, which sees
# mepc == check_fail and reports. t5 = found, t6 = expected, gp = case.
    .balign 4
    .globl check_fail
check_fail:
    ecall
    j       check_fail                  # not reached: the handler reports

# Report from M-mode: print "FAIL case N: found X expected Y" on the UART, then
# stop with exit status N (CASE_OUTSIDE before any case). t5 = found, t6 =
# expected (for an unexpected trap: mcause and mepc).
check_report:
    bnez    gp, 1f
    li      gp, CASE_OUTSIDE
1:  la      a0, msg_case
    jal     s10, report_puts
    mv      a0, gp
    jal     s10, report_hex
    la      a0, msg_found
    jal     s10, report_puts
    mv      a0, t5
    jal     s10, report_hex
    la      a0, msg_expected
    jal     s10, report_puts
    mv      a0, t6
    jal     s10, report_hex
    li      a0, '\n'
    li      a1, UART_BASE
    sb      a0, 0(a1)
    slli    gp, gp, TEST_CODE_SHIFT
    li      t4, TEST_FAIL
    or      gp, gp, t4
    li      t4, TEST_BASE
    sw      gp, 0(t4)
2:  j       2b

# report_puts: a0 = NUL-terminated string. report_hex: a0 as 0x + 8 digits.
# Return through s10; clobber a0-a3. (The UART's THRE is always set on emu and
# QEMU, so no polling: this runs when the test is already lost.)
report_puts:
    li      a1, UART_BASE
1:  lbu     a2, 0(a0)
    beqz    a2, 2f
    sb      a2, 0(a1)
    addi    a0, a0, 1
    j       1b
2:  jr      s10

report_hex:
    li      a1, UART_BASE
    li      a2, '0'
    sb      a2, 0(a1)
    li      a2, 'x'
    sb      a2, 0(a1)
    li      a3, 8                       # digits
1:  srli    a2, a0, 28
    slli    a0, a0, 4
    addi    a2, a2, '0'
    li      t4, '9'
    ble     a2, t4, 2f
    addi    a2, a2, 'a' - '9' - 1
2:  sb      a2, 0(a1)
    addi    a3, a3, -1
    bnez    a3, 1b
    jr      s10

check_pass:
    li      t4, TEST_BASE
    li      gp, TEST_PASS
    sw      gp, 0(t4)
1:  j       1b

# ---------------------------------------------------------------------------
# Data: the trap frames and their records
# ---------------------------------------------------------------------------

    .section .rodata
msg_case:       .asciz "FAIL case "
msg_found:      .asciz ": found "
msg_expected:   .asciz " expected "

    .data
    .balign 16
    .globl mtrap_frame, strap_frame
mtrap_frame:
    .skip FRAME_SIZE
strap_frame:
    .skip FRAME_SIZE

    .equ mtrap_resume,  mtrap_frame + FRAME_RESUME
    .equ mtrap_cause,   mtrap_frame + FRAME_CAUSE
    .equ mtrap_epc,     mtrap_frame + FRAME_EPC
    .equ mtrap_tval,    mtrap_frame + FRAME_TVAL
    .equ mtrap_status,  mtrap_frame + FRAME_STATUS
    .equ mtrap_count,   mtrap_frame + FRAME_COUNT
    .equ strap_resume,  strap_frame + FRAME_RESUME
    .equ strap_cause,   strap_frame + FRAME_CAUSE
    .equ strap_epc,     strap_frame + FRAME_EPC
    .equ strap_tval,    strap_frame + FRAME_TVAL
    .equ strap_status,  strap_frame + FRAME_STATUS
    .equ strap_count,   strap_frame + FRAME_COUNT

    .text
