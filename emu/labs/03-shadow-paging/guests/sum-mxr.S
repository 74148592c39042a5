# sum-mxr.S: who may touch a page: its U bit, sstatus.SUM and MXR (privileged
# spec 4.3.2 step 5 and 4.1.1).
#
#   - U-mode may use only U pages; S-mode may use U pages only with SUM = 1,
#     and may never execute them;
#   - a load may read an execute-only page when MXR = 1;
#   - R, W and X say which kinds of access the page allows.
# The guest kernel and its programs both run in real U-mode under the
# hypervisor, so none of this is the real hart's business: the shadow must
# map each page with the rights of the guest's context, and the guest's walk
# decide the first access. The kernel and U-mode probe the same pages with SUM
# and MXR off and on, in orders that give a wrong shadow its chance: a page
# first mapped for one kind of access must still refuse the others.
#     emu run --boot s guests/sum-mxr.S

    .include "sbi.inc"
    .include "paging.inc"

    .equ U_RW, 0x40000000
    .equ U_RX, 0x40001000
    .equ U_XO, 0x40002000
    .equ U_RO, 0x40003000
    .equ K_RW, 0x40004000
    .equ K_XO, 0x40005000
    .equ K_RX, 0x40006000
    .equ DONE, PTE_A | PTE_D        # A and D set: this guest is about rights

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "sum-mxr: U pages, supervisor pages, SUM and MXR"

    call    map_kernel
    call    map_user
    LEAF    U_RW, page0, PTE_R | PTE_W | PTE_U | DONE
    LEAF    U_RX, page1, PTE_R | PTE_X | PTE_U | DONE
    LEAF    U_XO, page2, PTE_X | PTE_U | DONE
    LEAF    U_RO, page3, PTE_R | PTE_U | DONE
    LEAF    K_RW, page4, PTE_R | PTE_W | DONE
    LEAF    K_XO, page5, PTE_X | DONE
    LEAF    K_RX, page6, PTE_R | PTE_X | DONE
    call    paging_on

    SAY     "the kernel, SUM = 0, MXR = 0"
    TRY     LW,   U_RW + 4, "U R W"
    TRY     SW,   U_RW + 8, "U R W"
    TRY     JALR, U_RX,     "U R X"
    TRY     LW,   K_RW + 4, "R W"
    TRY     SW,   K_RW + 8, "R W"
    TRY     JALR, K_RW,     "R W"
    TRY     JALR, K_XO,     "X"
    TRY     LW,   K_XO + 4, "X"
    TRY     LW,   K_RX + 4, "R X"
    TRY     JALR, K_RX,     "R X"

    SAY     "the kernel, SUM = 1, MXR = 0"
    SSTATUS_SET SSTATUS_SUM
    TRY     LW,   U_RX + 4, "U R X"
    TRY     JALR, U_RX,     "U R X"
    TRY     LW,   U_RW + 4, "U R W"
    TRY     SW,   U_RW + 8, "U R W"
    TRY     LW,   U_XO + 4, "U X"
    TRY     JALR, U_XO,     "U X"
    TRY     LW,   U_RO + 4, "U R"
    TRY     SW,   U_RO + 8, "U R"
    TRY     LW,   K_RW + 4, "R W"
    TRY     LW,   K_XO + 4, "X"

    SAY     "the kernel, SUM = 1, MXR = 1"
    SSTATUS_SET SSTATUS_MXR
    TRY     LW,   U_XO + 4, "U X"
    TRY     JALR, U_XO,     "U X"
    TRY     LW,   K_XO + 4, "X"
    TRY     SW,   K_XO + 8, "X"
    TRY     LW,   U_RW + 4, "U R W"

    SAY     "the kernel, SUM = 0, MXR = 1"
    SSTATUS_CLEAR SSTATUS_SUM
    TRY     LW,   K_XO + 4, "X"
    TRY     JALR, K_XO,     "X"
    TRY     LW,   U_XO + 4, "U X"
    TRY     LW,   U_RW + 4, "U R W"
    SSTATUS_CLEAR SSTATUS_MXR

    SAY     "a program in U-mode, MXR = 0"
    UTRY    LW,   U_RW + 4, "U R W"
    UTRY    SW,   U_RW + 8, "U R W"
    UTRY    JALR, U_RW,     "U R W"
    UTRY    JALR, U_RX,     "U R X"
    UTRY    LW,   U_RX + 4, "U R X"
    UTRY    JALR, U_XO,     "U X"
    UTRY    LW,   U_XO + 4, "U X"
    UTRY    LW,   U_RO + 4, "U R"
    UTRY    SW,   U_RO + 8, "U R"
    UTRY    LW,   K_RW + 4, "R W"
    UTRY    SW,   K_RW + 8, "R W"
    UTRY    JALR, K_RX,     "R X"
    UTRY    LW,   K_RX + 4, "R X"
    UTRY    LW,   0x80000000, "the kernel's megapage"

    SAY     "a program in U-mode, MXR = 1"
    SSTATUS_SET SSTATUS_MXR
    UTRY    LW,   U_XO + 4, "U X"
    UTRY    LW,   K_XO + 4, "X"
    SSTATUS_CLEAR SSTATUS_MXR

    SAY     "a program in U-mode, SUM = 1 (SUM is for S-mode only)"
    SSTATUS_SET SSTATUS_SUM
    UTRY    LW,   K_RW + 4, "R W"
    UTRY    LW,   U_RO + 4, "U R"
    SSTATUS_CLEAR SSTATUS_SUM

    SAY     "sum-mxr: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
