# sbi-check.S: an S-mode kernel that checks its SBI firmware against the SBI spec.
#
# It boots as hello-sbi does (S-mode at its ELF entry, a0 = hart id, a1 = the
# address of the device tree, satp = 0) and prints one line per check, "ok NAME" or "FAIL NAME", so the
# output diff against expected.txt names what broke. Output goes through the
# legacy console putchar, the simplest path, so that a broken extension cannot
# hide the report. At the end it shuts down through SRST, with reason "system
# failure" if any check failed.
#
# RISC-V SBI specification v2.0:
#   chapter 3   binary encoding: a7 = EID, a6 = FID, a0-a5 arguments; returns
#               a0 = error, a1 = value; every other register is preserved;
#               SBI_ERR_NOT_SUPPORTED (-2) for an unknown EID or FID,
#               SBI_ERR_INVALID_PARAM (-3) for bad arguments
#   chapter 4   Base (EID 0x10): get_spec_version = 2.0 (major in bits 30:24),
#               get_impl_id, get_impl_version, probe_extension (nonzero when
#               present, 0 when not), get_mvendorid/marchid/mimpid (the CSRs,
#               all 0 on this board)
#   chapter 5   legacy extensions: console putchar (EID 0x01)
#   chapter 6   Timer (EID 0x54494D45) set_timer(stime_value, a0/a1 on RV32):
#               programs the next supervisor timer interrupt and clears the
#               pending one; (uint64_t)-1 means never
#   chapter 10  System Reset (EID 0x53525354): reserved types and reasons are
#               SBI_ERR_INVALID_PARAM
#   chapter 12  Debug Console (EID 0x4442434E): console_write (FID 0) of
#               a0 bytes at physical address a2:a1, returns the count written;
#               console_write_byte (FID 2); an address that is not memory is
#               SBI_ERR_INVALID_PARAM
# And the privileged spec for the S side: time (rdtime) readable in S-mode
# because the firmware sets mcounteren.TM, and the timer interrupt arriving as
# scause = interrupt | 5 at stvec once sie.STIE and sstatus.SIE are set.

    .equ SBI_EXT_BASE,           0x10
    .equ SBI_BASE_GET_SPEC_VERSION, 0
    .equ SBI_BASE_GET_IMPL_ID,   1
    .equ SBI_BASE_GET_IMPL_VERSION, 2
    .equ SBI_BASE_PROBE_EXTENSION, 3
    .equ SBI_BASE_GET_MVENDORID, 4
    .equ SBI_BASE_GET_MARCHID,   5
    .equ SBI_BASE_GET_MIMPID,    6
    .equ SBI_EXT_LEGACY_PUTCHAR, 0x01
    .equ SBI_EXT_TIME,           0x54494D45     # "TIME"
    .equ SBI_TIME_SET_TIMER,     0
    .equ SBI_EXT_SRST,           0x53525354     # "SRST"
    .equ SBI_SRST_SYSTEM_RESET,  0
    .equ SRST_TYPE_SHUTDOWN,     0
    .equ SRST_TYPE_RESERVED,     0x10000000     # in 0x3..0xEFFFFFFF
    .equ SRST_REASON_NONE,       0
    .equ SRST_REASON_FAILURE,    1
    .equ SRST_REASON_RESERVED,   0x10000000     # in 0x2..0xDFFFFFFF
    .equ SBI_EXT_DBCN,           0x4442434E     # "DBCN"
    .equ SBI_DBCN_CONSOLE_WRITE, 0
    .equ SBI_DBCN_CONSOLE_WRITE_BYTE, 2
    .equ SBI_EXT_UNKNOWN,        0x12345        # no such extension
    .equ SBI_FID_UNKNOWN,        0x100          # no such Base function

    .equ SBI_SUCCESS,            0
    .equ SBI_ERR_NOT_SUPPORTED,  -2
    .equ SBI_ERR_INVALID_PARAM,  -3
    .equ SBI_SPEC_VERSION_2_0,   (2 << 24) | 0
    .equ FDT_MAGIC_LE,           0xedfe0dd0     # 0xd00dfeed as a little-endian load reads it

    .equ SIE_STIE,               (1 << 5)
    .equ SSTATUS_SIE,            (1 << 1)
    .equ SIP_STIP,               (1 << 5)
    .equ SCAUSE_S_TIMER,         0x80000005
    .equ TIMER_DELTA,            10000          # ticks from now
    .equ BAD_ADDR_HIGH,          1              # 0x1_xxxx_xxxx: beyond RAM
    .equ STACK_SIZE,             4096
    .equ PRESERVE_MAGIC,         0x5b100000     # + register number

# SBI eid, fid: the call, arguments already in a0..a5.
.macro SBI eid, fid
    li      a7, \eid
    li      a6, \fid
    ecall
.endm

# REPORT name: a0 = 1 means the check held; print "ok name" or "FAIL name".
.macro REPORT name
    .pushsection .rodata
.Lname\@:
    .asciz "\name"
    .popsection
    la      a1, .Lname\@
    call    report
.endm

# OK_IF_VALUE reg: a0 = 1 if the call returned SBI_SUCCESS and a1 == reg.
# (Clobbers t0.)
.macro OK_IF_VALUE reg
    seqz    t0, a0
    sub     a1, a1, \reg
    seqz    a1, a1
    and     a0, t0, a1
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    mv      s0, a0                      # the boot arguments
    mv      s1, a1
    li      s11, 0                      # failed checks

    # -- The boot state, as OpenSBI leaves it.
    seqz    a0, s0
    REPORT  "boot.hartid"
    lw      t0, 0(s1)                   # the tree's magic, 0xd00dfeed big-endian
    li      t1, FDT_MAGIC_LE
    sub     a0, t0, t1
    seqz    a0, a0
    REPORT  "boot.a1"
    csrr    a0, satp
    seqz    a0, a0
    REPORT  "boot.satp"

    # -- Base.
    SBI     SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
    li      t1, SBI_SPEC_VERSION_2_0
    OK_IF_VALUE t1
    REPORT  "base.get_spec_version"
    SBI     SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID
    seqz    a0, a0                      # any ID, but no error
    REPORT  "base.get_impl_id"
    SBI     SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION
    seqz    a0, a0
    REPORT  "base.get_impl_version"
    SBI     SBI_EXT_BASE, SBI_BASE_GET_MVENDORID
    OK_IF_VALUE zero
    REPORT  "base.get_mvendorid"
    SBI     SBI_EXT_BASE, SBI_BASE_GET_MARCHID
    OK_IF_VALUE zero
    REPORT  "base.get_marchid"
    SBI     SBI_EXT_BASE, SBI_BASE_GET_MIMPID
    OK_IF_VALUE zero
    REPORT  "base.get_mimpid"

    li      a0, SBI_EXT_BASE
    call    probe_present
    REPORT  "base.probe_extension base"
    li      a0, SBI_EXT_TIME
    call    probe_present
    REPORT  "base.probe_extension time"
    li      a0, SBI_EXT_SRST
    call    probe_present
    REPORT  "base.probe_extension srst"
    li      a0, SBI_EXT_DBCN
    call    probe_present
    REPORT  "base.probe_extension dbcn"
    li      a0, SBI_EXT_LEGACY_PUTCHAR
    call    probe_present
    REPORT  "base.probe_extension legacy putchar"
    li      a0, SBI_EXT_UNKNOWN
    SBI     SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION
    OK_IF_VALUE zero                    # success, value 0: not there
    REPORT  "base.probe_extension unknown"

    # -- Unknown calls.
    SBI     SBI_EXT_UNKNOWN, 0
    addi    a0, a0, -SBI_ERR_NOT_SUPPORTED
    seqz    a0, a0
    REPORT  "unknown extension is SBI_ERR_NOT_SUPPORTED"
    SBI     SBI_EXT_BASE, SBI_FID_UNKNOWN
    addi    a0, a0, -SBI_ERR_NOT_SUPPORTED
    seqz    a0, a0
    REPORT  "unknown function is SBI_ERR_NOT_SUPPORTED"

    # -- Registers other than a0 and a1 survive a call.
    call    check_preserved
    REPORT  "call preserves registers"

    # -- Debug console.
    la      a1, dbcn_text
    la      t0, dbcn_text_end
    sub     a0, t0, a1
    mv      s2, a0                      # the length
    li      a2, 0
    SBI     SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE
    OK_IF_VALUE s2                      # all of it, at once (it is short)
    REPORT  "dbcn.console_write"
    la      s2, dbcn_byte_text
    li      s3, 1                       # all calls succeeded
1:  lbu     a0, 0(s2)
    beqz    a0, 2f
    SBI     SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE_BYTE
    seqz    a0, a0
    and     s3, s3, a0
    addi    s2, s2, 1
    j       1b
2:  mv      a0, s3
    REPORT  "dbcn.console_write_byte"
    li      a0, 4
    li      a1, 0
    li      a2, BAD_ADDR_HIGH
    SBI     SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE
    addi    a0, a0, -SBI_ERR_INVALID_PARAM
    seqz    a0, a0
    REPORT  "dbcn.console_write bad address is SBI_ERR_INVALID_PARAM"

    # -- rdtime in S-mode: readable, and moving forward.
    call    read_time
    mv      s2, a0
    mv      s3, a1
    li      t0, 100
1:  addi    t0, t0, -1
    bnez    t0, 1b
    call    read_time
    sltu    t0, s3, a1                  # high half moved on, or
    xor     t1, s3, a1
    seqz    t1, t1
    sltu    t2, s2, a0                  # same high half, low half larger
    and     t1, t1, t2
    or      a0, t0, t1
    REPORT  "time.rdtime"

    # -- The timer: set_timer, then a supervisor timer interrupt at stvec.
    la      t0, strap
    csrw    stvec, t0
    call    read_time
    li      t0, TIMER_DELTA
    add     s2, a0, t0                  # the deadline, 64-bit
    sltu    t0, s2, a0
    add     s3, a1, t0
    mv      a0, s2
    mv      a1, s3
    SBI     SBI_EXT_TIME, SBI_TIME_SET_TIMER
    seqz    a0, a0
    REPORT  "time.set_timer"
    li      t0, SIE_STIE
    csrs    sie, t0
    li      t0, SSTATUS_SIE
    csrs    sstatus, t0
1:  wfi                                 # until the handler has seen it
    lw      t0, timer_seen
    beqz    t0, 1b
    li      t0, SSTATUS_SIE
    csrc    sstatus, t0
    lw      t0, trap_scause
    li      t1, SCAUSE_S_TIMER
    sub     t0, t0, t1
    seqz    a0, t0
    REPORT  "time.interrupt at stvec"
    lw      a0, trap_time               # not before the deadline
    lw      a1, trap_timeh
    sltu    t0, s3, a1
    xor     t1, s3, a1
    seqz    t1, t1
    sltu    t2, a0, s2
    seqz    t2, t2
    and     t1, t1, t2
    or      a0, t0, t1
    REPORT  "time.deadline reached"
    csrr    t0, sip                     # set_timer(-1) in the handler
    andi    t0, t0, SIP_STIP            # cleared it
    seqz    a0, t0
    REPORT  "time.set_timer clears the pending interrupt"
    li      t0, SIE_STIE
    csrc    sie, t0

    # -- System reset: reserved type and reason are refused; then shut down.
    li      a0, SRST_TYPE_RESERVED
    li      a1, SRST_REASON_NONE
    SBI     SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET
    addi    a0, a0, -SBI_ERR_INVALID_PARAM
    seqz    a0, a0
    REPORT  "srst.reserved type is SBI_ERR_INVALID_PARAM"
    li      a0, SRST_TYPE_SHUTDOWN
    li      a1, SRST_REASON_RESERVED
    SBI     SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET
    addi    a0, a0, -SBI_ERR_INVALID_PARAM
    seqz    a0, a0
    REPORT  "srst.reserved reason is SBI_ERR_INVALID_PARAM"

    la      a0, done_text
    call    puts
    li      a1, SRST_REASON_NONE
    beqz    s11, 1f
    li      a1, SRST_REASON_FAILURE
1:  li      a0, SRST_TYPE_SHUTDOWN
    SBI     SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET
    li      a0, 0                       # still here: the shutdown failed
    REPORT  "srst.system_reset shutdown"
2:  wfi
    j       2b

# report: a0 = 1 for ok; a1 = the check's name. Counts failures in s11.
report:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      a1, 8(sp)
    la      t0, ok_text
    bnez    a0, 1f
    addi    s11, s11, 1
    la      t0, fail_text
1:  mv      a0, t0
    call    puts
    lw      a0, 8(sp)
    call    puts
    la      a0, newline_text
    call    puts
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# puts: a0 = a NUL-terminated string, through the legacy putchar.
puts:
    mv      t1, a0
1:  lbu     a0, 0(t1)
    beqz    a0, 2f
    li      a7, SBI_EXT_LEGACY_PUTCHAR
    ecall                               # (putchar preserves t1, like all)
    addi    t1, t1, 1
    j       1b
2:  ret

# probe_present: a0 = EID; returns a0 = 1 if probe_extension succeeds with a
# nonzero value.
probe_present:
    SBI     SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION
    seqz    t0, a0
    snez    a1, a1
    and     a0, t0, a1
    ret

# read_time: a1:a0 = time, read so that the halves belong together.
read_time:
1:  csrr    a1, timeh
    csrr    a0, time
    csrr    t0, timeh
    bne     a1, t0, 1b
    ret

# check_preserved: fill every register the SBI must preserve with its own
# value, make a call, and compare; a0 = 1 if all survived. Uses the stack
# for the callee-saved registers it borrows.
.macro FILL reg, n
    li      \reg, PRESERVE_MAGIC + \n
.endm
.macro SAME reg, n
    li      t6, PRESERVE_MAGIC + \n
    bne     \reg, t6, 2f
.endm
check_preserved:
    addi    sp, sp, -64
    sw      ra, 60(sp)
    sw      s0, 56(sp)
    sw      s1, 52(sp)
    sw      s2, 48(sp)
    sw      s3, 44(sp)
    sw      s4, 40(sp)
    sw      s5, 36(sp)
    sw      s6, 32(sp)
    sw      s7, 28(sp)
    sw      s8, 24(sp)
    sw      s9, 20(sp)
    sw      s10, 16(sp)
    sw      s11, 12(sp)
    sw      gp, 8(sp)
    sw      tp, 4(sp)
    FILL gp, 3
    FILL tp, 4
    FILL t0, 5
    FILL t1, 6
    FILL t2, 7
    FILL s0, 8
    FILL s1, 9
    FILL a2, 12
    FILL a3, 13
    FILL a4, 14
    FILL a5, 15
    FILL s2, 18
    FILL s3, 19
    FILL s4, 20
    FILL s5, 21
    FILL s6, 22
    FILL s7, 23
    FILL s8, 24
    FILL s9, 25
    FILL s10, 26
    FILL s11, 27
    FILL t3, 28
    FILL t4, 29
    FILL t5, 30
    li      a7, SBI_EXT_BASE            # a6 and a7 must survive too
    li      a6, SBI_BASE_GET_SPEC_VERSION
    li      t6, PRESERVE_MAGIC + 31
    ecall
    li      a0, 0                       # pessimist
    li      a1, SBI_EXT_BASE
    bne     a7, a1, 2f
    li      a1, SBI_BASE_GET_SPEC_VERSION
    bne     a6, a1, 2f
    li      a1, PRESERVE_MAGIC + 31
    bne     t6, a1, 2f
    SAME gp, 3
    SAME tp, 4
    SAME t0, 5
    SAME t1, 6
    SAME t2, 7
    SAME s0, 8
    SAME s1, 9
    SAME a2, 12
    SAME a3, 13
    SAME a4, 14
    SAME a5, 15
    SAME s2, 18
    SAME s3, 19
    SAME s4, 20
    SAME s5, 21
    SAME s6, 22
    SAME s7, 23
    SAME s8, 24
    SAME s9, 25
    SAME s10, 26
    SAME s11, 27
    SAME t3, 28
    SAME t4, 29
    SAME t5, 30
    li      a0, 1
2:  lw      ra, 60(sp)
    lw      s0, 56(sp)
    lw      s1, 52(sp)
    lw      s2, 48(sp)
    lw      s3, 44(sp)
    lw      s4, 40(sp)
    lw      s5, 36(sp)
    lw      s6, 32(sp)
    lw      s7, 28(sp)
    lw      s8, 24(sp)
    lw      s9, 20(sp)
    lw      s10, 16(sp)
    lw      s11, 12(sp)
    lw      gp, 8(sp)
    lw      tp, 4(sp)
    addi    sp, sp, 64
    ret

# The S-mode trap handler. The only trap expected is the timer interrupt:
# note scause and the time, silence the timer with set_timer(-1) (SBI ch. 6),
# and return to the WFI loop. Anything else is reported and ends the run.
    .balign 4
strap:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      t0, 24(sp)
    sw      t1, 20(sp)
    sw      a0, 16(sp)
    sw      a1, 12(sp)
    sw      a6, 8(sp)
    sw      a7, 4(sp)
    csrr    t0, scause
    sw      t0, trap_scause, t1
    bgez    t0, unexpected_exception
    call    read_time
    sw      a0, trap_time, t1
    sw      a1, trap_timeh, t1
    li      a0, -1
    li      a1, -1
    SBI     SBI_EXT_TIME, SBI_TIME_SET_TIMER
    li      t0, 1
    sw      t0, timer_seen, t1
    lw      ra, 28(sp)
    lw      t0, 24(sp)
    lw      t1, 20(sp)
    lw      a0, 16(sp)
    lw      a1, 12(sp)
    lw      a6, 8(sp)
    lw      a7, 4(sp)
    addi    sp, sp, 32
    sret

unexpected_exception:
    li      a0, 0
    REPORT  "no unexpected exception"
    li      a0, SRST_TYPE_SHUTDOWN
    li      a1, SRST_REASON_FAILURE
    SBI     SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET
1:  wfi
    j       1b

    .section .rodata
ok_text:        .asciz "ok "
fail_text:      .asciz "FAIL "
newline_text:   .asciz "\n"
done_text:      .asciz "sbi-check: done\n"
dbcn_text:      .ascii "dbcn: this line came through console_write\n"
dbcn_text_end:
dbcn_byte_text: .asciz "dbcn: and this one through console_write_byte\n"

    .data
    .balign 4
timer_seen:     .word 0
trap_scause:    .word 0
trap_time:      .word 0
trap_timeh:     .word 0

    .bss
    .balign 16
stack:          .skip STACK_SIZE
stack_top:
