# hello.S: bare M-mode hello world on the board's 16550 UART.
#
# The hart starts here in M-mode (registers zero, no translation). Each byte goes
# to the transmit holding register once the line status register says it is
# empty (16550 datasheet: LSR bit 5, THRE). On emu THRE is always set; polling
# anyway is what real firmware does and what QEMU's UART model expects. Then the
# test device (SiFive test finisher, as on QEMU's virt board) stops the run with
# exit status 0.

    .equ UART_BASE,       0x10000000
    .equ UART_THR,        0           # transmit holding register (write)
    .equ UART_LSR,        5           # line status register
    .equ UART_LSR_THRE,   0x20        # transmitter holding register empty

    .equ TEST_BASE,       0x00100000
    .equ TEST_PASS,       0x5555      # stop the machine, exit status 0

    .section .text.init
    .globl _start
_start:
    la      a0, message
    li      a1, UART_BASE
1:  lbu     a2, 0(a0)
    beqz    a2, 3f                  # the message ends at its NUL
2:  lbu     a3, UART_LSR(a1)
    andi    a3, a3, UART_LSR_THRE
    beqz    a3, 2b                  # wait until the UART can take a byte
    sb      a2, UART_THR(a1)
    addi    a0, a0, 1
    j       1b

3:  li      a1, TEST_BASE
    li      a2, TEST_PASS
    sw      a2, 0(a1)
4:  j       4b                      # the store stops the machine; never reached

    .section .rodata
message:
    .asciz "Hello from emu!\n"
