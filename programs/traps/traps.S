# traps.S: synchronous exceptions taken and handled in M-mode.
#
# What it shows:
#   - installing a trap handler: mtvec holds its address (direct mode, so the
#     address must be 4-byte aligned: the two low bits of mtvec are the mode);
#   - what the hart tells the handler: mcause (why), mepc (the address of the
#     instruction that trapped, not the one after it) and mtval (extra
#     information that depends on the cause: the bad address for address
#     faults, the instruction's own bits for an illegal instruction, else 0
#     or, for EBREAK, possibly its address: see step 4);
#   - returning: MRET jumps to mepc. Returning to mepc unchanged would run the
#     same instruction again and trap again forever, so this handler skips it
#     (mepc += 4: every instruction is 4 bytes without the C extension);
#   - a handler must preserve every register the interrupted code uses, t and
#     a registers included: unlike a call, a trap can happen between any two
#     instructions, so the code it interrupts never had a chance to save them.
#
# The exceptions, one per step:
#   1. ECALL in M-mode                  cause 11, mtval 0
#   2. the all-zero word                cause 2, mtval = the bits (0)
#   3. a write to mhartid (read-only)   cause 2, mtval = the bits (0xf1401073)
#   4. EBREAK                           cause 3, mtval = its address on emu
#      (and Spike), 0 on QEMU 7.2: the spec allows either for EBREAK
#   5. a load from an address where nothing is: cause 5, mtval = the address
#   6. a jump to an address that is not 4-byte aligned: cause 0, raised by
#      the jump itself (mepc = the jump, mtval = the target)
#
# Spec sections that matter:
#   - Privileged ISA 1.12: 3.1.7 (mtvec, its MODE field), 3.1.15 (mcause and
#     table 3.6, the cause numbers), 3.1.14 (mepc), 3.1.16 (mtval, what each
#     cause leaves there), 3.3.1 (ECALL, EBREAK), 3.3.2 (MRET), 2.1 (CSR
#     addresses: the top two bits 11 mean read-only, and writing one is an
#     illegal instruction).
#   - Unprivileged ISA 1.5 (the all-zero 32-bit word is defined illegal, so
#     a jump into zeroed memory traps at once), 2.5 (a jump or taken branch
#     to a target that is not 4-byte aligned raises
#     instruction-address-misaligned, reported at the jump, not the target).
#
# Output: one block per trap, then "traps: done"; exit status 0.

    .include "../lib/board.inc"      # UART_*, TEST_*, ASCII_*

    .equ NOTHING_THERE,   0x00000800  # no memory, no device: an access fault
    .equ INSN_BYTES,      4
    .equ STACK_SIZE,      4096

# ANNOUNCE text, label: print "-- <text> at 0x<address of label>".
.macro ANNOUNCE text, label
    la      a0, \text
    la      a1, \label
    call    announce
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top

    # Install the handler. Direct mode (MODE = 0): every trap goes to the
    # address itself. The handler is .balign 4, so its low bits are 00.
    la      t0, trap_handler
    csrw    mtvec, t0
    la      a0, text_mtvec
    call    uart_puts
    csrr    a0, mtvec
    call    print_hex
    la      a0, text_direct_mode
    call    uart_puts

    ANNOUNCE text_ecall, at_ecall
at_ecall:
    ecall                           # a request to the environment (M: itself)

    ANNOUNCE text_zero_word, at_zero_word
at_zero_word:
    .word   0                       # not an instruction: illegal on purpose

    ANNOUNCE text_write_ro, at_write_ro
at_write_ro:
    csrw    mhartid, zero           # mhartid is 0xF14: read-only (top bits 11)

    ANNOUNCE text_ebreak, at_ebreak
at_ebreak:
    ebreak                          # what a debugger plants as a breakpoint

    # The address goes into an s register first, so that the announced
    # address is the load's own (announce keeps s registers, as callees do).
    li      s2, NOTHING_THERE
    ANNOUNCE text_load_fault, at_load_fault
at_load_fault:
    lw      t1, 0(s2)               # t1 is not written: the load never happened

    la      s2, after_jump + 2      # halfway into an instruction
    ANNOUNCE text_misaligned_jump, at_misaligned_jump
at_misaligned_jump:
    jr      s2                      # traps here, before jumping
after_jump:
    # The handler skipped the jr, so execution goes on here.

    la      a0, text_done
    call    uart_puts
    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
1:  j       1b                      # the store stops the machine

# announce: a0 = text, a1 = an address; prints "-- <text> at 0x<address>".
announce:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)
    mv      s0, a0
    mv      s1, a1
    la      a0, text_dashes
    call    uart_puts
    mv      a0, s0
    call    uart_puts
    la      a0, text_at
    call    uart_puts
    mv      a0, s1
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# The trap handler. The hart comes here in M-mode with interrupts off
# (mstatus.MIE was copied to MPIE and cleared), having set mepc, mcause and
# mtval. It runs on the same stack as main: this program never leaves M-mode,
# so sp is always a good M-mode stack (compare paging.S, which must switch).

    .balign 4                       # mtvec's low two bits are the mode
trap_handler:
    # Save every register this handler or the routines it calls may change.
    # s0 and s1 would be saved by any callee that used them, but the handler
    # uses them itself, so it saves them as well.
    addi    sp, sp, -80
    sw      ra, 76(sp)
    sw      t0, 72(sp)
    sw      t1, 68(sp)
    sw      t2, 64(sp)
    sw      t3, 60(sp)
    sw      t4, 56(sp)
    sw      t5, 52(sp)
    sw      t6, 48(sp)
    sw      a0, 44(sp)
    sw      a1, 40(sp)
    sw      a2, 36(sp)
    sw      a3, 32(sp)
    sw      a4, 28(sp)
    sw      a5, 24(sp)
    sw      a6, 20(sp)
    sw      a7, 16(sp)
    sw      s0, 12(sp)
    sw      s1, 8(sp)

    csrr    s0, mcause
    bltz    s0, unexpected_trap     # bit 31: an interrupt; none are enabled

    # "trap: mcause = N (name)"
    la      a0, text_mcause
    call    uart_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_open
    call    uart_puts
    mv      a0, s0
    call    print_cause             # its name in the privileged spec
    la      a0, text_close
    call    uart_puts

    # "      mepc   = 0x..."
    la      a0, text_mepc
    call    uart_puts
    csrr    a0, mepc
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc

    # "      mtval  = 0x..."
    la      a0, text_mtval
    call    uart_puts
    csrr    a0, mtval
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc

    # Resume after the instruction that trapped. mepc points AT it: for an
    # ECALL that is how the handler finds the call; for a fault it is what a
    # kernel would retry after fixing the cause (mapping the page, say).
    csrr    t0, mepc
    addi    t0, t0, INSN_BYTES
    csrw    mepc, t0

    lw      s1, 8(sp)
    lw      s0, 12(sp)
    lw      a7, 16(sp)
    lw      a6, 20(sp)
    lw      a5, 24(sp)
    lw      a4, 28(sp)
    lw      a3, 32(sp)
    lw      a2, 36(sp)
    lw      a1, 40(sp)
    lw      a0, 44(sp)
    lw      t6, 48(sp)
    lw      t5, 52(sp)
    lw      t4, 56(sp)
    lw      t3, 60(sp)
    lw      t2, 64(sp)
    lw      t1, 68(sp)
    lw      t0, 72(sp)
    lw      ra, 76(sp)
    addi    sp, sp, 80
    mret                            # pc = mepc; MIE = MPIE; privilege = MPP

unexpected_trap:
    la      a0, text_unexpected
    call    uart_puts
    mv      a0, s0
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc
    li      t0, TEST_BASE
    li      t1, (1 << 16) | TEST_FAIL   # exit status 1
    sw      t1, 0(t0)
1:  j       1b

# ---------------------------------------------------------------------------
# Output over the 16550 UART: uart_putc, uart_puts, print_udec, print_hex;
# and print_cause, which prints an mcause value by name.

    .include "../lib/causes.inc"
    .include "../lib/uart.inc"

    .section .rodata
text_mtvec:           .asciz "traps: mtvec = "
text_direct_mode:     .asciz " (direct mode)\n"
text_dashes:          .asciz "-- "
text_at:              .asciz " at "
text_ecall:           .asciz "ecall"
text_zero_word:       .asciz "the all-zero word"
text_write_ro:        .asciz "csrw mhartid (read-only)"
text_ebreak:          .asciz "ebreak"
text_load_fault:      .asciz "load from nowhere"
text_misaligned_jump: .asciz "jump to a misaligned address"
text_mcause:          .asciz "trap: mcause = "
text_open:            .asciz " ("
text_close:           .asciz ")\n"
text_mepc:            .asciz "      mepc   = "
text_mtval:           .asciz "      mtval  = "
text_unexpected:      .asciz "unexpected trap, mcause = "
text_done:            .asciz "traps: done\n"

    .bss
    .balign 16
stack:          .zero STACK_SIZE
stack_top:
