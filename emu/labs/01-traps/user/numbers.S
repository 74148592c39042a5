# numbers.S: a U-mode program that multiplies and divides (factorials, primes
# by trial division, a signed division table) and prints what it finds, all
# through trap.S: each mul, div and rem traps to it and is emulated, and each
# line goes out through the write call. It exits with status 3, so that the
# exit call's status is seen to arrive.
#
#     emu run --isa rv32ia user/numbers.S         # your trap.S emulates
#     emu run user/numbers.S                      # the M extension does (the same output)

    .include "../boot.S"

    .equ EXIT_STATUS, 3

main:
    # 1! to 12!: the largest that fits in 32 bits.
    la      a0, text_factorials
    call    print
    li      s0, 1                     # n
    li      s1, 1                     # n!
1:  mul     s1, s1, s0
    mv      a0, s1
    call    print_signed
    addi    s0, s0, 1
    li      t0, 12
    ble     s0, t0, 1b
    call    newline

    # The primes below 60, by trial division.
    la      a0, text_primes
    call    print
    li      s0, 2
2:  li      s1, 2                     # the divisor
3:  mul     t0, s1, s1
    bgt     t0, s0, 4f                # no divisor up to the square root: prime
    remu    t0, s0, s1
    beqz    t0, 5f                    # a divisor: not prime
    addi    s1, s1, 1
    j       3b
4:  mv      a0, s0
    call    print_signed
5:  addi    s0, s0, 1
    li      t0, 60
    blt     s0, t0, 2b
    call    newline

    # Signed division rounds towards zero, and the remainder takes the
    # dividend's sign: 7 / -2 = -3 rem 1, -7 / 2 = -3 rem -1.
    la      a0, text_division
    call    print
    la      s0, dividends
    li      s1, 4
6:  lw      s2, 0(s0)                 # dividend
    lw      s3, 4(s0)                 # divisor
    div     a0, s2, s3
    call    print_signed
    rem     a0, s2, s3
    call    print_signed
    addi    s0, s0, 8
    addi    s1, s1, -1
    bnez    s1, 6b
    call    newline

    li      a0, EXIT_STATUS
    li      a7, SYS_EXIT
    ecall
7:  j       7b

# print: a0 = a NUL-terminated string, through the write call.
print:
    mv      a1, a0
    mv      a2, a0
1:  lbu     t0, 0(a2)
    beqz    t0, 2f
    addi    a2, a2, 1
    j       1b
2:  sub     a2, a2, a1                # its length
    li      a0, 1
    li      a7, SYS_WRITE
    ecall
    ret

newline:
    la      a0, text_newline
    j       print

# print_signed: " " and a0 in decimal. The digits come from divu and remu by
# 10, least significant first, into a buffer filled from its end.
print_signed:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    addi    a1, sp, 24                # the buffer's end: sp + 24 (NUL there)
    sb      zero, 0(a1)
    mv      a3, a0                    # the sign, for later
    bgez    a0, 1f
    neg     a0, a0
1:  li      t0, 10
2:  remu    t1, a0, t0
    divu    a0, a0, t0
    addi    t1, t1, '0'
    addi    a1, a1, -1
    sb      t1, 0(a1)
    bnez    a0, 2b
    bgez    a3, 3f
    li      t1, '-'
    addi    a1, a1, -1
    sb      t1, 0(a1)
3:  li      t1, ' '
    addi    a1, a1, -1
    sb      t1, 0(a1)
    mv      a0, a1
    call    print
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

    .section .rodata
text_factorials:  .asciz "factorials:"
text_primes:      .asciz "primes:"
text_division:    .asciz "7/2, 7/-2, -7/2, -7/-2 (quotient remainder):"
text_newline:     .asciz "\n"
    .balign 4
dividends:
    .word 7, 2, 7, -2, -7, 2, -7, -2
