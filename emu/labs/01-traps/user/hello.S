# hello.S: a U-mode program that writes a line and exits with status 0,
# through the system calls trap.S serves.
#
#     emu run --isa rv32ia user/hello.S

    .include "../boot.S"

main:
    li      a0, 1                     # standard output
    la      a1, message
    la      a2, message_end
    sub     a2, a2, a1                # its length
    li      a7, SYS_WRITE
    ecall
    li      a0, 0
    li      a7, SYS_EXIT
    ecall
1:  j       1b                        # exit never returns

    .section .rodata
message:
    .ascii  "hello from U-mode\n"
message_end:
