# traps.S: trap entry and SRET, in the combinations a kernel meets them.
#
# Every trap lands in one handler, which prints what the hart gave it:
#
#     trap: <scause's name> sepc=... stval=... sstatus=... entry=N
#
# where N says how it got there: 0 through the direct stvec (or vector 0),
# 1 and 5 through the vectors of the supervisor software and timer interrupts
# when stvec's MODE is 1 (privileged spec 4.1.2: an interrupt goes to BASE +
# 4 * cause, an exception to BASE). sstatus shows SPP (0x100), SPIE (0x20) and
# SIE (0x2) as trap entry left them (section 4.1.1):
#     SPP = the privilege the trap came from, SPIE = the old SIE, SIE = 0.
# Then the handler returns with SRET: an exception skips its instruction,
# an interrupt is acknowledged, ECALL from U comes back to the kernel.
#
# What it goes through:
#   - exceptions from S, with SIE off and on: breakpoint, illegal
#     instructions (stval = the instruction's bits), a misaligned jump, a
#     fetch and a load from where nothing is (access faults);
#   - SRET to S by hand with SPIE off and on, printing sstatus afterwards
#     (SIE = SPIE, SPIE = 1, SPP = 0);
#   - a user program (SRET with SPP = 0): a breakpoint, then every privileged
#     thing it may not do (an S CSR, SRET, WFI, SFENCE.VMA, rdtime without
#     scounteren.TM): each an illegal instruction with stval = the instruction;
#     rdcycle with scounteren.CY is allowed; ECALL brings it back;
#   - vectored mode: a software interrupt taken in S the moment SIE opens, an
#     exception (to BASE, not a vector), and a timer interrupt taken in U,
#     where supervisor interrupts are always enabled (section 4.1.3).

    .include "sbi.inc"

    .equ SIE_SSIE,   (1 << 1)
    .equ SIP_SSIP,   (1 << 1)

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      a0, text_start
    call    sbi_puts

    # ---- exceptions from S
    ebreak                          # SIE off: SPIE = 0
    csrsi   sstatus, SSTATUS_SIE
    ebreak                          # SIE on: SPIE = 1, and SIE on again after SRET
    csrci   sstatus, SSTATUS_SIE
    csrr    a0, mstatus             # an M-mode CSR
    .word   0xffffffff              # no such instruction
    mret
    la      t0, 1f
    addi    t0, t0, 2
    jalr    ra, 0(t0)               # a misaligned target: the jalr traps, stval = target
1:  li      t0, 0x100
    jalr    ra, 0(t0)               # nothing at 0x100: instruction access fault
    lw      a0, 0(zero)             # load access fault

    # ---- SRET by hand, to S
    la      a0, text_sret_s
    call    sbi_puts
    li      t0, SSTATUS_SPP         # SPP = S, SPIE = 0
    csrs    sstatus, t0
    li      t0, SSTATUS_SPIE
    csrc    sstatus, t0
    la      t0, 1f
    csrw    sepc, t0
    sret
1:  call    print_sstatus           # SIE 0, SPIE 1, SPP 0: 0x20
    li      t0, SSTATUS_SPP | SSTATUS_SPIE
    csrs    sstatus, t0
    la      t0, 1f
    csrw    sepc, t0
    sret
1:  csrr    s1, sstatus             # SIE 1, SPIE 1, SPP 0: 0x22, read at once
    csrci   sstatus, SSTATUS_SIE
    mv      a0, s1
    call    print_hex_line

    # ---- a user program
    la      a0, text_user
    call    sbi_puts
    csrwi   scounteren, 1           # cycle for U, not time or instret
    la      a0, user
    li      a1, SSTATUS_SPIE        # in U with SIE = 1
    call    run_user
    call    print_sstatus           # SRET from the ECALL's handler: SIE = SPIE = 1
    csrci   sstatus, SSTATUS_SIE
    lw      a0, user_cycles
    snez    a0, a0
    call    print_hex_line          # the user's rdcycle read something

    # ---- vectored mode
    la      a0, text_vectored
    call    sbi_puts
    la      t0, vectors
    ori     t0, t0, 1
    csrw    stvec, t0
    csrsi   sie, SIE_SSIE
    csrsi   sip, SIP_SSIP           # pending, but SIE is off: not taken
    csrsi   sstatus, SSTATUS_SIE    # taken right after this instruction
    csrci   sstatus, SSTATUS_SIE
    csrci   sie, SIE_SSIE
    ebreak                          # an exception goes to BASE
    call    read_time
    addi    a0, a0, 300             # (no carry out of the low half this early)
    call    set_timer
    li      t0, SIE_STIE
    csrs    sie, t0
    la      a0, user_loop
    li      a1, 0                   # in U with SIE = 0: the timer is taken anyway
    call    run_user
    li      t0, SIE_STIE
    csrc    sie, t0
    la      t0, handler
    csrw    stvec, t0

    la      a0, text_done
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown

# run_user: SRET to a0 in U with sstatus.SPIE = a1 (so SIE = a1 in U); the
# user's ECALL returns here, in S.
run_user:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      sp, kernel_sp, t0
    la      t0, 1f
    sw      t0, resume, t1
    csrw    sepc, a0
    li      t0, SSTATUS_SPP | SSTATUS_SPIE
    csrc    sstatus, t0
    csrs    sstatus, a1
    sret
1:  lw      sp, kernel_sp
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

print_sstatus:
    csrr    a0, sstatus
print_hex_line:                     # a0, then a newline
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---- the user programs (satp = 0: U reaches all RAM, nothing is mapped)

user:
    ebreak                          # from U: SPP = 0, SPIE = 1 (SIE was on)
    csrr    a0, sstatus             # an S CSR from U
    csrw    sscratch, a0
    sret                            # S instructions from U
    wfi
    sfence.vma
    rdtime  a0                      # scounteren.TM = 0
    rdcycle a1                      # scounteren.CY = 1: allowed
    la      t0, user_cycles
    sw      a1, 0(t0)
    ecall                           # back to the kernel

user_loop:
    li      t0, 1000
1:  addi    t0, t0, -1
    bnez    t0, 1b
    ecall

# ---- the trap vectors (MODE = 1) and the handler

    .balign 4
vectors:
    j       handler                 # 0: every exception
    j       vector_1                # 1: supervisor software interrupt
    j       vector_bad
    j       vector_bad
    j       vector_bad
    j       vector_5                # 5: supervisor timer interrupt
    j       vector_bad
    j       vector_bad
    j       vector_bad
    j       vector_bad              # 9: supervisor external interrupt

vector_1:
    csrw    sscratch, t0
    li      t0, 1
    j       common
vector_5:
    csrw    sscratch, t0
    li      t0, 5
    j       common
vector_bad:
    csrw    sscratch, t0
    li      t0, 99
    j       common

    .balign 4
handler:                            # direct mode, and vector 0
    csrw    sscratch, t0
    li      t0, 0
common:                             # t0 = the entry; the interrupted t0 in sscratch
    addi    sp, sp, -80
    sw      ra, 76(sp)
    sw      t1, 72(sp)
    sw      t2, 68(sp)
    sw      t3, 64(sp)
    sw      t4, 60(sp)
    sw      t5, 56(sp)
    sw      t6, 52(sp)
    sw      a0, 48(sp)
    sw      a1, 44(sp)
    sw      a2, 40(sp)
    sw      a3, 36(sp)
    sw      a4, 32(sp)
    sw      a5, 28(sp)
    sw      a6, 24(sp)
    sw      a7, 20(sp)
    sw      s0, 16(sp)
    sw      s1, 12(sp)
    mv      s1, t0
    csrr    t0, sscratch
    sw      t0, 8(sp)
    csrr    s0, sstatus             # before anything here can change it

    la      a0, text_trap
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    la      a0, text_sepc
    call    sbi_puts
    csrr    a0, sepc
    call    print_hex
    la      a0, text_stval
    call    sbi_puts
    csrr    a0, stval
    call    print_hex
    la      a0, text_sstatus
    call    sbi_puts
    mv      a0, s0
    call    print_hex
    la      a0, text_entry
    call    sbi_puts
    mv      a0, s1
    call    print_udec
    li      a0, '\n'
    call    sbi_putc

    csrr    t0, scause
    bltz    t0, interrupt
    li      t1, CAUSE_USER_ECALL
    beq     t0, t1, user_ecall
    li      t1, CAUSE_INSN_ACCESS_FAULT
    beq     t0, t1, fetch_fault
    csrr    t0, sepc                # anything else: skip the instruction
    addi    t0, t0, INSN_BYTES
    csrw    sepc, t0
    j       return
fetch_fault:                        # the jump wrote ra: go back there
    lw      t0, 76(sp)
    csrw    sepc, t0
    j       return
user_ecall:                         # back to run_user, in S
    lw      t0, resume
    csrw    sepc, t0
    li      t0, SSTATUS_SPP
    csrs    sstatus, t0
    j       return
interrupt:
    slli    t0, t0, 1
    srli    t0, t0, 1
    li      t1, 5
    beq     t0, t1, 1f
    csrci   sip, SIP_SSIP           # the software interrupt: acknowledged here
    j       return
1:  li      a0, -1                  # the timer: no more (this also clears STIP)
    li      a1, -1
    call    set_timer

return:
    lw      t0, 8(sp)
    lw      s1, 12(sp)
    lw      s0, 16(sp)
    lw      a7, 20(sp)
    lw      a6, 24(sp)
    lw      a5, 28(sp)
    lw      a4, 32(sp)
    lw      a3, 36(sp)
    lw      a2, 40(sp)
    lw      a1, 44(sp)
    lw      a0, 48(sp)
    lw      t6, 52(sp)
    lw      t5, 56(sp)
    lw      t4, 60(sp)
    lw      t3, 64(sp)
    lw      t2, 68(sp)
    lw      t1, 72(sp)
    lw      ra, 76(sp)
    addi    sp, sp, 80
    sret

    .section .rodata
text_start:     .asciz "traps: exceptions from S\n"
text_sret_s:    .asciz "traps: SRET to S, sstatus after it\n"
text_user:      .asciz "traps: a user program\n"
text_vectored:  .asciz "traps: vectored interrupts\n"
text_done:      .asciz "traps: done\n"
text_trap:      .asciz "  trap: "
text_sepc:      .asciz " sepc="
text_stval:     .asciz " stval="
text_sstatus:   .asciz " sstatus="
text_entry:     .asciz " entry="

    .data
    .balign 4
resume:         .word 0             # where the user's ECALL returns to, in S
kernel_sp:      .word 0
user_cycles:    .word 0

    .bss
    .balign 16
stack:          .zero 4096
stack_top:
