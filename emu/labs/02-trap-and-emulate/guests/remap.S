# remap.S: a kernel that changes its page tables, and fences as it must.
#
# One virtual page, WINDOW, is pointed at four physical pages in turn, each
# holding its own word; after each change the kernel runs SFENCE.VMA (section
# 4.2.1) and reads WINDOW through the new mapping. A second page, OTHER,
# never changes. Each line printed is the word read:
#
#   - fenced by address (sfence.vma with rs1 = WINDOW's address, in a
#     register that is not x0): only that page's translation must go;
#   - fenced for all addresses (sfence.vma with rs1 = x0);
#   - a second table, switched to by writing satp: emu's hart drops its
#     whole TLB on every satp write, so the new table's mapping is seen at
#     once (a real kernel would fence as well when it reuses an ASID);
#   - paging turned off and on again.
#
# Under a hypervisor the "translation" that must go is the shadow page table's
# entry built from the old mapping (docs/hypervisor.md section 3).

    .include "sbi.inc"

    .equ WINDOW, 0x40000000
    .equ OTHER,  0x40001000
    .equ LEAF,   PTE_V | PTE_R | PTE_W | PTE_A | PTE_D

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      a0, text_start
    call    sbi_puts

    # Table 1: the kernel's megapage (identity, RWX, not U), and WINDOW and
    # OTHER in a second-level table.
    la      s0, root1
    li      a0, RAM_BASE
    li      a1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    call    make_pte
    li      t0, (RAM_BASE >> MEGAPAGE_SHIFT) * 4
    add     t0, t0, s0
    sw      a0, 0(t0)
    la      a0, table1
    li      a1, PTE_V
    call    make_pte
    sw      a0, (WINDOW >> MEGAPAGE_SHIFT) * 4(s0)
    la      a0, page_a
    call    map_window
    la      a0, page_other
    li      a1, LEAF
    call    make_pte
    la      t0, table1
    sw      a0, 4(t0)               # OTHER: the second page of the window's megapage

    # Table 2: the same, but WINDOW shows page_d.
    la      s1, root2
    li      a0, RAM_BASE
    li      a1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    call    make_pte
    li      t0, (RAM_BASE >> MEGAPAGE_SHIFT) * 4
    add     t0, t0, s1
    sw      a0, 0(t0)
    la      a0, table2
    li      a1, PTE_V
    call    make_pte
    sw      a0, (WINDOW >> MEGAPAGE_SHIFT) * 4(s1)
    la      a0, page_d
    li      a1, LEAF
    call    make_pte
    la      t0, table2
    sw      a0, 0(t0)
    la      a0, page_other
    li      a1, LEAF
    call    make_pte
    la      t0, table2
    sw      a0, 4(t0)

    srli    s0, s0, PAGE_SHIFT      # s0, s1 = satp for each table
    li      t0, SATP_MODE_SV32
    or      s0, s0, t0
    srli    s1, s1, PAGE_SHIFT
    or      s1, s1, t0

    csrw    satp, s0
    sfence.vma
    call    show                    # page A

    la      a0, page_b
    call    map_window
    li      t3, WINDOW
    sfence.vma t3                   # this address only
    call    show                    # page B

    la      a0, page_c
    call    map_window
    sfence.vma                      # every address
    call    show                    # page C

    csrw    satp, s1                # table 2
    call    show                    # page D
    csrw    satp, s0                # table 1 again
    call    show                    # page C

    la      a0, page_a
    call    map_window
    csrw    satp, zero              # paging off: WINDOW is not RAM now
    sfence.vma
    li      t0, RAM_BASE
    lw      a0, 0(t0)               # the first word of the kernel, physically
    call    print_hex_line
    csrw    satp, s0
    sfence.vma
    call    show                    # page A

    la      a0, text_done
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown

# make_pte: a0 = a physical address, a1 = flags: the PTE in a0.
make_pte:
    srli    a0, a0, PAGE_SHIFT
    slli    a0, a0, PTE_PPN_SHIFT
    or      a0, a0, a1
    ret

# map_window: point WINDOW (table 1) at the page at a0; no fence.
map_window:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      a1, LEAF
    call    make_pte
    la      t0, table1
    sw      a0, 0(t0)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# show: print the words at WINDOW and OTHER.
show:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, WINDOW
    lw      a0, 0(t0)
    call    print_hex
    li      a0, ' '
    call    sbi_putc
    li      t0, OTHER
    lw      a0, 0(t0)
    call    print_hex_line
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

print_hex_line:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# Nothing here should trap: say so and stop.
    .balign 4
handler:
    la      a0, text_trap
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_start:     .asciz "remap: one window, four pages, fenced\n"
text_done:      .asciz "remap: done\n"
text_trap:      .asciz "remap: unexpected trap: "

    .data
    .balign PAGE_SIZE
page_a:         .word 0xaaaaaaaa
    .balign PAGE_SIZE
page_b:         .word 0xbbbbbbbb
    .balign PAGE_SIZE
page_c:         .word 0xcccccccc
    .balign PAGE_SIZE
page_d:         .word 0xdddddddd
    .balign PAGE_SIZE
page_other:     .word 0x07e707e7

    .bss
    .balign PAGE_SIZE
root1:          .zero PAGE_SIZE
table1:         .zero PAGE_SIZE
root2:          .zero PAGE_SIZE
table2:         .zero PAGE_SIZE
stack:          .zero PAGE_SIZE
stack_top:
