# adv-mcsr.S: an adversarial guest that reaches for M-mode's controls.
#
# What it shows: privilege is enforced by the hart, not by the kernel's good
# manners. This S-mode kernel tries, one at a time, what only M-mode may do,
# and catches each attempt in its own trap handler:
#   - read or write the machine CSRs (mstatus, mtvec, mepc, medeleg,
#     pmpcfg0, mhartid): CSR addresses 0x3xx and 0xFxx belong to M-mode, so
#     from S-mode they raise illegal instruction (privileged spec 2.1);
#   - MRET: an M-mode instruction, illegal in S-mode (spec 3.3.2);
#   - an instruction that does not exist (all zeros, and the custom-0 opcode):
#     illegal instruction;
#   - write satp with garbage in the fields that Bare mode ignores (satp is
#     S-mode's own CSR: no trap; MODE = 0 keeps translation off);
#   - store "never" (all ones) straight into the CLINT's mtimecmp, the
#     machine timer that the firmware (or the hypervisor) owns.
# The handler records scause and skips the instruction (sepc + 4), so the
# kernel goes on to the next attempt. Each line says what happened.
#
# Under the hypervisor every one of these runs in real U-mode and traps to
# it; it must reflect exactly the traps real S-mode would take back to this
# kernel (sepc, scause, stvec), and must never let the attempt through.
#
# The CLINT store comes last, after the summary line. It must fault: the
# CLINT is the firmware's (`emu run --boot s` keeps it from S-mode as
# OpenSBI's PMP does), and a guest of the hypervisor has no CLINT at all.

    .include "sbi.inc"

    .equ NO_TRAP,         -1        # caught_cause while nothing trapped
    .equ CLINT_MTIMECMP,  0x02004000
    .equ SATP_GARBAGE,    0x7fffffff    # MODE = Bare, every other bit set

# ATTEMPT "text": start one attempt: print "adv-mcsr: text: " and forget any
# earlier trap. The instruction to try comes next, then `call outcome`.
.macro ATTEMPT text
    .pushsection .rodata
.Lattempt\@:
    .asciz "\text"
    .popsection
    la      a0, .Lattempt\@
    call    begin
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0

    la      a0, text_start
    call    sbi_puts

    ATTEMPT "csrr mstatus"
    csrr    t0, mstatus
    call    outcome
    ATTEMPT "csrw mtvec"
    la      t0, _start
    csrw    mtvec, t0
    call    outcome
    ATTEMPT "csrr mepc"
    csrr    t0, mepc
    call    outcome
    ATTEMPT "csrw mepc"
    csrw    mepc, zero
    call    outcome
    ATTEMPT "csrw medeleg (take back the delegated traps)"
    csrw    medeleg, zero
    call    outcome
    ATTEMPT "csrr mhartid"
    csrr    t0, mhartid
    call    outcome
    ATTEMPT "csrr pmpcfg0"
    csrr    t0, pmpcfg0
    call    outcome
    ATTEMPT "csrw pmpcfg0 (open all memory)"
    li      t0, 0x1f                # NAPOT, R, W, X
    csrw    pmpcfg0, t0
    call    outcome
    ATTEMPT "mret"
    mret
    call    outcome
    ATTEMPT "the all-zeros instruction"
    .word   0x00000000
    call    outcome
    ATTEMPT "a custom-0 opcode instruction"
    .word   0x0000000b
    call    outcome

    ATTEMPT "csrw satp with garbage in Bare mode"
    li      t0, SATP_GARBAGE
    csrw    satp, t0
    call    outcome
    csrw    satp, zero              # put it back as it should be
    sfence.vma

    la      a0, text_trapped
    call    sbi_puts
    lw      a0, trapped
    call    print_udec
    la      a0, text_of
    call    sbi_puts
    lw      a0, attempts
    call    print_udec
    la      a0, text_attempts
    call    sbi_puts

    # Last, after the summary (everything above is the same on every correct
    # host): the board's CLINT, which a guest of the hypervisor does not have.
    la      a0, text_board
    call    sbi_puts
    ATTEMPT "sw to the CLINT mtimecmp"
    li      t0, CLINT_MTIMECMP
    li      t1, -1                  # "never": harmless even if it lands
    sw      t1, 0(t0)
    call    outcome
    li      a0, SRST_REASON_NONE
    call    shutdown

# begin: a0 = the attempt's text; prints it and resets caught_cause.
begin:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, NO_TRAP
    sw      t0, caught_cause, t1
    lw      t0, attempts
    addi    t0, t0, 1
    sw      t0, attempts, t1
    mv      t0, a0
    la      a0, text_prefix
    sw      t0, 8(sp)
    call    sbi_puts
    lw      a0, 8(sp)
    call    sbi_puts
    la      a0, text_colon
    call    sbi_puts
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# outcome: prints the cause the attempt trapped with, or "no trap".
outcome:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    lw      a0, caught_cause
    li      t0, NO_TRAP
    bne     a0, t0, 1f
    la      a0, text_no_trap
    call    sbi_puts
    j       2f
1:  lw      t0, trapped
    addi    t0, t0, 1
    sw      t0, trapped, t1
    call    print_cause
2:  li      a0, '\n'
    call    sbi_putc
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# The trap handler: note the cause, step over the instruction that trapped.
# Only synchronous exceptions are expected (no interrupt is enabled); a trap
# while a cause is already noted means the handler itself faulted or an
# attempt trapped twice: stop rather than loop.

    .balign 4
trap_handler:
    addi    sp, sp, -16
    sw      t0, 12(sp)
    sw      t1, 8(sp)
    lw      t0, caught_cause
    li      t1, NO_TRAP
    bne     t0, t1, twice
    csrr    t0, scause
    bltz    t0, twice               # an interrupt: not expected
    sw      t0, caught_cause, t1
    csrr    t0, sepc                # every attempt is one 4-byte instruction
    addi    t0, t0, INSN_BYTES
    csrw    sepc, t0
    lw      t1, 8(sp)
    lw      t0, 12(sp)
    addi    sp, sp, 16
    sret

twice:
    la      a0, text_twice
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

    .section .rodata
text_start:    .asciz "adv-mcsr: an S-mode kernel trying M-mode's controls\n"
text_prefix:   .asciz "adv-mcsr: "
text_colon:    .asciz ": "
text_no_trap:  .asciz "no trap"
text_trapped:  .asciz "adv-mcsr: "
text_of:       .asciz " of "
text_attempts: .asciz " attempts trapped\n"
text_twice:    .asciz "adv-mcsr: unexpected trap: "
text_board:    .asciz "adv-mcsr: and the board's CLINT, which a hypervisor guest does not have\n"

    .data
    .balign 4
caught_cause:  .word NO_TRAP
attempts:      .word 0
trapped:       .word 0

    .bss
    .balign 16
stack:         .zero 4096
stack_top:
