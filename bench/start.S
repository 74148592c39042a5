/* start.S: the start-up of the benchmark workloads (bench/README in bench/run.py).
 *
 * The hart starts here in M-mode at 0x80000000. bench_iters (set by the runner
 * before the run) is passed to bench_main; its result is stored in bench_result
 * and left in a0 at bench_done, where unicorn stops, so unicorn needs no device.
 * On emu the checksum is then printed on the UART as eight hex digits and the
 * test finisher stops the run.
 *
 * bench_mode (also set by the runner) picks the variant:
 *   bit 0  run bench_main in U-mode under Sv32 (identity map, 4 KiB pages)
 *   bit 1  a machine timer interrupt every TIMER_PERIOD instructions, taken by
 *          the small M-mode handler below */
#define UART        0x10000000
#define FINISHER    0x00100000
#define MTIMECMP    0x02004000
#define TIMER_PERIOD 10000
#define MODE_USER   1
#define MODE_TIMER  2
#define MIE_MTIE    0x80
#define MSTATUS_MIE 0x8
#define MSTATUS_MPP 0x1800
#define CAUSE_USER_ECALL 8

    .section .text.init
    .globl _start
_start:
    la sp, stack_top
    la t0, trap_stack_top
    csrw mscratch, t0
    la t0, trap_handler
    csrw mtvec, t0
    lw s0, bench_mode

    andi t0, s0, MODE_TIMER
    beqz t0, 1f
    li t0, MTIMECMP
    li t1, TIMER_PERIOD
    sw zero, 4(t0)
    sw t1, 0(t0)
    li t0, MIE_MTIE
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
1:
    andi t0, s0, MODE_USER
    beqz t0, 2f
    call sv32_setup             /* returns the satp value */
    csrw satp, a0
    sfence.vma
    li t0, MSTATUS_MPP
    csrc mstatus, t0            /* MPP = U */
    la t0, user_main
    csrw mepc, t0
    mret
2:
    lw a0, bench_iters
    call bench_main
    j finish

user_main:
    lw a0, bench_iters
    call bench_main
    ecall                       /* back to M-mode with the checksum in a0 */

finish:
    csrw mie, zero
    la t0, bench_result
    sw a0, 0(t0)
    .globl bench_done
bench_done:
    li t0, UART
    li t1, 8
3:  srli t2, a0, 28             /* eight hex digits, most significant first */
    slli a0, a0, 4
    addi t2, t2, '0'
    li t3, '9'
    ble t2, t3, 4f
    addi t2, t2, 'a' - '0' - 10
4:  sb t2, 0(t0)
    addi t1, t1, -1
    bnez t1, 3b
    li t2, '\n'
    sb t2, 0(t0)
    li t0, FINISHER
    li t1, 0x5555
    sw t1, 0(t0)
    j .

/* The timer: push mtimecmp on by one period; an ecall from U-mode: the end.
 * Anything else is a failure, reported through the finisher as status 1. */
    .balign 4
trap_handler:
    csrrw sp, mscratch, sp
    sw t0, -4(sp)
    sw t1, -8(sp)
    sw t2, -12(sp)
    csrr t0, mcause
    bgez t0, 5f
    li t2, MTIMECMP
    lw t0, 0(t2)
    lw t1, 4(t2)
    li t2, TIMER_PERIOD
    add t0, t0, t2
    sltu t2, t0, t2             /* the carry out of the low word */
    add t1, t1, t2
    li t2, MTIMECMP
    sw t0, 0(t2)                /* interrupts are off in here: any order will do */
    sw t1, 4(t2)
    lw t0, -4(sp)
    lw t1, -8(sp)
    lw t2, -12(sp)
    csrrw sp, mscratch, sp
    mret
5:  li t1, CAUSE_USER_ECALL
    bne t0, t1, 6f
    j finish
6:  li t0, FINISHER
    li t1, (1 << 16) | 0x3333
    sw t1, 0(t0)
    j .

#include "runner.inc"
    .space 256
trap_stack_top:
