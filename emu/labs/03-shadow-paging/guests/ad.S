# ad.S: the A and D bits of the guest's own PTEs (privileged spec 4.3.2 step 7).
#
# The hardware sets A in a leaf PTE when the page is used and D when it is
# written; an access that faults sets neither; a load never sets D. A kernel
# reads these bits to find the pages worth writing back (D) or keeping (A), so a
# hypervisor must set them exactly when the hardware would, in the guest's own
# table, even though the guest's accesses run through the shadow. The pages
# below start with A and D clear; each line shows a PTE after an access, as
# "DAGUXWRV" flags.
#     emu run --boot s guests/ad.S

    .include "sbi.inc"
    .include "paging.inc"

    .equ WIN, 0x40000000

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "ad: the accessed and dirty bits of the guest's own PTEs"
    POKE    0x80401004, 0xc0de0ad0

    call    map_kernel
    call    map_user
    LEAF    WIN + 0x0000, page0, PTE_R | PTE_W              # loaded
    LEAF    WIN + 0x1000, page1, PTE_R | PTE_W              # stored
    LEAF    WIN + 0x2000, page2, PTE_R | PTE_X              # fetched
    LEAF    WIN + 0x3000, page3, PTE_R | PTE_W              # loaded, then stored
    LEAF    WIN + 0x4000, page4, PTE_R                      # a store faults
    LEAF    WIN + 0x5000, page5, PTE_R | PTE_W | PTE_U      # from U
    LEAF    WIN + 0x6000, page6, PTE_R | PTE_W              # cleared and used again
    LEAF    WIN + 0x7000, page7, PTE_W                      # reserved: faults
    MEGA    0x40400000, 0x80400, PTE_R | PTE_W              # a megapage
    call    paging_on

    SHOW    WIN + 0x0000
    TRY     LW,   WIN + 0x0004, "R W"
    SHOW    WIN + 0x0000
    TRY     LW,   WIN + 0x0004, "R W, again"
    SHOW    WIN + 0x0000
    TRY     SW,   WIN + 0x1008, "R W"
    SHOW    WIN + 0x1000
    TRY     JALR, WIN + 0x2000, "R X"
    SHOW    WIN + 0x2000
    TRY     LW,   WIN + 0x3004, "R W"
    SHOW    WIN + 0x3000
    TRY     SW,   WIN + 0x3008, "R W, read before"
    SHOW    WIN + 0x3000
    TRY     LW,   WIN + 0x300c, "R W, read after"
    SHOW    WIN + 0x3000
    TRY     SW,   WIN + 0x4008, "R"
    SHOW    WIN + 0x4000
    TRY     LW,   WIN + 0x4004, "R"
    SHOW    WIN + 0x4000
    TRY     LW,   WIN + 0x7004, "W without R"
    SHOW    WIN + 0x7000
    TRY     LW,   0x40401004, "a megapage"
    SHOW    0x40400000
    TRY     SW,   0x40401008, "a megapage"
    SHOW    0x40400000

    # From U: a user page, and a user access that faults on a kernel page.
    UTRY    LW,   WIN + 0x5004, "R W U"
    SHOW    WIN + 0x5000
    UTRY    SW,   WIN + 0x5008, "R W U"
    SHOW    WIN + 0x5000
    UTRY    LW,   WIN + 0x6004, "R W, a kernel page"
    SHOW    WIN + 0x6000

    # The kernel clears A and D and fences: the next use sets them again.
    TRY     SW,   WIN + 0x6008, "R W"
    SHOW    WIN + 0x6000
    li      a0, WIN + 0x6000
    call    pte_of
    lw      t0, 0(a0)
    andi    t0, t0, ~(PTE_A | PTE_D)
    sw      t0, 0(a0)
    li      t0, WIN + 0x6000
    sfence.vma t0
    SAY     "ad: cleared A and D of 0x40006000, sfence.vma 0x40006000"
    SHOW    WIN + 0x6000
    TRY     LW,   WIN + 0x6004, "R W"
    SHOW    WIN + 0x6000
    TRY     SW,   WIN + 0x600c, "R W"
    SHOW    WIN + 0x6000

    # The same, by a fence of everything.
    li      a0, WIN + 0x1000
    call    pte_of
    lw      t0, 0(a0)
    andi    t0, t0, ~PTE_D
    sw      t0, 0(a0)
    sfence.vma
    SAY     "ad: cleared D of 0x40001000, sfence.vma"
    TRY     LW,   WIN + 0x1004, "R W"
    SHOW    WIN + 0x1000
    TRY     SW,   WIN + 0x1008, "R W"
    SHOW    WIN + 0x1000

    SAY     "ad: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
