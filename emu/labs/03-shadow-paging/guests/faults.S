# faults.S: the Sv32 walk, fault by fault (privileged spec 4.3.2).
#
# Each probe touches a page for the first time, so under the hypervisor its
# answer comes from the hypervisor's walk of this guest's table (walk in
# my_pager.py): a leaf, a page fault (the table says no) or an access fault (a
# table or page that is not RAM: Sv32 physical addresses have 34 bits, and RAM's
# base + 4 GiB is not RAM). Run it bare to see what the hardware answers:
#     emu run --boot s guests/faults.S

    .include "sbi.inc"
    .include "paging.inc"

    .equ WIN, 0x40000000            # a window of 4 KiB pages

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "faults: the guest's page table walk, fault by fault"
    POKE    0x80401234, 0xc0de1234  # read back through a megapage below

    call    map_kernel
    LEAF    WIN + 0x0000, page0, PTE_R | PTE_W | PTE_A | PTE_D
    li      a0, WIN + 0x0000        # ...made invalid: V = 0, the rest kept
    call    pte_of
    lw      t0, 0(a0)
    andi    t0, t0, ~PTE_V
    sw      t0, 0(a0)
    LEAF    WIN + 0x1000, page4, PTE_W | PTE_A | PTE_D      # W without R: reserved
    LEAF    WIN + 0x2000, page1, PTE_R | PTE_A
    li      a0, WIN + 0x3000        # a pointer at the last level
    li      a1, 0x80000
    li      a2, 0
    call    map_page
    li      a0, WIN + 0x4000        # a page past the guest's 16 MiB
    li      a1, 0x81000
    li      a2, PTE_R | PTE_W | PTE_A | PTE_D
    call    map_page
    LEAF    WIN + 0x5000, page2, PTE_X | PTE_A              # execute-only
    li      a0, WIN + 0x6000        # RAM's base + 4 GiB + 0x1000: 34 bits
    li      a1, 0x180001
    li      a2, PTE_R | PTE_W | PTE_A | PTE_D
    call    map_page
    LEAF    WIN + 0x7000, page3, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    li      a0, WIN + 0x8000        # the page below RAM
    li      a1, 0x7ffff
    li      a2, PTE_R | PTE_A | PTE_D
    call    map_page
    MEGA    0x40400000, 0x80001, PTE_R | PTE_W | PTE_A | PTE_D     # misaligned
    MEGA    0x40800000, 0x81000, PTE_V                  # table past RAM
    MEGA    0x40c00000, 0x180000, PTE_V                 # table at 0x1_80000000
    MEGA    0x41000000, 0x180400, PTE_R | PTE_W | PTE_A | PTE_D    # 0x1_80400000
    MEGA    0x41400000, 0x80400, PTE_R | PTE_W | PTE_A | PTE_D     # RAM
    call    paging_on

    TRY     LW,   WIN + 0x0004, "V = 0"
    TRY     SW,   WIN + 0x0008, "V = 0"
    TRY     LW,   WIN + 0x1004, "W without R (reserved)"
    TRY     SW,   WIN + 0x1008, "W without R (reserved)"
    TRY     LW,   WIN + 0x2004, "R"
    TRY     SW,   WIN + 0x2008, "R"
    TRY     JALR, WIN + 0x2000, "R"
    TRY     LW,   WIN + 0x3004, "a pointer at level 0"
    TRY     LW,   WIN + 0x4004, "R W, pa 0x81000000 past RAM"
    TRY     SW,   WIN + 0x4008, "R W, pa 0x81000000 past RAM"
    TRY     LW,   WIN + 0x5004, "X only"
    TRY     JALR, WIN + 0x5000, "X only"
    TRY     LW,   WIN + 0x6004, "R W, pa 0x1_80001000"
    TRY     SW,   WIN + 0x6008, "R W, pa 0x1_80001000"
    TRY     LW,   WIN + 0x7004, "R W X"
    TRY     SW,   WIN + 0x7008, "R W X"
    TRY     LW,   WIN + 0x7008, "R W X, the word just written"
    TRY     LW,   WIN + 0x7ffc, "R W X, its last word"
    TRY     JALR, WIN + 0x7000, "R W X"
    TRY     LW,   WIN + 0x8ffc, "R, pa 0x7ffffffc below RAM"
    TRY     LW,   WIN + 0x9004, "an empty entry"
    TRY     LW,   0x40401234, "a megapage whose ppn[0] is not 0"
    TRY     LW,   0x40801234, "a table at pa 0x81000000"
    TRY     LW,   0x40c01234, "a table at pa 0x1_80000000"
    TRY     LW,   0x41001234, "a megapage at pa 0x1_80400000"
    TRY     LW,   0x41401234, "a megapage at pa 0x80400000"
    TRY     LW,   0x41801234, "nothing mapped"

    SAY     "faults: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
