# sort.S: insertion sort of an array of signed words, in place, printed before
# and after.
#
# What it shows:
#   - array indexing: element i of a word array is at base + 4*i (slli by 2);
#   - signed comparison: the data holds negative numbers, so the sort compares
#     with blt/bge (signed), not bltu/bgeu (unsigned), under which -1 =
#     0xFFFFFFFF would be the largest value of all;
#   - printing signed decimals, including the one number whose negation does
#     not fit: -2147483648;
#   - a self-check after the sort, the habit of every test program.
#
# Spec sections that matter:
#   - Unprivileged ISA 2.4 (integer computational instructions: SLLI; SLT and
#     SLTU, signed and unsigned), 2.5 (conditional branches: BLT/BGE compare
#     as two's complement signed numbers, BLTU/BGEU as unsigned; `ble a, b` is
#     the assembler's name for `bge b, a`), 2.6 (LW, SW), 7.2 (DIVU, REMU).
#   - RISC-V psABI, "Integer Register Convention", for the calls.
#
# Output: the array before and after, ten numbers a line, then "sorted: yes";
# exit status 0 through the test finisher (status 1 if the check fails).

    .include "../lib/board.inc"      # UART_*, TEST_*, ASCII_*

    .equ WORD_SIZE,       4
    .equ PER_LINE,        10          # numbers printed on one line
    .equ ARRAY_COUNT,     30          # the words at `array`, below
    .equ STACK_SIZE,      4096

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top

    la      a0, text_before
    call    uart_puts
    la      a0, array
    li      a1, ARRAY_COUNT
    call    print_array

    la      a0, array
    li      a1, ARRAY_COUNT
    call    insertion_sort

    la      a0, text_after
    call    uart_puts
    la      a0, array
    li      a1, ARRAY_COUNT
    call    print_array

    # The check: every element no larger (signed) than the next one.
    la      t0, array
    li      t1, ARRAY_COUNT - 1     # pairs to compare
1:  beqz    t1, sorted
    lw      t2, 0(t0)
    lw      t3, WORD_SIZE(t0)
    bgt     t2, t3, not_sorted
    addi    t0, t0, WORD_SIZE
    addi    t1, t1, -1
    j       1b

sorted:
    la      a0, text_sorted_yes
    call    uart_puts
    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
1:  j       1b                      # the store stops the machine

not_sorted:
    la      a0, text_sorted_no
    call    uart_puts
    li      t0, TEST_BASE
    li      t1, (1 << 16) | TEST_FAIL   # exit status 1
    sw      t1, 0(t0)
1:  j       1b

# insertion_sort: a0 = address of an array of signed words, a1 = their count.
# Sorts ascending, in place:
#
#     for i in 1 .. n-1:
#         key = a[i]
#         j = i
#         while j > 0 and a[j-1] > key:     # signed comparison
#             a[j] = a[j-1]                 # shift the larger one up
#             j = j - 1
#         a[j] = key
#
# Everything to the left of i is sorted already; each step takes a[i] out
# and slides the larger elements one place right until the hole is where it
# belongs. Stopping at a[j-1] <= key (not <) keeps equal elements in their
# order: the sort is stable. A leaf function: only t registers, no frame.
insertion_sort:
    li      t0, 1                   # i
sort_outer:
    bge     t0, a1, sort_done
    slli    t1, t0, 2               # byte offset of element i: 4*i
    add     t1, a0, t1              # t1 = &a[j], starting with j = i
    lw      t2, 0(t1)               # key
sort_inner:
    beq     t1, a0, sort_place      # j == 0: key is the smallest so far
    lw      t3, -WORD_SIZE(t1)      # a[j-1]
    ble     t3, t2, sort_place      # a[j-1] <= key: the hole is right here
    sw      t3, 0(t1)               # a[j] = a[j-1]
    addi    t1, t1, -WORD_SIZE      # j = j - 1
    j       sort_inner
sort_place:
    sw      t2, 0(t1)               # a[j] = key
    addi    t0, t0, 1
    j       sort_outer
sort_done:
    ret

# print_array: a0 = address of an array of signed words, a1 = their count.
# Each number after a space, PER_LINE to a line.
print_array:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)               # the next element's address
    sw      s1, 4(sp)               # elements left
    sw      s2, 0(sp)               # elements left on this line
    mv      s0, a0
    mv      s1, a1
    li      s2, PER_LINE
1:  beqz    s1, 3f
    li      a0, ASCII_SPACE
    call    uart_putc
    lw      a0, 0(s0)
    call    print_dec
    addi    s0, s0, WORD_SIZE
    addi    s1, s1, -1
    addi    s2, s2, -1
    bnez    s2, 1b
    li      a0, ASCII_NEWLINE       # a full line
    call    uart_putc
    li      s2, PER_LINE
    j       1b
3:  li      t0, PER_LINE            # end a partly filled last line
    beq     s2, t0, 4f
    li      a0, ASCII_NEWLINE
    call    uart_putc
4:  lw      s2, 0(sp)
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# print_dec: a0 = a signed number, printed in decimal.
# A negative number is a minus sign and then its magnitude. The magnitude is
# printed as an unsigned number (print_udec), which is what makes -2147483648
# work: its negation overflows back to 0x80000000, which read unsigned is
# 2147483648. Clobbers a0, t0 and t1, as print_udec does.
print_dec:
    bgez    a0, print_udec          # not negative: a tail call, same a0
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    mv      s0, a0
    li      a0, ASCII_MINUS
    call    uart_putc
    neg     a0, s0
    call    print_udec
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# Output over the 16550 UART: uart_putc, uart_puts, print_udec, print_hex.

    .include "../lib/uart.inc"

    .section .rodata
text_before:      .asciz "before:\n"
text_after:       .asciz "after:\n"
text_sorted_yes:  .asciz "sorted: yes\n"
text_sorted_no:   .asciz "sorted: NO\n"

    .data
    .balign 4
# The numbers to sort: negatives, duplicates, zero and both extremes of a
# 32-bit signed word, in no particular order.
array:
    .word   42, -7, 1000, 0, -2147483648, 17, 3, -7, 2147483647, 99
    .word   -1, 256, 5, -300, 8, 42, 65535, -65536, 12, 1
    .word   -42, 7, 0, 31337, -1000000, 64, 2, -2, 123456789, 9

    .bss
    .balign 16
stack:            .zero STACK_SIZE
stack_top:
