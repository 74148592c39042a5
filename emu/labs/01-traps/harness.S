# harness.S: runs instructions one at a time, as its input says, each on a
# hart whose every register holds a known value, and prints every register
# after it. The checks of lab 01 run it; so can you.
#
# Input: lines of three hex words, "INSN RS1 RS2": an instruction's bits and
# the values its rs1 and rs2 registers (bits 19:15 and 24:20 of INSN) hold
# when it runs. Every other register xN holds 0xc0de0000 + N. For each line
# the harness prints the three words, "->", and x1 to x31 after the
# instruction ran. When the input runs out it stops, with exit status 0.
#
#     emu run --input "02c5b533 80000000 ffffffff" harness.S               # the M extension
#     emu run --isa rv32ia --input "02c5b533 80000000 ffffffff" harness.S  # your trap.S
#
# (02c5b533 is mulhu a0, a1, a2: riscv64-unknown-elf-as or `emu asm -l` give
# the bits of any instruction.)
#
# How: the instruction is written into the code (then FENCE.I, so that the
# fetch sees it: unprivileged spec, Zifencei), between a run of loads that
# sets all 31 registers and a run of stores that saves them. One register,
# the base, holds the address of the save area throughout; it is one that the
# instruction does not name (x31, x30 or x29), so there are three copies of
# that code. The harness uses no M instruction itself: under rv32ia the only
# traps are the ones the instructions under test raise. Its labels all begin
# with harness_, so that they cannot clash with trap.S's.

    .include "board.inc"

    .equ PATTERN,   0xc0de0000        # xN = PATTERN + N
    .equ UNTOUCHED, 0xdeadbeef        # the save area before the stores run
    .equ NREGS,     32

    .section .text.init
    .globl _start
_start:
    la      sp, harness_stack_top
    call    trap_init                 # yours: mtvec and mscratch
harness_next_case:
    la      s3, harness_case
    call    harness_read_hex          # the instruction
    beqz    a1, harness_finish
    sw      a0, 0(s3)
    call    harness_read_hex          # rs1's value
    beqz    a1, harness_finish
    sw      a0, 4(s3)
    call    harness_read_hex          # rs2's value
    beqz    a1, harness_finish
    sw      a0, 8(s3)
    call    harness_set_registers
    call    harness_install
    jr      a0                        # its copy of the code, back at harness_case_done

harness_case_done:
    la      sp, harness_stack_top     # the instruction ran with sp = a pattern
    call    harness_print_case
    j       harness_next_case

harness_finish:
    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
1:  j       1b

# harness_set_registers: harness_regs[N] = PATTERN + N, then rs2's and rs1's
# values, x0 = 0; the save area, UNTOUCHED.
harness_set_registers:
    la      t0, harness_regs
    la      t1, harness_saved
    li      t2, PATTERN
    li      t3, UNTOUCHED
    li      t4, NREGS
1:  sw      t2, 0(t0)
    sw      t3, 0(t1)
    addi    t0, t0, 4
    addi    t1, t1, 4
    addi    t2, t2, 1
    addi    t4, t4, -1
    bnez    t4, 1b
    lw      t0, 0(s3)                 # the instruction
    la      t1, harness_regs
    srli    t2, t0, 20                # rs2
    andi    t2, t2, 31
    slli    t2, t2, 2
    add     t2, t1, t2
    lw      t3, 8(s3)
    sw      t3, 0(t2)
    srli    t2, t0, 15                # rs1
    andi    t2, t2, 31
    slli    t2, t2, 2
    add     t2, t1, t2
    lw      t3, 4(s3)
    sw      t3, 0(t2)
    sw      zero, 0(t1)               # x0
    ret

# harness_install: pick the base register, write the instruction into its copy
# of the code; a0 = where that copy starts.
harness_install:
    lw      t0, 0(s3)
    srli    t1, t0, 7                 # rd
    andi    t1, t1, 31
    srli    t2, t0, 15                # rs1
    andi    t2, t2, 31
    srli    t3, t0, 20                # rs2
    andi    t3, t3, 31
    li      t4, 31                    # the base: the first of 31, 30, 29 not named
1:  beq     t4, t1, 2f
    beq     t4, t2, 2f
    beq     t4, t3, 2f
    j       3f
2:  addi    t4, t4, -1
    j       1b
3:  la      t5, harness_regs          # the base register holds the save area's address
    slli    t6, t4, 2
    add     t5, t5, t6
    la      t6, harness_saved
    sw      t6, 0(t5)
    li      t5, 31
    la      a0, harness_run_x31
    la      a1, harness_slot_x31
    beq     t4, t5, 4f
    li      t5, 30
    la      a0, harness_run_x30
    la      a1, harness_slot_x30
    beq     t4, t5, 4f
    la      a0, harness_run_x29
    la      a1, harness_slot_x29
4:  sw      t0, 0(a1)
    fence.i                           # the fetch must see the new instruction
    ret

# RUN base: load every register from harness_regs (the base last), run the
# slot, store every register into harness_saved (the base holds its address),
# back to harness_case_done.
.macro RUN base
harness_run_x\base:
    la      x\base, harness_regs
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .if \n - \base
    lw      x\n, \n * 4(x\base)
    .endif
    .endr
    lw      x\base, \base * 4(x\base)
harness_slot_x\base:
    nop                               # the instruction under test goes here
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw      x\n, \n * 4(x\base)
    .endr
    j       harness_case_done
.endm

    RUN 31
    RUN 30
    RUN 29

# harness_print_case: "INSN RS1 RS2 -> x1 ... x31", in hex.
harness_print_case:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)
    la      s0, harness_case
    li      s1, 3
1:  lw      a0, 0(s0)
    call    harness_print_hex
    li      a0, ' '
    call    harness_putc
    addi    s0, s0, 4
    addi    s1, s1, -1
    bnez    s1, 1b
    li      a0, '-'
    call    harness_putc
    li      a0, '>'
    call    harness_putc
    la      s0, harness_saved + 4
    li      s1, NREGS - 1
2:  li      a0, ' '
    call    harness_putc
    lw      a0, 0(s0)
    call    harness_print_hex
    addi    s0, s0, 4
    addi    s1, s1, -1
    bnez    s1, 2b
    li      a0, '\n'
    call    harness_putc
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# harness_print_hex: a0 = a word, as 8 hex digits.
harness_print_hex:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)
    mv      s0, a0
    li      s1, 28                    # the shift of the next digit
1:  srl     a0, s0, s1
    andi    a0, a0, 15
    li      t0, 10
    blt     a0, t0, 2f
    addi    a0, a0, 'a' - '0' - 10
2:  addi    a0, a0, '0'
    call    harness_putc
    addi    s1, s1, -4
    bgez    s1, 1b
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# harness_putc: a0 = a byte, to the UART.
harness_putc:
    li      t0, UART_BASE
1:  lbu     t1, UART_LSR(t0)
    andi    t1, t1, UART_LSR_THRE
    beqz    t1, 1b
    sb      a0, UART_THR(t0)
    ret

# harness_read_hex: the next hex word of the input: a0 = its value, a1 = 1; or a1 = 0
# when the input has run out. Spaces and newlines separate words. (--input
# gives the whole input at once: a UART with nothing to read has no more.)
harness_read_hex:
    li      t0, UART_BASE
    li      a0, 0
    li      a1, 0
1:  lbu     t1, UART_LSR(t0)
    andi    t1, t1, UART_LSR_DR
    beqz    t1, 4f                    # no more input
    lbu     t1, UART_RBR(t0)
    li      t2, '0'
    sub     t3, t1, t2
    sltiu   t4, t3, 10
    bnez    t4, 3f                    # 0-9
    ori     t3, t1, 0x20              # lower case
    li      t2, 'a'
    sub     t3, t3, t2
    sltiu   t4, t3, 6
    beqz    t4, 2f                    # not a hex digit: a separator
    addi    t3, t3, 10
3:  slli    a0, a0, 4
    or      a0, a0, t3
    li      a1, 1
    j       1b
2:  beqz    a1, 1b                    # separators before the word
4:  ret

    .section .data
    .balign 4
harness_case:   .word 0, 0, 0         # INSN, RS1, RS2
harness_regs:   .zero NREGS * 4       # the registers the instruction runs with
harness_saved:  .zero NREGS * 4       # and after it

    .section .bss
    .balign 16
harness_stack:
    .zero 1024
harness_stack_top:

    .section .text
    .include "trap.S"
