# megapage.S: 4 MiB megapages (privileged spec 4.3.2 steps 4 to 8), run with
# 6 MiB of RAM:
#     emu run --boot s --mem 6M guests/megapage.S
#     emu hv --mem 6M --hypervisor my_hv.py:MyHypervisor guests/megapage.S
#
# A root entry with R, W or X set is a leaf for 4 MiB: the physical address is
# its page number with va's low 22 bits, and that page number must be 4 MiB
# aligned. With 6 MiB of RAM, the megapage at 0x80400000 is half RAM and half
# nothing: its first 2 MiB work, its last 2 MiB access-fault. A shadow may map a
# guest megapage with one megapage only when all its 4 MiB are the guest's RAM.

    .include "sbi.inc"
    .include "paging.inc"

    .equ RET, 0x00008067            # the instruction `ret`

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "megapage: 4 MiB pages, with 6 MiB of RAM"
    POKE    0x80200000, 0xc0de0001
    POKE    0x80300000, RET
    POKE    0x80500000, 0xc0de0005

    call    map_kernel
    call    map_user
    MEGA    0x40000000, 0x80000, PTE_R | PTE_W | PTE_A | PTE_D             # RAM 0-4 MiB
    MEGA    0x40400000, 0x80400, PTE_R | PTE_W | PTE_A | PTE_D             # RAM 4-6 MiB
    MEGA    0x40800000, 0x80010, PTE_R | PTE_W | PTE_A | PTE_D             # misaligned
    MEGA    0x40c00000, 0x80000, PTE_R | PTE_X | PTE_U | PTE_A | PTE_D     # for U
    MEGA    0x41000000, 0x80000, PTE_X | PTE_A | PTE_D                     # execute-only
    MEGA    0x41400000, 0x80400, PTE_R | PTE_W                             # A, D clear
    call    paging_on

    TRY     LW,   0x40200000, "megapage -> 0x80000000"
    TRY     SW,   0x40200004, "megapage -> 0x80000000"
    TRY     LW,   0x80200004, "the same word, at va = pa"
    TRY     LW,   0x403ffffc, "megapage -> 0x80000000, its last word"
    TRY     LW,   0x40500000, "megapage -> 0x80400000, in RAM"
    TRY     LW,   0x405ffffc, "megapage -> 0x80400000, RAM's last word"
    TRY     LW,   0x40600000, "megapage -> 0x80400000, past RAM"
    TRY     SW,   0x40600000, "megapage -> 0x80400000, past RAM"
    TRY     LW,   0x407ffffc, "megapage -> 0x80400000, past RAM"
    TRY     LW,   0x40500004, "megapage -> 0x80400000, in RAM"
    TRY     LW,   0x40800000, "a megapage whose ppn[0] is not 0"
    TRY     LW,   0x40e00000, "U megapage, SUM = 0"
    SSTATUS_SET SSTATUS_SUM
    TRY     LW,   0x40e00000, "U megapage, SUM = 1"
    TRY     JALR, 0x40f00000, "U megapage, SUM = 1"
    SSTATUS_CLEAR SSTATUS_SUM
    UTRY    LW,   0x40e00000, "U megapage"
    UTRY    JALR, 0x40f00000, "U megapage"
    UTRY    SW,   0x40e00000, "U megapage"
    UTRY    LW,   0x40200000, "a supervisor megapage"
    TRY     JALR, 0x41300000, "execute-only megapage"
    TRY     LW,   0x41200000, "execute-only megapage"
    SSTATUS_SET SSTATUS_MXR
    TRY     LW,   0x41200000, "execute-only megapage, MXR = 1"
    SSTATUS_CLEAR SSTATUS_MXR
    SHOW    0x41400000
    TRY     LW,   0x41500000, "megapage with A and D clear"
    SHOW    0x41400000
    TRY     SW,   0x41500008, "megapage with A and D clear"
    SHOW    0x41400000
    TRY     LW,   0x80500008, "the same word, at va = pa"

    SAY     "megapage: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
