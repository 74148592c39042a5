# many.S: more mappings than a hypervisor's shadow pool holds.
#
# A shadow table needs a second-level table for every 4 MiB region the guest
# touches in 4 KiB pages, and the pool of frames for them is bounded (64 pages
# a guest by default: Hypervisor.shadow_pages). This kernel points REGIONS
# root entries at one table of its own, and touches a page in each region,
# twice over; then it maps PAGES pages of its RAM one by one in another
# region, writes each and reads them all back. The shadow must drop
# everything when the pool is full and go on, with the right answers.
#     emu run --boot s guests/many.S

    .include "sbi.inc"
    .include "paging.inc"

    .equ REGIONS, 200               # 4 MiB regions at 0x00800000, 0x00c00000...
    .equ FIRST_REGION, 2
    .equ PAGES, 1024                # 4 KiB pages at 0x60000000...
    .equ PAGES_VA, 0x60000000
    .equ PAGES_PA, 0x80400000       # ...onto this 4 MiB of RAM
    .equ DATA, PTE_R | PTE_W | PTE_A | PTE_D

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    SAY     "many: 200 regions of 4 MiB, then 1024 pages in one"

    call    map_kernel
    # Region FIRST_REGION's table maps its pages 0..7 to page0..page7; every
    # other region's root entry points to the same table.
    li      s0, FIRST_REGION << MEGAPAGE_SHIFT
    li      s1, 0
    la      s2, page0
1:  slli    a0, s1, PAGE_SHIFT
    add     a0, a0, s0
    srli    a1, s2, PAGE_SHIFT
    li      a2, DATA
    call    map_page
    li      t0, PAGE_SIZE
    add     s2, s2, t0
    addi    s1, s1, 1
    li      t0, 8
    bltu    s1, t0, 1b
    la      t0, root
    lw      t1, FIRST_REGION * 4(t0)
    li      t2, 1
2:  addi    t0, t0, 4
    sw      t1, FIRST_REGION * 4(t0)
    addi    t2, t2, 1
    li      t3, REGIONS
    bltu    t2, t3, 2b
    # PAGES pages at PAGES_VA onto PAGES_PA, one by one.
    li      s1, 0
3:  slli    a0, s1, PAGE_SHIFT
    li      t0, PAGES_VA
    add     a0, a0, t0
    li      a1, PAGES_PA >> PAGE_SHIFT
    add     a1, a1, s1
    li      a2, DATA
    call    map_page
    addi    s1, s1, 1
    li      t0, PAGES
    bltu    s1, t0, 3b
    call    paging_on

    call    touch_regions
    call    touch_regions
    call    touch_pages

    SAY     "many: done"
    li      a0, SRST_REASON_NONE
    call    shutdown

# touch_regions: in region i, page i % 8: read its tag, write i after it.
# Prints the sum of the tags read.
touch_regions:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    li      t0, 0                   # i
    li      t1, 0                   # sum
1:  addi    t2, t0, FIRST_REGION
    slli    t2, t2, MEGAPAGE_SHIFT
    andi    t3, t0, 7
    slli    t3, t3, PAGE_SHIFT
    add     t2, t2, t3
    lw      t3, TAG_OFFSET(t2)
    add     t1, t1, t3
    srli    t3, t0, 3
    slli    t3, t3, 2
    add     t3, t3, t2
    sw      t0, 8(t3)
    addi    t0, t0, 1
    li      t3, REGIONS
    bltu    t0, t3, 1b
    mv      s0, t1
    SAY_HEX "many: the tags of 200 regions add up to", s0
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# touch_pages: write each page's number into it, then read them all back and
# print their sum.
touch_pages:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    li      t0, 0
    li      t1, PAGES_VA
1:  slli    t2, t0, PAGE_SHIFT
    add     t2, t2, t1
    sw      t0, 0(t2)
    addi    t0, t0, 1
    li      t3, PAGES
    bltu    t0, t3, 1b
    li      t0, 0
    li      t4, 0
2:  slli    t2, t0, PAGE_SHIFT
    add     t2, t2, t1
    lw      t3, 0(t2)
    add     t4, t4, t3
    addi    t0, t0, 1
    li      t3, PAGES
    bltu    t0, t3, 2b
    mv      s0, t4
    SAY_HEX "many: the numbers in 1024 pages add up to", s0
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
