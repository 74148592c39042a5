# illegal.S: a U-mode program that reads mstatus, which U-mode may not: an
# illegal instruction that is not an M instruction. trap.S must not emulate
# it: it says "unhandled trap" and stops the machine with exit status 1.
#
#     emu run --isa rv32ia user/illegal.S

    .include "../boot.S"

main:
    csrr    a0, mstatus
    li      a0, 0                     # never reached
    li      a7, SYS_EXIT
    ecall
1:  j       1b
