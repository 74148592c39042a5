# atomics.S: the A extension on one hart: LR/SC reservations and the AMOs.
#
# Unprivileged spec chapter 8: LR.W reserves the word it loads; SC.W stores and
# writes 0 to rd only if the reservation is still valid for that address,
# otherwise it writes a nonzero code (1, "unspecified failure") and stores
# nothing; any SC.W, successful or not, ends the reservation (8.2). An AMO
# returns the old value in rd and stores op(old, rs2) (8.4); signed and unsigned
# min/max compare as their names say.
#
# The privileged spec lets xRET and traps clear the reservation but does not
# require it (3.3.2). Emu, with one hart, clears it on every trap and every
# xRET (DESIGN.md), which is what makes an LR/SC pair in a kernel safe across a
# context switch. (QEMU 7.2 does the same, so these cases run there too.)

    .include "check.S"

    .equ SC_FAIL,  1

main:
    la      s0, word
    la      s1, far_word                # another page: never in s0's set

    # -- LR/SC that succeeds.
    CASE 1
    li      t0, 100
    sw      t0, 0(s0)
    li      a2, 200
    lr.w    a0, (s0)
    sc.w    a1, a2, (s0)
    CHECK_EQ a0, 100
    CHECK_EQ a1, 0
    CHECK_WORD word, 200

    # -- SC without a reservation fails and stores nothing; so does an SC
    # right after a successful one (the reservation is used up).
    CASE 2
    li      a2, 300
    sc.w    a1, a2, (s0)
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 200
    CASE 3
    lr.w    a0, (s0)
    sc.w    a1, a2, (s0)
    CHECK_EQ a1, 0
    li      a2, 400
    sc.w    a1, a2, (s0)
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 300

    # -- SC to another address fails, and ends the reservation anyway.
    CASE 4
    li      t0, 7
    sw      t0, 0(s1)
    lr.w    a0, (s0)
    li      a2, 500
    sc.w    a1, a2, (s1)
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD far_word, 7
    sc.w    a1, a2, (s0)
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 300

    # -- The ordering bits change nothing on one hart.
    CASE 5
    lr.w.aq a0, (s0)
    sc.w.rl a1, a2, (s0)
    CHECK_EQ a0, 300
    CHECK_EQ a1, 0
    CHECK_WORD word, 500
    lr.w.aqrl a0, (s0)
    sc.w.aqrl a1, a0, (s0)
    CHECK_EQ a1, 0

    # -- rd = x0 and rd = the address register.
    CASE 6
    lr.w    zero, (s0)
    li      a2, 600
    sc.w    zero, a2, (s0)
    CHECK_WORD word, 600
    mv      t0, s0
    lr.w    t0, (t0)                    # rd overwrites the address: fine
    CHECK_EQ t0, 600

    # -- A trap ends the reservation. The handler here does the SC
    # itself, before any xRET, so this is the trap alone.
    CASE 10
    la      t0, sc_in_handler
    csrw    mtvec, t0
    li      a2, 700
    lr.w    a0, (s0)
    ecall
    # (not reached: sc_in_handler goes on at after_handler_sc)
    FAIL
after_handler_sc:
    la      t0, mtrap_entry
    csrw    mtvec, t0
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 600

    # -- MRET alone ends it too (MRET to M, to the next instruction).
    CASE 11
    lr.w    a0, (s0)
    GOTO_MODE PRV_M, 1f
1:  li      a2, 800
    sc.w    a1, a2, (s0)
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 600

    # -- And SRET (from M, to S, where the SC runs).
    CASE 12
    li      t0, MSTATUS_SPP
    csrs    mstatus, t0
    la      t0, 1f
    csrw    sepc, t0
    EXPECT_TRAP 2f
    lr.w    a0, (s0)
    sret
1:  li      a2, 900
    sc.w    a1, a2, (s0)
    ecall
2:  CHECK_WORD mtrap_cause, CAUSE_SUPERVISOR_ECALL
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 600

    # -- An interrupt is a trap: LR, the timer fires, SC fails.
    CASE 13
    li      t0, MTIMECMP_ADDR           # a deadline in the past: MTIP now
    li      t1, -1
    sw      t1, 4(t0)
    sw      zero, 0(t0)
    sw      zero, 4(t0)
    li      t0, MIP_MTIP
    csrw    mie, t0
    la      t0, sc_in_handler
    csrw    mtvec, t0
    li      a2, 1000
    lr.w    a0, (s0)
    li      t0, MSTATUS_MIE
    csrs    mstatus, t0                 # taken before the next instruction
    FAIL
after_interrupt_sc:
    la      t0, mtrap_entry
    csrw    mtvec, t0
    csrw    mie, zero
    li      t0, MTIMECMP_ADDR
    li      t1, -1
    sw      t1, 4(t0)
    sw      t1, 0(t0)
    csrr    t0, mcause
    CHECK_EQ t0, CAUSE_INTERRUPT | IRQ_M_TIMER
    CHECK_EQ a1, SC_FAIL
    CHECK_WORD word, 600

    # -- The AMOs: old value to rd, op(old, rs2) to memory.
    CASE 20
    li      t0, 0x0000f00f
    sw      t0, 0(s0)
    li      a2, 0x12345678
    amoswap.w a0, a2, (s0)
    CHECK_EQ a0, 0x0000f00f
    CHECK_WORD word, 0x12345678
    CASE 21
    li      a2, 0x11111111
    amoadd.w a0, a2, (s0)
    CHECK_EQ a0, 0x12345678
    CHECK_WORD word, 0x23456789
    CASE 22
    li      a2, 0xff00ff00
    amoxor.w a0, a2, (s0)
    CHECK_EQ a0, 0x23456789
    CHECK_WORD word, 0xdc459889
    CASE 23
    li      a2, 0x0ff00ff0
    amoand.w a0, a2, (s0)
    CHECK_EQ a0, 0xdc459889
    CHECK_WORD word, 0x0c400880
    CASE 24
    li      a2, 0x00000003
    amoor.w a0, a2, (s0)
    CHECK_EQ a0, 0x0c400880
    CHECK_WORD word, 0x0c400883

    # Signed and unsigned min/max around the sign bit.
    CASE 25
    li      t0, -5
    sw      t0, 0(s0)
    li      a2, 3
    amomin.w a0, a2, (s0)               # min(-5, 3) = -5
    CHECK_EQ a0, -5
    CHECK_WORD word, -5
    amomax.w a0, a2, (s0)               # max(-5, 3) = 3
    CHECK_EQ a0, -5
    CHECK_WORD word, 3
    CASE 26
    li      t0, -5
    sw      t0, 0(s0)
    amominu.w a0, a2, (s0)              # minu(0xfffffffb, 3) = 3
    CHECK_EQ a0, -5
    CHECK_WORD word, 3
    li      a2, -5
    amomaxu.w a0, a2, (s0)              # maxu(3, 0xfffffffb)
    CHECK_EQ a0, 3
    CHECK_WORD word, -5

    # rd = x0 still stores; rd = rs2 gets the old value, memory the new one
    # computed from rs2's value before the write.
    CASE 27
    li      t0, 10
    sw      t0, 0(s0)
    li      a2, 5
    amoadd.w zero, a2, (s0)
    CHECK_WORD word, 15
    amoadd.w.aqrl a2, a2, (s0)
    CHECK_EQ a2, 15
    CHECK_WORD word, 20

    PASS

# A trap handler that does the SC first thing (no xRET in between), keeps its
# result in a1 and goes on in M at the label for the case (10 or 13).
    .balign 4
sc_in_handler:
    sc.w    a1, a2, (s0)
    csrr    t0, mcause
    bltz    t0, 1f                      # an interrupt: case 13
    la      t0, after_handler_sc
    j       2f
1:  li      t0, MSTATUS_MPIE            # keep MIE off after the MRET
    csrc    mstatus, t0
    la      t0, after_interrupt_sc
2:  csrw    mepc, t0
    li      t0, MSTATUS_MPP
    csrs    mstatus, t0
    mret

    .data
    .balign 16
word:
    .word 0
    .balign PAGE_SIZE
far_word:
    .word 0
