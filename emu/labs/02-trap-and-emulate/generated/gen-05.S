# A random S-mode kernel: `python -m emu.labs.kit random 5` prints it.
# The test kernel of emu/labs/kit.py, with random code at main and user_code.

    .equ SBI_TIME, 0x54494D45
    .equ SBI_SRST, 0x53525354
    .equ SBI_DBCN, 0x4442434E
    .equ USER_VA, 0x40000000

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      s10, log
    call    build_tables
    li      a0, 0
    li      t0, 0
    li      t1, 0
    j       main

shutdown:
    li      a0, 0
    li      a1, 0
    li      a7, SBI_SRST
    li      a6, 0
    ecall

    .align 2
handler:
    csrr    t5, scause
    csrr    t6, sepc
    sw      t5, 0(s10)
    sw      t6, 4(s10)
    csrr    t6, stval
    sw      t6, 8(s10)
    rdtime  t6
    sw      t6, 12(s10)
    addi    s10, s10, 16
    la      t6, log_end
    bltu    s10, t6, 1f
    la      s10, log
1:  bltz    t5, h_interrupt
    li      t6, 8
    beq     t5, t6, h_user_ecall
    li      t6, 1
    beq     t5, t6, h_fetch
    li      t6, 12
    beq     t5, t6, h_fetch
    csrr    t6, sepc
    addi    t6, t6, 4
    csrw    sepc, t6
    sret
h_fetch:
    csrw    sepc, ra
    sret
h_user_ecall:
    li      t6, 0x100
    csrs    sstatus, t6
    csrw    sepc, ra
    sret
h_interrupt:
    li      t6, 0x20
    csrc    sie, t6
    csrci   sip, 2
    sret

# PTE for the physical address in a1 with the flags in a2, into a0
make_pte:
    srli    a0, a1, 12
    slli    a0, a0, 10
    or      a0, a0, a2
    ret

build_tables:
    mv      s9, ra
    la      s8, root
    li      a1, 0x80000000
    li      a2, 0xF
    call    make_pte
    li      t0, 0x800
    add     t0, t0, s8
    sw      a0, 0(t0)
    la      a1, l0
    li      a2, 0x1
    call    make_pte
    sw      a0, 0x400(s8)
    li      a1, 0x80001000                  # misaligned megapage
    li      a2, 0x7
    call    make_pte
    sw      a0, 0x404(s8)
    li      a1, 0x70000000                  # a table outside RAM
    li      a2, 0x1
    call    make_pte
    sw      a0, 0x408(s8)
    la      s8, l0
    la      a1, user_code
    li      a2, 0x1B                        # V R X U
    call    make_pte
    sw      a0, 0(s8)
    la      a1, user_ro
    li      a2, 0x13                        # V R U
    call    make_pte
    sw      a0, 4(s8)
    la      a1, xonly
    li      a2, 0x9                         # V X
    call    make_pte
    sw      a0, 8(s8)
    la      a1, user_rw
    li      a2, 0x17                        # V R W U
    call    make_pte
    sw      a0, 12(s8)
    la      a1, clean
    li      a2, 0x7                         # V R W
    call    make_pte
    sw      a0, 16(s8)
    li      a1, 0x90000000                  # beyond 16 MiB of RAM
    li      a2, 0x7
    call    make_pte
    sw      a0, 20(s8)
    la      s8, root
    srli    s8, s8, 12
    li      t0, 0x80000000
    or      s8, s8, t0                      # s8 = satp for the tables
    mv      ra, s9
    ret

# Paging on (a0 = 1) or off (a0 = 0).
paging:
    beqz    a0, 1f
    csrw    satp, s8
    sfence.vma
    ret
1:  csrw    satp, zero
    sfence.vma
    ret

# Set the timer a0 ticks from now and enable its interrupt in sie.
timer_in:
    mv      t2, a0
    rdtime  a0
    rdtimeh a1
    add     a0, a0, t2
    sltu    t2, a0, t2
    add     a1, a1, t2
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    li      t2, 0x20
    csrs    sie, t2
    ret

# Drop to U at a0 (the user page's address, virtual or physical); its ecall
# brings the handler back to S, to our caller (ra).
to_user:
    csrw    sepc, a0
    li      t2, 0x100
    csrc    sstatus, t2
    sret

main:
    li a0, 0x0
    li a7, 1
    ecall
    li a0, 1
    call paging
    li t2, 0x40005000
    sw t1, 0(t2)
    li t2, 0x40000
    csrc sstatus, t2
    li t2, 0x81000000
    lbu a2, 0(t2)
    li t2, 0x40800000
    lbu a2, 0(t2)
    li a0, 2
    call timer_in
    li t2, 0x40003000
    sfence.vma t2
    csrr a1, time
    li a0, 61
    call timer_in
    ebreak
    li t2, 24
    1: addi t2, t2, -1
    bnez t2, 1b
    csrw time, a0
    li a0, 0x13
    li a7, 1
    ecall
    li a0, 0x0
    li a7, 1
    ecall
    li a1, 0x40000
    csrw sip, a1
    li t2, 0x40003000
    sfence.vma t2
    ebreak
    csrr a1, 0x7c0
    li t2, 0x10000004
    amoadd.w a0, a0, (t2)
    li t2, 10
    1: addi t2, t2, -1
    bnez t2, 1b
    csrsi sstatus, 2
    li a0, 0
    call paging
    li t0, 0x20
    csrs sip, t0
    li a0, 0x20
    li a7, 1
    ecall
    li t2, 0x40003004
    jalr ra, 0(t2)
    li a0, 1
    call paging
    ebreak
    li t2, 0x80000
    csrs sstatus, t2
    csrw scounteren, 4
    j       shutdown

    .align 12
user_code:
    wfi
    li t2, 0x40003000
    sw a2, 0(t2)
    sfence.vma
    wfi
    sfence.vma
    li t2, 0x40001000
    lw a4, 0(t2)
    ecall
    .align 12
user_ro:
    .word   0x11111111, 0x22222222
    .align 12
xonly:
    .word   0x33333333
    .align 12
user_rw:
    .word   0x44444444
    .align 12
clean:
    .word   0x55555555
    .align 12
root:
    .space  4096
l0:
    .space  4096
log:
    .space  4096
log_end:
    .space  4096
stack_top:
