# trap.S: lab 01's reference solution. An M-mode trap handler that emulates
# the M extension in software and serves a U-mode program's system calls.
#
# The frame holds every register by its number (x0's slot reads as 0), so the
# handler reads rs1 and rs2 and writes rd by indexing it with the fields of the
# instruction; rd's new value is in place when the registers are restored.

    .equ FRAME_SIZE,       32 * 4
    .equ TRAP_STACK_SIZE,  1024
    .equ OPCODE_OP,        0x33
    .equ FUNCT7_MULDIV,    1
    .equ INT_MIN,          0x80000000

trap_init:
    la      t0, trap_vector
    csrw    mtvec, t0
    la      t0, trap_stack_top
    csrw    mscratch, t0
    ret

    .balign 4
trap_vector:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -FRAME_SIZE
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw      x\n, \n * 4(sp)
    .endr
    csrr    t0, mscratch              # the trapped code's sp
    sw      t0, 2 * 4(sp)
    sw      zero, 0(sp)

    csrr    t0, mcause
    li      t1, CAUSE_ILLEGAL_INSTRUCTION
    beq     t0, t1, illegal_instruction
    li      t1, CAUSE_USER_ECALL
    beq     t0, t1, system_call
    j       unhandled

# ---- an illegal instruction: emulate it if it is one of the M extension's

illegal_instruction:
    csrr    s0, mtval                 # the instruction's bits
    andi    t0, s0, 0x7f
    li      t1, OPCODE_OP
    bne     t0, t1, unhandled
    srli    t0, s0, 25
    li      t1, FUNCT7_MULDIV
    bne     t0, t1, unhandled
    srli    t0, s0, 15                # a0 = rs1's value, a1 = rs2's
    andi    t0, t0, 31
    slli    t0, t0, 2
    add     t0, sp, t0
    lw      a0, 0(t0)
    srli    t0, s0, 20
    andi    t0, t0, 31
    slli    t0, t0, 2
    add     t0, sp, t0
    lw      a1, 0(t0)
    srli    t0, s0, 12                # funct3 picks the operation
    andi    t0, t0, 7
    slli    t0, t0, 2
    la      t1, operations
    add     t1, t1, t0
    lw      t1, 0(t1)
    jalr    t1                        # a0 = the result
    srli    t0, s0, 7                 # rd
    andi    t0, t0, 31
    beqz    t0, next_instruction      # x0 stays 0
    slli    t0, t0, 2
    add     t0, sp, t0
    sw      a0, 0(t0)
    j       next_instruction

    .section .rodata
    .balign 4
operations:                           # by funct3 (unprivileged spec, M chapter)
    .word   op_mul, op_mulh, op_mulhsu, op_mulhu, op_div, op_divu, op_rem, op_remu
    .section .text

# Each operation: a0 = rs1, a1 = rs2 -> a0 = the result; clobbers a-registers
# and t-registers only; returns with ret.

op_mul:
    mv      s1, ra
    call    multiply
    mv      ra, s1
    ret

op_mulhu:
    mv      s1, ra
    call    multiply
    mv      a0, a1
    mv      ra, s1
    ret

# The signed high halves from the unsigned one: reading a negative operand as
# unsigned adds 2^32 times it, so the high word gains the other operand once
# for each operand that is negative (subtracted back here).
op_mulh:
    mv      s1, ra
    mv      a2, a0
    mv      a3, a1
    call    multiply
    mv      a0, a1
    bgez    a2, 1f
    sub     a0, a0, a3
1:  bgez    a3, 2f
    sub     a0, a0, a2
2:  mv      ra, s1
    ret

op_mulhsu:
    mv      s1, ra
    mv      a2, a0
    mv      a3, a1
    call    multiply
    mv      a0, a1
    bgez    a2, 1f
    sub     a0, a0, a3
1:  mv      ra, s1
    ret

op_divu:
    mv      s1, ra
    call    divide
    mv      ra, s1
    ret

op_remu:
    mv      s1, ra
    call    divide
    mv      a0, a1
    mv      ra, s1
    ret

# Signed division by magnitudes. By zero: quotient -1, remainder the dividend;
# INT_MIN / -1 overflows to INT_MIN, remainder 0, which the magnitudes give
# as they are (the spec's table in the M chapter).
op_div:
    mv      s1, ra
    beqz    a1, 3f
    xor     a4, a0, a1                # the quotient's sign
    call    magnitudes
    call    divide
    bgez    a4, 1f
    neg     a0, a0
1:  mv      ra, s1
    ret
3:  li      a0, -1
    mv      ra, s1
    ret

op_rem:
    mv      s1, ra
    beqz    a1, 1f                    # the remainder is the dividend
    mv      a4, a0                    # the remainder's sign is the dividend's
    call    magnitudes
    call    divide
    mv      a0, a1
    bgez    a4, 1f
    neg     a0, a0
1:  mv      ra, s1
    ret

# magnitudes: a0 = |a0|, a1 = |a1| (INT_MIN stays 0x80000000: unsigned, right).
magnitudes:
    bgez    a0, 1f
    neg     a0, a0
1:  bgez    a1, 2f
    neg     a1, a1
2:  ret

# multiply: a0 * a1, unsigned, 64 bits: a0 = the low word, a1 = the high word.
# Shift and add, one bit of the multiplier a round.
multiply:
    li      t0, 0                     # the product, high:low = t1:t0
    li      t1, 0
    li      t2, 0                     # the multiplicand shifted, high:low = t3:t2
    mv      t2, a0
    li      t3, 0
1:  beqz    a1, 3f
    andi    t4, a1, 1
    beqz    t4, 2f
    add     t0, t0, t2
    sltu    t4, t0, t2                # the carry out of the low word
    add     t1, t1, t3
    add     t1, t1, t4
2:  srli    t4, t2, 31                # shift the multiplicand left by one
    slli    t3, t3, 1
    or      t3, t3, t4
    slli    t2, t2, 1
    srli    a1, a1, 1
    j       1b
3:  mv      a0, t0
    mv      a1, t1
    ret

# divide: a0 / a1, unsigned: a0 = the quotient, a1 = the remainder. By zero:
# quotient all ones, remainder the dividend, as the spec says; restoring
# division, one bit a round, gives both.
divide:
    li      t0, 0                     # the remainder
    li      t1, 32
1:  srli    t2, a0, 31                # shift the next bit of the dividend in
    slli    t0, t0, 1
    or      t0, t0, t2
    slli    a0, a0, 1                 # the dividend's place takes the quotient's bits
    bltu    t0, a1, 2f
    sub     t0, t0, a1
    ori     a0, a0, 1
2:  addi    t1, t1, -1
    bnez    t1, 1b
    mv      a1, t0
    ret

# ---- a system call from U-mode: a7 says which; the result goes to a0

system_call:
    lw      t0, 17 * 4(sp)            # a7
    li      t1, SYS_WRITE
    beq     t0, t1, sys_write
    li      t1, SYS_EXIT
    beq     t0, t1, sys_exit
    li      t0, -ENOSYS
    sw      t0, 10 * 4(sp)
    j       next_instruction

sys_write:
    lw      t0, 10 * 4(sp)            # fd
    addi    t0, t0, -1
    li      t1, 1
    bleu    t0, t1, 1f                # 1 or 2
    li      t0, -EBADF
    sw      t0, 10 * 4(sp)
    j       next_instruction
1:  lw      a0, 11 * 4(sp)            # the buffer
    lw      a1, 12 * 4(sp)            # its length
    sw      a1, 10 * 4(sp)            # all of it is written
    add     a1, a0, a1
2:  beq     a0, a1, next_instruction
    lbu     a2, 0(a0)
    call    putc
    addi    a0, a0, 1
    j       2b

sys_exit:
    lw      a0, 10 * 4(sp)
    j       power_off

# ---- anything else stops the machine

unhandled:
    la      a0, unhandled_text
    call    puts
    csrr    a0, mcause
    call    put_hex
    li      a2, '\n'
    call    putc
    li      a0, 1
power_off:                            # a0 = the exit status
    li      t0, TEST_PASS
    beqz    a0, 1f
    slli    t0, a0, 16
    li      t1, TEST_FAIL
    or      t0, t0, t1
1:  li      t1, TEST_BASE
    sw      t0, 0(t1)
2:  j       2b

# ---- back to the trapped code, past the instruction

next_instruction:
    csrr    t0, mepc
    addi    t0, t0, 4
    csrw    mepc, t0
    addi    t0, sp, FRAME_SIZE        # the handler's stack, for the next trap
    csrw    mscratch, t0
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw      x\n, \n * 4(sp)
    .endr
    lw      sp, 2 * 4(sp)             # last: sp itself
    mret

# putc: a2 = a byte, to the UART; clobbers t0 and t1.
putc:
    li      t0, UART_BASE
1:  lbu     t1, UART_LSR(t0)
    andi    t1, t1, UART_LSR_THRE
    beqz    t1, 1b
    sb      a2, UART_THR(t0)
    ret

# puts: a0 = a NUL-terminated string.
puts:
    mv      s1, ra
1:  lbu     a2, 0(a0)
    beqz    a2, 2f
    call    putc
    addi    a0, a0, 1
    j       1b
2:  mv      ra, s1
    ret

# put_hex: a0 = a word, as 0x and 8 digits.
put_hex:
    mv      s2, ra
    mv      a3, a0
    li      a2, '0'
    call    putc
    li      a2, 'x'
    call    putc
    li      a4, 28
1:  srl     a2, a3, a4
    andi    a2, a2, 15
    li      t2, 10
    blt     a2, t2, 2f
    addi    a2, a2, 'a' - '0' - 10
2:  addi    a2, a2, '0'
    call    putc
    addi    a4, a4, -4
    bgez    a4, 1b
    mv      ra, s2
    ret

    .section .rodata
unhandled_text:
    .asciz  "unhandled trap: mcause "

    .section .bss
    .balign 16
trap_stack:
    .zero   TRAP_STACK_SIZE
trap_stack_top:
    .section .text
