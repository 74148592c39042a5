/* guest.S: the benchmark workloads as an S-mode guest kernel, for `emu hv`
 * against `emu run --boot s` (bench/hv.py).
 *
 * The kernel starts in S-mode at its entry under the SBI firmware (or the
 * hypervisor), satp = 0. bench_iters (set by the runner) goes to bench_main; the
 * checksum is printed as eight hex digits through the SBI console (legacy
 * putchar: one exit per byte, nine in all) and SRST shuts the machine down.
 * With bench_mode = EXITS the kernel instead reads sstatus bench_iters times:
 * under a hypervisor every read is an exit, and nothing else is. */
#define SBI_LEGACY_PUTCHAR 0x01
#define SBI_EXT_SRST       0x53525354
#define MODE_EXITS         4

    .section .text.init
    .globl _start
_start:
    la sp, stack_top
    lw s0, bench_mode
    lw a0, bench_iters
    li t0, MODE_EXITS
    bne s0, t0, 1f
    mv t1, a0
2:  csrr a0, sstatus            /* the exit being measured */
    addi t1, t1, -1
    bnez t1, 2b
    li a0, 0
    j 3f
1:  call bench_main
3:  la t0, bench_result
    sw a0, 0(t0)
    mv s1, a0
    li s2, 8
4:  srli a0, s1, 28             /* eight hex digits, most significant first */
    slli s1, s1, 4
    addi a0, a0, '0'
    li t0, '9'
    ble a0, t0, 5f
    addi a0, a0, 'a' - '0' - 10
5:  li a7, SBI_LEGACY_PUTCHAR
    ecall
    addi s2, s2, -1
    bnez s2, 4b
    li a0, '\n'
    li a7, SBI_LEGACY_PUTCHAR
    ecall
    li a0, 0                    /* shutdown, no reason */
    li a1, 0
    li a6, 0
    li a7, SBI_EXT_SRST
    ecall
6:  wfi                         /* not reached: SRST does not return */
    j 6b

#include "runner.inc"
