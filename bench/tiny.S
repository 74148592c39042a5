/* tiny.S: the smallest useful program, for the start-up time of `emu run`:
 * print "ok" on the UART and power off. */
    .section .text.init
    .globl _start
_start:
    li t0, 0x10000000
    li t1, 'o'
    sb t1, 0(t0)
    li t1, 'k'
    sb t1, 0(t0)
    li t1, '\n'
    sb t1, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
    j .
