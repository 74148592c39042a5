# remap.S: a kernel changes its page table, fences, and must see the change
# (privileged spec 4.2.1: after SFENCE.VMA, no translation older than the
# fence is used; a satp write switches to another table).
#
# Every line reads through a mapping the kernel has just changed, after the
# fence the spec asks for: SFENCE.VMA with the address for a leaf, without one
# for a pointer, a satp write for another table. The page was used before the
# change, in every context that can use it (S with SUM, S with SUM and MXR,
# U), and the access just before the change was in the same context as the
# one after, so that an old translation is still at hand: in the shadow
# tables of each context, and in the real hart's TLB. Under a hypervisor, each
# line is a stale mapping that SFENCE.VMA (flush_address, flush) must have
# dropped.
#     emu run --boot s guests/remap.S

    .include "sbi.inc"
    .include "paging.inc"

    .equ WIN, 0x40000000            # page 0: a user page; page 1: the kernel's
    .equ KPAGE, 0x40001000
    .equ MEGA_VA, 0x40400000
    .equ USER, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    .equ KERNEL, PTE_R | PTE_W | PTE_A | PTE_D

# REMAP va, label, flags: point va's leaf at the page at label.
.macro REMAP va, label, flags
    LEAF    \va, \label, \flags
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "remap: page table changes, fences, and stale mappings"
    POKE    0x80401004, 0x4d454741  # "AGEM": what the megapage first maps
    POKE    0x80801004, 0x4d454742  # "BGEM": what it maps after the change

    call    map_kernel
    call    map_user
    LEAF    WIN, page0, USER
    LEAF    KPAGE, page4, KERNEL
    MEGA    MEGA_VA, 0x80400, KERNEL
    call    paging_on

    SAY     "0x40000000 -> page 0, used in S (SUM), U, and S (SUM) again"
    SSTATUS_SET SSTATUS_SUM
    TRY     LW,   WIN + 4, "page 0"
    UTRY    LW,   WIN + 4, "page 0"
    TRY     LW,   WIN + 4, "page 0"

    REMAP   WIN, page1, USER
    li      t0, WIN
    sfence.vma t0
    SAY     "0x40000000 -> page 1, sfence.vma 0x40000000"
    TRY     LW,   WIN + 4, "page 1"
    UTRY    LW,   WIN + 4, "page 1"
    SSTATUS_SET SSTATUS_MXR
    TRY     LW,   WIN + 4, "page 1, MXR = 1"

    REMAP   WIN, page2, USER
    li      t0, WIN
    sfence.vma t0
    SAY     "0x40000000 -> page 2, sfence.vma 0x40000000"
    TRY     LW,   WIN + 4, "page 2, MXR = 1"
    SSTATUS_CLEAR SSTATUS_MXR
    TRY     LW,   WIN + 4, "page 2"
    UTRY    LW,   WIN + 4, "page 2"

    SAY     "0x40001000 -> page 4 (a kernel page), used with SUM = 0"
    SSTATUS_CLEAR SSTATUS_SUM
    TRY     LW,   KPAGE + 4, "page 4"
    TRY     SW,   KPAGE + 8, "page 4"
    REMAP   KPAGE, page5, KERNEL
    li      t0, KPAGE
    sfence.vma t0
    SAY     "0x40001000 -> page 5, sfence.vma 0x40001000"
    TRY     LW,   KPAGE + 4, "page 5"
    TRY     LW,   KPAGE + 8, "page 5"

    REMAP   KPAGE, page6, KERNEL
    REMAP   WIN, page3, USER
    sfence.vma
    SAY     "0x40001000 -> page 6, 0x40000000 -> page 3, sfence.vma"
    TRY     LW,   KPAGE + 4, "page 6"
    SSTATUS_SET SSTATUS_SUM
    TRY     LW,   WIN + 4, "page 3"
    UTRY    LW,   WIN + 4, "page 3"

    SAY     "0x40000000 becomes a kernel page (U = 0), sfence.vma 0x40000000"
    REMAP   WIN, page3, KERNEL
    li      t0, WIN
    sfence.vma t0
    UTRY    LW,   WIN + 4, "page 3, not U"
    TRY     LW,   WIN + 4, "page 3, not U"
    SSTATUS_CLEAR SSTATUS_SUM
    TRY     SW,   WIN + 8, "page 3, not U"
    SSTATUS_SET SSTATUS_SUM
    REMAP   WIN, page3, USER
    li      t0, WIN
    sfence.vma t0

    SAY     "megapage 0x40400000 -> 0x80400000, then -> 0x80800000, sfence.vma 0x40402000"
    TRY     LW,   MEGA_VA + 0x1004, "the first"
    MEGA    MEGA_VA, 0x80800, KERNEL
    li      t0, MEGA_VA + 0x2000
    sfence.vma t0
    TRY     LW,   MEGA_VA + 0x1004, "the second"

    SAY     "the 4 MiB at 0x40000000 become a megapage -> 0x80800000, sfence.vma"
    UTRY    LW,   WIN + 4, "page 3"
    la      t0, root
    lw      s1, (WIN >> MEGAPAGE_SHIFT) * 4(t0)     # keep the pointer
    MEGA    WIN, 0x80800, USER
    sfence.vma
    TRY     LW,   WIN + 0x1004, "the megapage"
    UTRY    LW,   WIN + 0x1004, "the megapage"
    la      t0, root
    sw      s1, (WIN >> MEGAPAGE_SHIFT) * 4(t0)
    sfence.vma
    SAY     "...and back to the table, sfence.vma"
    TRY     LW,   WIN + 4, "page 3"
    UTRY    LW,   WIN + 0x1004, "page 6, not U"

    # A second address space: a copy of the root, with 0x40000000's 4 MiB in a
    # copy of its table where page 0 maps page 7.
    la      a0, root2
    la      a1, root
    call    copy_page
    li      a0, WIN
    call    pte_of
    li      t0, ~(PAGE_SIZE - 1)
    and     a1, a0, t0              # the table of 0x40000000's 4 MiB
    la      a0, table2
    call    copy_page
    la      t0, page7
    srli    t0, t0, PAGE_SHIFT
    slli    t0, t0, PTE_PPN_SHIFT
    ori     t0, t0, USER | PTE_V
    sw      t0, table2, t1          # table2[0]: 0x40000000 -> page 7
    la      t0, table2
    srli    t0, t0, PAGE_SHIFT
    slli    t0, t0, PTE_PPN_SHIFT
    ori     t0, t0, PTE_V
    la      t1, root2
    sw      t0, (WIN >> MEGAPAGE_SHIFT) * 4(t1)
    sfence.vma

    SAY     "satp -> a second table where 0x40000000 -> page 7 (no fence)"
    TRY     LW,   WIN + 4, "page 3"
    la      t0, root2
    srli    t0, t0, PAGE_SHIFT
    li      t1, SATP_MODE_SV32
    or      t0, t0, t1
    csrw    satp, t0
    TRY     LW,   WIN + 4, "page 7"
    UTRY    LW,   WIN + 4, "page 7"
    SAY     "satp -> the first table, sfence.vma"
    la      t0, root
    srli    t0, t0, PAGE_SHIFT
    li      t1, SATP_MODE_SV32
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
    TRY     LW,   WIN + 4, "page 3"
    UTRY    LW,   WIN + 4, "page 3"

    SAY     "remap: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

# copy_page: a0 = destination, a1 = source; 4 KiB.
copy_page:
    li      t0, PAGE_SIZE
    add     t0, a0, t0
1:  lw      t1, 0(a1)
    sw      t1, 0(a0)
    addi    a0, a0, 4
    addi    a1, a1, 4
    bne     a0, t0, 1b
    ret

    .bss
    .balign PAGE_SIZE
root2:          .zero PAGE_SIZE
table2:         .zero PAGE_SIZE
    .balign 16
stack:          .zero 4096
stack_top:
