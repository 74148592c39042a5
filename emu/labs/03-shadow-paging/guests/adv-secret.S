# adv-secret.S: an adversarial guest that looks for another guest's data.
#
# What it shows: memory isolation, tested from the inside. Two builds of
# this kernel run side by side under the hypervisor: guest 1 (the default)
# and guest 2 (`--defsym GUEST_ID=2`). Each
#   1. writes its own secret, the 16 bytes "SECRET-OF-GUEST1" (or ...2), at
#      the start of every free 4 KiB page of its RAM: from the first page
#      after its own image (_end) to the end of its 16 MiB;
#   2. sleeps a while (SBI set_timer, then WFI), so that under the
#      hypervisor the other guest runs and writes its secret too;
#   3. reads all of its RAM, every word from 0x80000000 to 0x80ffffff, and
#      counts copies of its own secret, copies of the OTHER guest's secret,
#      and any other nonzero word in the free pages (RAM starts zeroed but
#      for the device tree at a1, which it skips: any other nonzero word
#      there is someone else's data: a page table, a previous guest's
#      memory, the hypervisor's own);
#   4. prints the counts. It must find its own secret once in every page it
#      wrote, the other's never, and nothing stray.
# A hypervisor that gave two guests a shared frame, reused a frame without
# clearing it, or mapped a guest page onto its own memory shows up here.
#
# The other guest's secret is never written anywhere by this guest: its
# words are built in registers only (and `li` splits a constant into two
# instructions, so no instruction word equals a secret word either). The
# only copies of "SECRET-OF-GUEST<n>" in this guest's RAM are the ones it
# wrote itself, so its counts are the same on a bare run and under a correct
# hypervisor.

    .include "sbi.inc"

    .ifndef GUEST_ID
    .equ GUEST_ID, 1
    .endif
    .equ OTHER_ID, 3 - GUEST_ID     # guest 1's other is 2, and 2's is 1

    # The secret, as little-endian words: "SECR" "ET-O" "F-GU" "EST" + digit.
    .equ SECRET_W0, 0x52434553
    .equ SECRET_W1, 0x4f2d5445
    .equ SECRET_W2, 0x55472d46
    .equ SECRET_W3_BASE, 0x00545345 # "EST" and, in the top byte, the digit
    .equ ASCII_ZERO, 0x30
    .equ MY_W3,     SECRET_W3_BASE | ((ASCII_ZERO + GUEST_ID) << 24)
    .equ OTHER_W3,  SECRET_W3_BASE | ((ASCII_ZERO + OTHER_ID) << 24)
    .equ SECRET_SIZE, 16
    .equ SLEEP,     1000000         # time ticks to let the other guest run

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0
    # The device tree: from a1 for its totalsize bytes (a big-endian word at
    # +4), kept before step 1 writes a secret over its first bytes.
    sw      a1, tree_start, t0
    li      t0, 0
    li      t1, 4
9:  lbu     t2, 4(a1)
    slli    t0, t0, 8
    or      t0, t0, t2
    addi    a1, a1, 1
    addi    t1, t1, -1
    bnez    t1, 9b
    lw      a1, tree_start
    add     t0, a1, t0
    sw      t0, tree_end, t1

    la      a0, text_hello
    call    sbi_puts
    li      a0, GUEST_ID
    call    print_udec
    la      a0, text_secret
    call    sbi_puts
    li      a0, ASCII_ZERO + GUEST_ID
    call    sbi_putc
    li      a0, '\n'
    call    sbi_putc

    # 1. The secret at the start of every free page.
    la      s0, _end                # round up to a page
    li      t0, PAGE_SIZE - 1
    add     s0, s0, t0
    not     t0, t0
    and     s0, s0, t0
    sw      s0, free_start, t0
    li      s1, RAM_BASE + RAM_SIZE
    li      s2, 0                   # pages written
    li      t0, SECRET_W0
    li      t1, SECRET_W1
    li      t2, SECRET_W2
    li      t3, MY_W3
    mv      t4, s0
1:  sw      t0, 0(t4)
    sw      t1, 4(t4)
    sw      t2, 8(t4)
    sw      t3, 12(t4)
    addi    s2, s2, 1
    li      t5, PAGE_SIZE
    add     t4, t4, t5
    bltu    t4, s1, 1b
    la      a0, text_wrote
    call    sbi_puts
    mv      a0, s2
    call    print_udec
    la      a0, text_pages
    call    sbi_puts

    # 2. Sleep: a timer deadline, then WFI. WFI wakes on a pending interrupt
    # enabled in sie even though sstatus.SIE is off, so no handler runs.
    call    read_time
    li      t0, SLEEP
    add     t1, a0, t0
    sltu    t2, t1, a0
    add     a1, a1, t2
    mv      a0, t1
    call    set_timer
    li      t0, SIE_STIE
    csrs    sie, t0
2:  csrr    t0, sip
    andi    t0, t0, SIE_STIE        # sip.STIP: the same bit as sie.STIE
    bnez    t0, 3f
    wfi                             # (it may return early: check again)
    j       2b
3:  li      a0, -1                  # cancel; this also clears sip.STIP
    li      a1, -1
    call    set_timer
    li      t0, SIE_STIE
    csrc    sie, t0

    # 3. Scan all of RAM.
    la      a0, text_scan
    call    sbi_puts
    call    scan

    # 4. Report.
    la      a0, text_mine
    call    sbi_puts
    lw      a0, found_mine
    call    print_udec
    la      a0, text_times
    call    sbi_puts
    la      a0, text_other
    call    sbi_puts
    li      a0, ASCII_ZERO + OTHER_ID
    call    sbi_putc
    la      a0, text_other2
    call    sbi_puts
    lw      a0, found_other
    call    print_udec
    la      a0, text_times
    call    sbi_puts
    la      a0, text_stray
    call    sbi_puts
    lw      a0, found_stray
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    lw      t0, found_mine          # the verdict, and the exit status
    lw      t1, found_other
    lw      t2, found_stray
    bne     t0, s2, leaked
    bnez    t1, leaked
    bnez    t2, leaked
    la      a0, text_isolated
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown
leaked:
    la      a0, text_leaked
    call    sbi_puts
    li      a0, SRST_REASON_FAILURE
    call    shutdown

# scan: every word of RAM. The common case, a zero word, costs four
# instructions; a secret is recognised by its first three words, which both
# guests share, and told apart by its fourth. The other guest's fourth word
# lives in a register only.
scan:
    li      a0, RAM_BASE            # the word to read
    li      a1, RAM_BASE + RAM_SIZE
    lw      a2, free_start
    li      t0, SECRET_W0
    li      t1, SECRET_W1
    li      t2, SECRET_W2
    li      t3, MY_W3
    li      t4, OTHER_W3
    li      a3, 0                   # mine
    li      a4, 0                   # the other's
    li      a5, 0                   # stray words
    lw      a6, tree_start
    lw      a7, tree_end
1:  lw      t5, 0(a0)
    bnez    t5, 3f
2:  addi    a0, a0, 4
    bltu    a0, a1, 1b
    sw      a3, found_mine, t5
    sw      a4, found_other, t5
    sw      a5, found_stray, t5
    ret
3:  bne     t5, t0, 5f              # nonzero: the start of a secret?
    li      t6, RAM_BASE + RAM_SIZE - SECRET_SIZE
    bgtu    a0, t6, 5f              # no room for one
    lw      t5, 4(a0)
    bne     t5, t1, 5f
    lw      t5, 8(a0)
    bne     t5, t2, 5f
    lw      t5, 12(a0)
    beq     t5, t3, 4f
    bne     t5, t4, 5f
    addi    a4, a4, 1               # the other guest's
    addi    a0, a0, SECRET_SIZE - 4
    j       2b
4:  addi    a3, a3, 1               # mine
    addi    a0, a0, SECRET_SIZE - 4
    j       2b
5:  bltu    a0, a2, 2b              # inside the image: code and data
    bltu    a0, a6, 6f
    bltu    a0, a7, 2b              # inside the device tree
6:  addi    a5, a5, 1               # a stray word in a free page
    j       2b

# No trap is expected (no interrupt is enabled in sstatus.SIE); any trap is
# reported and ends the run.
    .balign 4
trap_handler:
    la      a0, text_unexpected
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_hello:      .asciz "adv-secret: guest "
text_secret:     .asciz ", my secret is SECRET-OF-GUEST"
text_wrote:      .asciz "adv-secret: wrote it at the start of "
text_pages:      .asciz " free pages of my RAM, sleeping\n"
text_scan:       .asciz "adv-secret: scanning all 16 MiB of my RAM\n"
text_mine:       .asciz "adv-secret: found my own secret "
text_times:      .asciz " times\n"
text_other:      .asciz "adv-secret: found guest "
text_other2:     .asciz "'s secret "
text_stray:      .asciz "adv-secret: nonzero words in my free pages besides my secret: "
text_isolated:   .asciz "adv-secret: my memory is my own\n"
text_leaked:     .asciz "adv-secret: ISOLATION BROKEN\n"
text_unexpected: .asciz "adv-secret: unexpected trap: "

    .data
    .balign 4
free_start:      .word 0            # the first page after the image
tree_start:      .word 0            # the device tree: [tree_start, tree_end)
tree_end:        .word 0
found_mine:      .word 0
found_other:     .word 0
found_stray:     .word 0

    .bss
    .balign 16
stack:           .zero 4096
stack_top:
