# csrs.S: the CSR instructions, form by form, and the rules of access.
#
# Each line printed is one value read back, `name: 0x...`; an access that is
# not allowed traps, and the handler prints `  trap: <cause> stval=...` and
# skips the instruction (rd keeps its value: the line after shows it).
#
# What it goes through (privileged spec 2.1 and 2.3; docs/isa.md, "CSRs"):
#   - the six forms: csrrw, csrrs, csrrc and their immediates; rd = x0 (no
#     read needed) and rs1 = x0 or zimm = 0 (no write); rd = rs1, where the
#     old value must be read before rd is written;
#   - what each S-mode CSR keeps of a write of all ones (its write mask);
#   - the counters: cycle, time, instret and their high halves are readable
#     in S, read-only everywhere: csrrs with rs1 = x0 reads, but any write,
#     even of x1 holding 0, is illegal;
#   - CSRs S-mode may not touch: M-mode's, the hypervisor's (bits 9:8 = 2),
#     and numbers where no CSR is;
#   - satp: Bare mode with garbage in the other fields (ASID reads 0).

    .include "sbi.inc"

# PRINT reg, label: print "label: 0x<reg>" and a newline, keeping every register.
.macro PRINT reg, label
    addi    sp, sp, -64
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      t3, 16(sp)
    sw      t4, 20(sp)
    sw      t5, 24(sp)
    sw      t6, 28(sp)
    sw      a0, 32(sp)
    sw      a1, 36(sp)
    sw      a2, 40(sp)
    sw      a3, 44(sp)
    sw      a4, 48(sp)
    sw      a5, 52(sp)
    sw      a6, 56(sp)
    sw      a7, 60(sp)
    mv      a1, \reg
    la      a0, \label
    call    print_value
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      t3, 16(sp)
    lw      t4, 20(sp)
    lw      t5, 24(sp)
    lw      t6, 28(sp)
    lw      a0, 32(sp)
    lw      a1, 36(sp)
    lw      a2, 40(sp)
    lw      a3, 44(sp)
    lw      a4, 48(sp)
    lw      a5, 52(sp)
    lw      a6, 56(sp)
    lw      a7, 60(sp)
    addi    sp, sp, 64
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, handler
    csrw    stvec, t0
    la      a0, text_start
    call    sbi_puts

    # ---- the forms, on sscratch
    li      a0, -1
    csrw    sscratch, a0            # csrrw x0: write only
    li      a0, 0x1234
    csrrw   a0, sscratch, a0        # swap: a0 = old, sscratch = 0x1234
    PRINT   a0, text_swap_old
    csrrs   a1, sscratch, zero      # read, no write
    PRINT   a1, text_read
    li      a2, 0xF0F0
    csrrs   a2, sscratch, a2        # set bits, rd = rs1
    PRINT   a2, text_set_old
    csrr    a0, sscratch
    PRINT   a0, text_set_new
    li      a3, 0x00F0
    csrrc   a4, sscratch, a3        # clear bits
    csrr    a0, sscratch
    PRINT   a0, text_clear_new
    csrrwi  a5, sscratch, 21        # immediates: zimm is the value, not a register
    csrr    a0, sscratch
    PRINT   a0, text_wi
    csrrsi  a6, sscratch, 10
    csrr    a0, sscratch
    PRINT   a0, text_si
    csrrci  a7, sscratch, 0x11
    csrr    a0, sscratch
    PRINT   a0, text_ci
    csrrsi  t3, sscratch, 0         # zimm = 0: a read
    PRINT   t3, text_si0
    csrrs   zero, sscratch, zero    # rd = x0 and rs1 = x0: nothing at all

    # ---- write masks: all ones into each S CSR, read back
    li      s1, -1
    csrw    sstatus, s1
    csrr    a0, sstatus
    PRINT   a0, text_sstatus
    csrw    sstatus, zero
    csrw    sie, s1
    csrr    a0, sie
    PRINT   a0, text_sie
    csrw    sie, zero
    csrw    sip, s1                 # only SSIP is writable in S
    csrr    a0, sip
    PRINT   a0, text_sip
    csrw    sip, zero
    csrr    s2, stvec
    csrw    stvec, s1               # MODE 3: bit 1 reads 0, vectored
    csrr    a0, stvec
    PRINT   a0, text_stvec
    li      a0, 0x80001002          # MODE 2 is reserved: it reads as 0
    csrw    stvec, a0
    csrr    a0, stvec
    PRINT   a0, text_stvec2
    csrw    stvec, s2
    csrw    scounteren, s1
    csrr    a0, scounteren
    PRINT   a0, text_scounteren
    csrw    scounteren, zero
    csrw    sepc, s1                # bits 1:0 read 0
    csrr    a0, sepc
    PRINT   a0, text_sepc
    csrw    scause, s1
    csrr    a0, scause
    PRINT   a0, text_scause
    csrw    stval, s1
    csrr    a0, stval
    PRINT   a0, text_stval
    li      a0, 0x7fffffff          # Bare mode, garbage in ASID and PPN
    csrw    satp, a0
    csrr    a0, satp
    PRINT   a0, text_satp
    csrw    satp, zero

    # ---- the counters: equal as long as the instruction counts are
    rdcycle a0
    PRINT   a0, text_cycle
    rdtime  a0
    PRINT   a0, text_time
    rdinstret a0
    PRINT   a0, text_instret
    csrr    a0, cycleh
    PRINT   a0, text_cycleh
    csrrs   a0, instret, zero       # csrr: a read, allowed
    PRINT   a0, text_instret
    csrrsi  a0, time, 0             # a read too
    PRINT   a0, text_time
    li      a0, 0x5A5A
    li      a1, 0
    csrrs   a0, cycle, a1           # rs1 is not x0: a write, illegal; a0 kept
    PRINT   a0, text_kept
    csrw    time, a1                # illegal
    csrrwi  a0, instret, 0          # illegal
    csrrci  a0, cycleh, 1           # illegal
    PRINT   a0, text_kept

    # ---- not S-mode's to touch
    csrr    a0, mstatus
    csrw    mscratch, a1
    csrr    a0, 0x200               # vsstatus: hypervisor level (bits 9:8 = 2)
    csrr    a0, 0x5c0               # S-level custom space: no CSR there
    csrr    a0, 0xdc0               # S-level read-only custom space: none either
    csrr    a0, 0x107               # next to scounteren: nothing
    PRINT   a0, text_kept

    la      a0, text_done
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown

print_value:                        # a0 = the label, a1 = the value
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    mv      s0, a1
    call    sbi_puts
    la      a0, text_colon
    call    sbi_puts
    mv      a0, s0
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# The handler: print the trap and skip the instruction.
    .balign 4
handler:
    addi    sp, sp, -64
    sw      ra, 60(sp)
    sw      t0, 56(sp)
    sw      t1, 52(sp)
    sw      t2, 48(sp)
    sw      t3, 44(sp)
    sw      t4, 40(sp)
    sw      t5, 36(sp)
    sw      t6, 32(sp)
    sw      a0, 28(sp)
    sw      a1, 24(sp)
    sw      a2, 20(sp)
    sw      a3, 16(sp)
    sw      a4, 12(sp)
    sw      a5, 8(sp)
    sw      a6, 4(sp)
    sw      a7, 0(sp)
    la      a0, text_trap
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    la      a0, text_stval_is
    call    sbi_puts
    csrr    a0, stval
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    csrr    t0, sepc
    addi    t0, t0, INSN_BYTES
    csrw    sepc, t0
    lw      ra, 60(sp)
    lw      t0, 56(sp)
    lw      t1, 52(sp)
    lw      t2, 48(sp)
    lw      t3, 44(sp)
    lw      t4, 40(sp)
    lw      t5, 36(sp)
    lw      t6, 32(sp)
    lw      a0, 28(sp)
    lw      a1, 24(sp)
    lw      a2, 20(sp)
    lw      a3, 16(sp)
    lw      a4, 12(sp)
    lw      a5, 8(sp)
    lw      a6, 4(sp)
    lw      a7, 0(sp)
    addi    sp, sp, 64
    sret

    .section .rodata
text_start:       .asciz "csrs: the forms, the masks, the rules\n"
text_done:        .asciz "csrs: done\n"
text_colon:       .asciz ": "
text_trap:        .asciz "  trap: "
text_stval_is:    .asciz " stval="
text_swap_old:    .asciz "csrrw old"
text_read:        .asciz "csrrs x0"
text_set_old:     .asciz "csrrs old"
text_set_new:     .asciz "csrrs new"
text_clear_new:   .asciz "csrrc new"
text_wi:          .asciz "csrrwi 21"
text_si:          .asciz "csrrsi 10"
text_ci:          .asciz "csrrci 0x11"
text_si0:         .asciz "csrrsi 0"
text_sstatus:     .asciz "sstatus"
text_sie:         .asciz "sie"
text_sip:         .asciz "sip"
text_stvec:       .asciz "stvec"
text_stvec2:      .asciz "stvec mode 2"
text_scounteren:  .asciz "scounteren"
text_sepc:        .asciz "sepc"
text_scause:      .asciz "scause"
text_stval:       .asciz "stval"
text_satp:        .asciz "satp"
text_cycle:       .asciz "cycle"
text_time:        .asciz "time"
text_instret:     .asciz "instret"
text_cycleh:      .asciz "cycleh"
text_kept:        .asciz "rd kept"

    .bss
    .balign 16
stack:            .zero 4096
stack_top:
