# start.S: the assembly a C kernel cannot do without, shared by the C guests.
#
# C needs a stack before its first call, and a trap handler must save the
# registers the interrupted code was using before any C runs: a C function
# keeps only the callee-saved registers (s0-s11) intact, so this entry saves
# the caller-saved ones (ra, t0-t6, a0-a7) and calls the guest's
# c_trap(scause, sepc, stval). c_trap may move sepc on (disk skips a probe
# load that faulted): SRET reads the CSR, not a saved copy. The C side of the
# runtime (SBI calls, console output, memset, memcpy) is runtime.c.
#
# Built with gcc (it goes through the C preprocessor, then GNU as), with the
# guest's own NAME.c and runtime.c:
#   riscv64-unknown-elf-gcc -march=rv32ima_zicsr_zifencei -mabi=ilp32 -O2
#       -ffreestanding -nostdlib -mcmodel=medany -Wall -T programs/link.ld
#       lib/start.S lib/runtime.c NAME/NAME.c -o NAME.elf

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_entry
    csrw    stvec, t0
    la      t0, __bss_start         # C expects its zero-initialised data
    la      t1, __bss_end           # to be zero (link.ld names the range;
1:  bgeu    t0, t1, 2f              # disk's virtqueue, in .bss, among it)
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  call    main                    # a0 = the hart id, a1 = the device tree, as we got them
                                    # (the loop above leaves a0, a1 alone)
    # main's return value is the SRST reason: 0 = none, 1 = system failure.
    mv      a1, a0
    li      a0, 0                   # shutdown
    li      a6, 0                   # system_reset
    li      a7, 0x53525354          # SRST
    ecall
3:  wfi                             # not reached: SRST does not return
    j       3b

    .balign 4
trap_entry:
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
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    call    c_trap
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

    .bss
    .balign 16
stack:
    .zero   8192
stack_top:
