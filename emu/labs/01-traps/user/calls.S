# calls.S: a U-mode program that tries the system calls' edges: a write to
# standard error, a write of nothing, a write to a file other than 1 and 2
# (-EBADF), a call that does not exist (-ENOSYS), and checks that a call keeps
# every register but a0. It prints what each returned and exits with status 0,
# or 1 if a register changed.
#
#     emu run --isa rv32ia user/calls.S

    .include "../boot.S"

    .equ NO_SUCH_CALL, 1234
    .equ KEPT, 0x600df00d             # what the kept registers hold across a call

main:
    li      a0, 2                     # standard error: the same UART
    la      a1, text_four
    li      a2, 4
    li      a7, SYS_WRITE
    ecall                             # returns 4
    call    print_result

    li      a0, 1
    la      a1, text_empty
    li      a2, 0
    li      a7, SYS_WRITE
    ecall                             # writes nothing, returns 0
    call    print_result

    li      a0, 3
    la      a1, text_empty
    li      a2, 1
    li      a7, SYS_WRITE
    ecall                             # -EBADF
    call    print_result

    li      a0, 0
    li      a7, NO_SUCH_CALL
    ecall                             # -ENOSYS
    call    print_result

    # Every register but a0 survives a call: fill them, call, compare.
    li      s0, KEPT
    mv      s1, s0; mv s2, s0; mv s3, s0; mv s4, s0; mv s5, s0; mv s6, s0
    mv      s7, s0; mv s8, s0; mv s9, s0; mv s10, s0; mv s11, s0
    mv      t0, s0; mv t1, s0; mv t2, s0; mv t3, s0; mv t4, s0; mv t5, s0; mv t6, s0
    mv      a1, s0; mv a2, s0; mv a3, s0; mv a4, s0; mv a5, s0; mv a6, s0
    mv      gp, s0; mv tp, s0; mv ra, s0  # main never returns: ra is free
    mv      a0, s0                    # not a file
    li      a7, SYS_WRITE
    ecall
    la      a0, user_stack_top        # sp is as it was
    bne     sp, a0, broken
    li      a0, SYS_WRITE
    bne     a7, a0, broken
    li      a0, KEPT
    .irp r, ra,gp,tp,t0,t1,t2,t3,t4,t5,t6,s0,s1,s2,s3,s4,s5,s6,s7,s8,s9,s10,s11,a1,a2,a3,a4,a5,a6
    bne     \r, a0, broken
    .endr
    la      a0, text_kept
    call    print
    li      a0, 0
    j       exit
broken:
    la      a0, text_broken
    call    print
    li      a0, 1
exit:
    li      a7, SYS_EXIT
    ecall
1:  j       1b

# print_result: " " and a0 as a signed number of one or two digits.
print_result:
    mv      s0, ra
    mv      s1, a0
    la      a0, text_returned
    call    print
    bgez    s1, 1f
    la      a0, text_minus
    call    print
    neg     s1, s1
1:  li      t0, 10                    # tens: by subtraction (no M instruction here)
    li      t1, 0
2:  blt     s1, t0, 3f
    sub     s1, s1, t0
    addi    t1, t1, 1
    j       2b
3:  la      a0, digits
    beqz    t1, 4f
    add     a0, a0, t1
    lbu     t1, 0(a0)
    la      a0, text_digit
    sb      t1, 0(a0)
    call    print
4:  la      a0, digits
    add     a0, a0, s1
    lbu     t1, 0(a0)
    la      a0, text_digit
    sb      t1, 0(a0)
    call    print
    la      a0, text_newline
    call    print
    mv      ra, s0
    ret

# print: a0 = a NUL-terminated string, through the write call.
print:
    mv      a1, a0
    mv      a2, a0
1:  lbu     t0, 0(a2)
    beqz    t0, 2f
    addi    a2, a2, 1
    j       1b
2:  sub     a2, a2, a1
    li      a0, 1
    li      a7, SYS_WRITE
    ecall
    ret

    .section .rodata
text_four:      .ascii "abc\n"
text_empty:     .asciz ""
text_returned:  .asciz "returned "
text_minus:     .asciz "-"
text_newline:   .asciz "\n"
text_kept:      .asciz "every register but a0 kept\n"
text_broken:    .asciz "a register changed across a system call\n"
digits:         .ascii "0123456789"
    .section .data
text_digit:     .asciz "?"
