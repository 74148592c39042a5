# trap.S: your M-mode trap handler (lab 01; README.md says what to do).
#
# It is included by harness.S and boot.S, at the end of their code, so it
# needs no _start of its own. It provides:
#
#     trap_init     called once, in M-mode, before anything traps: installs
#                   trap_vector in mtvec and points mscratch at the handler's
#                   stack. A function: it may clobber t0-t6 and a0-a7.
#     trap_vector   where every trap goes. It must come back with every
#                   register as the trapped code left it, except the ones the
#                   emulated instruction or system call writes.
#
# board.inc (included before this file) names the devices, causes and calls.

    .equ FRAME_SIZE,       32 * 4     # x0-x31, one word each
    .equ TRAP_STACK_SIZE,  1024

trap_init:
    la      t0, trap_vector           # direct mode: the low two bits are 0
    csrw    mtvec, t0
    la      t0, trap_stack_top
    csrw    mscratch, t0
    ret

    .balign 4
trap_vector:
    # The trapped code's sp cannot be trusted (a U-mode program's, or a
    # garbage value): swap it for the handler's own stack, kept in mscratch.
    csrrw   sp, mscratch, sp
    addi    sp, sp, -FRAME_SIZE
    sw      t0, 5 * 4(sp)             # t0 is x5: frame slot 5

    # TODO 1: save the other registers you use (better: all of them, so that
    #         the frame holds every register by its number), including the
    #         trapped code's sp, which is in mscratch now.
    # TODO 2: look at mcause. An illegal instruction (cause 2) whose bits
    #         (mtval, or the word at mepc) are an M instruction: decode rd,
    #         rs1, rs2 and funct3; compute the result from the saved rs1 and
    #         rs2 without any M instruction; store it in the frame at rd,
    #         unless rd is x0.
    # TODO 3: an ECALL from U-mode (cause 8): the system call in a7, as
    #         board.inc describes (write and exit).
    # TODO 4: anything else: print "unhandled trap" and the cause, and stop
    #         the machine with exit status 1.

    # For now: skip the instruction, without doing it.
    csrr    t0, mepc
    addi    t0, t0, 4                 # every instruction is 4 bytes here
    csrw    mepc, t0

    # TODO 5: restore every register you saved, from the frame (rd's new value
    #         with it).
    lw      t0, 5 * 4(sp)
    addi    sp, sp, FRAME_SIZE
    csrrw   sp, mscratch, sp          # mscratch = the handler's stack again
    mret

    .section .bss
    .balign 16
trap_stack:
    .zero   TRAP_STACK_SIZE
trap_stack_top:
    .section .text
