# paging.S: Sv32 virtual memory, a U-mode task, system calls and page faults.
#
# What it shows:
#   - an Sv32 page table built at run time: a two-level tree of 4 KiB tables
#     of 1024 four-byte entries. A leaf entry in the root maps a 4 MiB
#     megapage; an entry with R = W = X = 0 points to a second-level table
#     whose leaves map 4 KiB pages;
#   - the permission bits: R, W, X, and U (user: U-mode may use the page,
#     and only U-mode pages). A and D are set here in advance, so that no
#     hardware has to update them (the spec lets it fault instead);
#   - turning translation on: satp = MODE (Sv32) | the root table's physical
#     page number, then SFENCE.VMA so no stale translation survives;
#   - entering U-mode: MRET with mstatus.MPP = U and mepc = the task's entry;
#   - the task runs at virtual address 0x00400000 although its code sits in
#     RAM at 0x800xxxxx: it is linked there, but all its jumps, calls and `la`
#     are pc-relative (auipc, jal), so it runs at any address as long as its
#     pages keep their layout;
#   - system calls: the task can reach nothing but its own pages, so it asks
#     the kernel (M-mode) with ECALL: mcause 8, "environment call from U-mode",
#     a7 = the call's number, a0 = its argument. It passes a character, not a
#     pointer: M-mode runs untranslated, so a task's pointer would mean
#     something else there;
#   - a trap from U-mode switches stacks: the task's sp is a virtual address
#     in the task's own page, useless to M-mode. mscratch holds the kernel
#     stack, and one csrrw swaps the two on the way in and out;
#   - page faults: a read of kernel memory (mapped, but U = 0) and a write to
#     an unmapped guard page below the task's stack (what a stack overflow
#     would do). mtval holds the virtual address that faulted, mepc the
#     instruction. The kernel reports each and skips the instruction, where a
#     real kernel would kill the task or, for a page it means to provide
#     later, map it and retry.
#
# The address spaces:
#
#     virtual (U-mode)             physical
#     0x80000000 +-----------+     0x80000000 +-----------+
#     (4 MiB)    | kernel    | --> (identity) | kernel    |  rwx, U = 0
#                +-----------+                |  ...      |
#                                             | task code | <-+
#     0x00403000 +-----------+                |  ...      |   |
#                | stack     | -------------> | task stack|   |  rw-, U = 1
#     0x00402000 +-----------+                +-----------+   |
#                | (guard)   |  not mapped                    |
#     0x00401000 +-----------+                                |
#                | code      | -------------------------------+  r-x, U = 1
#     0x00400000 +-----------+
#
# Sv32 virtual address:  | VPN[1]: 10 bits | VPN[0]: 10 bits | offset: 12 |
# page table entry:      | PPN: 22 bits    | RSW | D A G U X W R V |
#
# M-mode itself never translates (satp applies to S and U only, unless
# mstatus.MPRV says otherwise), so the kernel's code keeps running on
# physical addresses throughout. The identity megapage for the kernel is
# here because an S-mode kernel would need it, and to show that a mapped
# page is still out of U-mode's reach when its U bit is 0.
#
# Spec sections that matter (privileged ISA 1.12):
#   - 4.3 Sv32: 4.3.1 (addressing and memory protection: the PTE format, the
#     R/W/X/U meanings, A and D), 4.3.2 (the translation walk, step by step:
#     where a walk stops and which page fault it raises);
#   - 4.1.11 (satp: MODE, ASID, PPN), 4.2.1 (SFENCE.VMA);
#   - 3.1.6.1 (mstatus.MPP, which MRET restores as the privilege), 3.3.2 (MRET),
#     3.1.15 (mcause codes: 8 ECALL from U, 13 load page fault, 15 store/AMO
#     page fault), 3.1.16 (mtval: the faulting virtual address);
#   - 3.7 (PMP: on a hart with PMP, U-mode may touch nothing that no PMP entry
#     allows; emu's reset state opens all of memory with entry 0, as Spike's
#     does, QEMU's does not, so the kernel opens it itself, as firmware does).
#
# Output: the kernel's mappings, the task's lines with the kernel's fault
# reports between them, and the task's exit; exit status 0.

    .include "../lib/board.inc"      # UART_*, TEST_*, ASCII_*

    # Sv32 page table entries (4.3.1).
    .equ PTE_V,           (1 << 0)    # valid
    .equ PTE_R,           (1 << 1)    # readable
    .equ PTE_W,           (1 << 2)    # writable
    .equ PTE_X,           (1 << 3)    # executable
    .equ PTE_U,           (1 << 4)    # user-mode page
    .equ PTE_A,           (1 << 6)    # accessed
    .equ PTE_D,           (1 << 7)    # dirty
    .equ PTE_PPN_SHIFT,   10          # the PPN starts at bit 10 of an entry
    .equ PAGE_SHIFT,      12          # 4 KiB pages
    .equ PAGE_SIZE,       4096
    .equ VPN1_SHIFT,      22          # VPN[1]: bits 31:22 of a virtual address
    .equ VPN_MASK,        0x3ff       # 10 bits of VPN per level
    .equ PTE_SIZE,        4
    .equ SATP_MODE_SV32,  0x80000000  # satp bit 31

    .equ KERNEL_FLAGS,    PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    .equ TASK_CODE_FLAGS, PTE_R | PTE_X | PTE_U | PTE_A
    .equ TASK_DATA_FLAGS, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D

    # The task's virtual address space.
    .equ KERNEL_VA,       0x80000000  # = its physical address (identity)
    .equ TASK_CODE_VA,    0x00400000
    .equ TASK_GUARD_VA,   0x00401000  # left unmapped on purpose
    .equ TASK_STACK_VA,   0x00402000

    .equ MSTATUS_MPP_MASK, (3 << 11)  # MPP = 0: MRET goes to U-mode
    .equ PMP_NAPOT_RWX,   0x1f        # pmpcfg entry: A = NAPOT, R, W, X
    .equ PMP_ALL,         -1          # pmpaddr: NAPOT over all of memory

    .equ CAUSE_USER_ECALL,       8
    .equ CAUSE_LOAD_PAGE_FAULT,  13
    .equ CAUSE_STORE_PAGE_FAULT, 15
    .equ INSN_BYTES,      4

    # The system calls: a7 = number, a0 = argument.
    .equ SYS_PUTCHAR,     1           # a0 = a byte to print
    .equ SYS_EXIT,        2           # a0 = exit status

    .equ KERNEL_STACK_SIZE, 4096

# MAP kind, va, pa_label, flags: install one mapping and print it.
.macro MAP kind, va, pa, flags
    li      a0, \va
    la      a1, \pa
    li      a2, \flags
    call    \kind
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, kernel_stack_top
    la      t0, trap_entry
    csrw    mtvec, t0

    # PMP first (QEMU enforces it; see the header).
    li      t0, PMP_ALL
    csrw    pmpaddr0, t0
    li      t0, PMP_NAPOT_RWX
    csrw    pmpcfg0, t0

    # The task must fit its one code page.
    la      t0, task_code
    la      t1, task_code_end
    sub     t1, t1, t0
    li      t2, PAGE_SIZE
    bgtu    t1, t2, task_too_big

    # Fresh tables must be zero: every nonzero entry is a mapping (or junk
    # the walk would follow). RAM happens to start zeroed; a kernel that
    # reuses pages cannot count on it.
    la      a0, root_table
    call    zero_page
    la      a0, leaf_table
    call    zero_page

    # _start is the first byte of RAM and of the kernel: map it to itself.
    MAP     map_megapage, KERNEL_VA, _start, KERNEL_FLAGS
    MAP     map_page, TASK_CODE_VA, task_code, TASK_CODE_FLAGS
    MAP     map_page, TASK_STACK_VA, task_stack, TASK_DATA_FLAGS

    # Translation on: satp = MODE | ASID 0 | root PPN. It only takes effect
    # once we are below M-mode; SFENCE.VMA orders the table writes above
    # before any walk that could use them.
    la      t0, root_table
    srli    t0, t0, PAGE_SHIFT
    li      t1, SATP_MODE_SV32
    or      s0, t0, t1
    csrw    satp, s0
    sfence.vma
    la      a0, text_satp
    call    uart_puts
    mv      a0, s0
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc

    # The trap entry finds the kernel stack in mscratch.
    la      t0, kernel_stack_top
    csrw    mscratch, t0

    # Into the task: MRET sets the privilege from MPP (U = 0) and pc = mepc.
    la      a0, text_enter
    call    uart_puts
    li      t0, MSTATUS_MPP_MASK
    csrc    mstatus, t0
    li      t0, TASK_CODE_VA
    csrw    mepc, t0
    li      sp, TASK_STACK_VA + PAGE_SIZE   # the task's sp: a virtual address
    mret

task_too_big:
    la      a0, text_too_big
    call    uart_puts
    li      a0, 1
    j       power_off

# zero_page: a0 = the physical address of a 4 KiB page, which is cleared.
zero_page:
    li      t0, PAGE_SIZE
    add     t0, a0, t0
1:  sw      zero, 0(a0)
    addi    a0, a0, PTE_SIZE
    bne     a0, t0, 1b
    ret

# map_megapage: a0 = virtual address, a1 = physical address (both 4 MiB
# aligned), a2 = flags. A leaf in the root table: root[VPN[1]].
map_megapage:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    la      t0, root_table
    srli    t1, a0, VPN1_SHIFT      # VPN[1]
    slli    t1, t1, 2               # * PTE_SIZE
    add     t0, t0, t1
    srli    t1, a1, PAGE_SHIFT      # the physical page number...
    slli    t1, t1, PTE_PPN_SHIFT   # ...in its place in the entry
    or      t1, t1, a2
    ori     t1, t1, PTE_V
    sw      t1, 0(t0)
    la      a3, text_4mib
    call    show_mapping
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# map_page: a0 = virtual address, a1 = physical address (4 KiB aligned),
# a2 = flags. The walk the hardware will do, by hand:
#   root[VPN[1]]: if not valid yet, make it point to the second-level table
#                 (V alone: R = W = X = 0 means "next level");
#   table[VPN[0]] = the leaf.
# This demo has one second-level table (all its pages are in one 4 MiB
# region); a real kernel would allocate a zeroed page for each new one.
map_page:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    la      t0, root_table
    srli    t1, a0, VPN1_SHIFT
    slli    t1, t1, 2
    add     t0, t0, t1              # t0 = &root[VPN[1]]
    lw      t1, 0(t0)
    andi    t2, t1, PTE_V
    bnez    t2, 1f
    la      t1, leaf_table
    srli    t1, t1, PAGE_SHIFT
    slli    t1, t1, PTE_PPN_SHIFT
    ori     t1, t1, PTE_V           # a pointer to the next level
    sw      t1, 0(t0)
1:  srli    t1, t1, PTE_PPN_SHIFT   # the next table's address: PPN << 12
    slli    t1, t1, PAGE_SHIFT
    srli    t2, a0, PAGE_SHIFT      # VPN[0]
    andi    t2, t2, VPN_MASK
    slli    t2, t2, 2
    add     t1, t1, t2              # t1 = &table[VPN[0]]
    srli    t2, a1, PAGE_SHIFT
    slli    t2, t2, PTE_PPN_SHIFT
    or      t2, t2, a2
    ori     t2, t2, PTE_V
    sw      t2, 0(t1)
    la      a3, text_4kib
    call    show_mapping
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# show_mapping: a0 = va, a1 = pa, a2 = flags, a3 = the size as text. Prints
# "kernel: map va 0x... -> pa 0x... (SIZE, rwxu)", a letter for each
# permission the page grants, '-' for each it does not.
show_mapping:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s0, 24(sp)
    sw      s1, 20(sp)
    sw      s2, 16(sp)
    sw      s3, 12(sp)
    mv      s0, a0
    mv      s1, a1
    mv      s2, a2
    mv      s3, a3
    la      a0, text_map_va
    call    uart_puts
    mv      a0, s0
    call    print_hex
    la      a0, text_map_pa
    call    uart_puts
    mv      a0, s1
    call    print_hex
    la      a0, text_open
    call    uart_puts
    mv      a0, s3
    call    uart_puts
    la      a0, text_comma
    call    uart_puts
    la      s3, perm_letters        # "rwxu", in the order of PTE bits 1..4
    li      s1, PTE_R               # the bit for the current letter
1:  li      a0, ASCII_MINUS
    and     t0, s2, s1
    beqz    t0, 2f
    lbu     a0, 0(s3)
2:  call    uart_putc
    addi    s3, s3, 1
    slli    s1, s1, 1
    li      t0, PTE_U
    bleu    s1, t0, 1b
    la      a0, text_close
    call    uart_puts
    lw      s3, 12(sp)
    lw      s2, 16(sp)
    lw      s1, 20(sp)
    lw      s0, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

# ---------------------------------------------------------------------------
# The trap entry: every trap from the task comes here, in M-mode, with
# translation off. The first instruction swaps sp with mscratch: now sp is
# the kernel stack and mscratch holds the task's sp until the way out. (So
# only the task may trap: a trap from the kernel itself would swap in the
# task's sp. A kernel that can trap from both sides keeps the scratch
# register 0 while it runs itself and tests it after the swap, as Linux does
# with sscratch.)

    .equ FRAME_SIZE,      80

    .balign 4                       # mtvec's low two bits are the mode
trap_entry:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -FRAME_SIZE
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
    li      t0, CAUSE_USER_ECALL
    beq     s0, t0, syscall
    li      t0, CAUSE_LOAD_PAGE_FAULT
    beq     s0, t0, page_fault
    li      t0, CAUSE_STORE_PAGE_FAULT
    beq     s0, t0, page_fault
    j       unexpected_trap

# The system call: a7 = number, a0 = argument (still the task's registers).
syscall:
    li      t0, SYS_PUTCHAR
    beq     a7, t0, sys_putchar
    li      t0, SYS_EXIT
    beq     a7, t0, sys_exit
    j       unexpected_trap
sys_putchar:
    call    uart_putc
    j       skip_instruction
sys_exit:
    mv      s1, a0
    la      a0, text_exited
    call    uart_puts
    mv      a0, s1
    call    print_udec
    li      a0, ASCII_NEWLINE
    call    uart_putc
    mv      a0, s1
    j       power_off

# "kernel: NAME at va 0x... (pc 0x...), skipped"
page_fault:
    la      a0, text_kernel
    call    uart_puts
    mv      a0, s0
    call    print_cause
    la      a0, text_at_va
    call    uart_puts
    csrr    a0, mtval               # the virtual address that faulted
    call    print_hex
    la      a0, text_pc
    call    uart_puts
    csrr    a0, mepc                # the instruction, a virtual address too
    call    print_hex
    la      a0, text_skipped
    call    uart_puts

# Resume after the ECALL or the faulting access. mepc points AT it: returning
# there would repeat it.
skip_instruction:
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
    addi    sp, sp, FRAME_SIZE
    csrrw   sp, mscratch, sp        # the task's sp back; the kernel's saved
    mret                            # to U-mode (MPP is still U), pc = mepc

unexpected_trap:
    la      a0, text_unexpected
    call    uart_puts
    mv      a0, s0
    call    print_cause
    la      a0, text_at_pc
    call    uart_puts
    csrr    a0, mepc
    call    print_hex
    li      a0, ASCII_NEWLINE
    call    uart_putc
    li      a0, 1

# power_off: a0 = the exit status, through the test finisher.
power_off:
    li      t0, TEST_BASE
    li      t1, TEST_PASS
    beqz    a0, 1f
    slli    t1, a0, 16
    li      t2, TEST_FAIL
    or      t1, t1, t2
1:  sw      t1, 0(t0)
2:  j       2b                      # the store stops the machine

# ---------------------------------------------------------------------------
# The kernel's output over the 16550 UART (M-mode, physical addresses):
# print_cause, which prints an mcause value by name; uart_putc, uart_puts,
# print_udec, print_hex.

    .include "../lib/causes.inc"
    .include "../lib/uart.inc"

# ===========================================================================
# The task: one page of code (and its read-only strings), mapped at
# TASK_CODE_VA with R, X and U. It runs in U-mode with translation on, so it
# can touch only its own two pages: every kernel routine above is out of
# reach (U = 0), which is why it brings its own small output library, built
# on the SYS_PUTCHAR system call: task_puts and task_put_hex are uart_puts
# and print_hex of programs/lib/uart.inc again, calling task_putc, copied on
# purpose because they must sit in this page. It never uses an absolute
# address of its own code or strings: those it names pc-relatively (la,
# call). The addresses it loads with li are the ones it is meant to fail on.

    .balign PAGE_SIZE
task_code:
    auipc   s0, 0                   # where am I? (the pc: a virtual address)
    la      a0, task_text_hello
    call    task_puts
    mv      a0, s0
    call    task_put_hex
    li      a0, ASCII_NEWLINE
    call    task_putc

    la      a0, task_text_sp        # the stack pointer the kernel gave us
    call    task_puts
    mv      a0, sp
    call    task_put_hex
    li      a0, ASCII_NEWLINE
    call    task_putc

    # The kernel's memory is mapped, but its U bit is 0: a load page fault.
    la      a0, task_text_read_kernel
    call    task_puts
    li      t0, KERNEL_VA
    lw      t1, 0(t0)

    # The page below the stack is not mapped at all: the walk finds an
    # invalid entry, a store/AMO page fault. A stack that grew one word too
    # far would store exactly here.
    la      a0, task_text_overflow
    call    task_puts
    li      t0, TASK_GUARD_VA + PAGE_SIZE - 4   # just below the stack
    sw      zero, 0(t0)

    la      a0, task_text_bye
    call    task_puts
    li      a0, 0                   # exit status
    li      a7, SYS_EXIT
    ecall
1:  j       1b                      # SYS_EXIT does not return

# task_putc: a0 = a byte; the system call does the printing. ECALL keeps
# every register, like a call that saves everything.
task_putc:
    li      a7, SYS_PUTCHAR
    ecall
    ret

# task_puts: a0 = a NUL-terminated string (in this page).
task_puts:
    addi    sp, sp, -16             # the first store to the stack page
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    mv      s0, a0
1:  lbu     a0, 0(s0)
    beqz    a0, 2f
    call    task_putc
    addi    s0, s0, 1
    j       1b
2:  lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# task_put_hex: a0 = a word, as 0x and eight hex digits.
task_put_hex:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)
    mv      s0, a0
    li      s1, 8
    li      a0, ASCII_ZERO
    call    task_putc
    li      a0, ASCII_LOWER_X
    call    task_putc
1:  srli    a0, s0, 28
    slli    s0, s0, 4
    li      t0, 10
    bltu    a0, t0, 2f
    addi    a0, a0, ASCII_LOWER_A - 10 - ASCII_ZERO
2:  addi    a0, a0, ASCII_ZERO
    call    task_putc
    addi    s1, s1, -1
    bnez    s1, 1b
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

task_text_hello:        .asciz "task: hello from U-mode, running at va "
task_text_sp:           .asciz "task: my stack pointer is va "
task_text_read_kernel:  .asciz "task: reading kernel memory at va 0x80000000\n"
task_text_overflow:     .asciz "task: storing below my stack at va 0x00401ffc\n"
task_text_bye:          .asciz "task: exiting with status 0\n"
task_code_end:                      # the kernel checks that this fits a page

# ---------------------------------------------------------------------------

    .section .rodata
text_map_va:     .asciz "kernel: map va "
text_map_pa:     .asciz " -> pa "
text_open:       .asciz " ("
text_comma:      .asciz ", "
text_close:      .asciz ")\n"
text_4mib:       .asciz "4 MiB"
text_4kib:       .asciz "4 KiB"
perm_letters:    .ascii "rwxu"
text_satp:       .asciz "kernel: satp = "
text_enter:      .asciz "kernel: mret to U-mode at va 0x00400000\n"
text_kernel:     .asciz "kernel: "
text_at_va:      .asciz " at va "
text_pc:         .asciz " (pc "
text_skipped:    .asciz "), skipped\n"
text_at_pc:      .asciz " at pc "
text_exited:     .asciz "kernel: the task exited with status "
text_unexpected: .asciz "kernel: unexpected trap: "
text_too_big:    .asciz "kernel: the task does not fit its page\n"

    .bss
    .balign PAGE_SIZE
root_table:     .zero PAGE_SIZE     # 1024 entries, indexed by VPN[1]
leaf_table:     .zero PAGE_SIZE     # 1024 entries, indexed by VPN[0]
task_stack:     .zero PAGE_SIZE     # mapped at TASK_STACK_VA
    .balign 16
kernel_stack:   .zero KERNEL_STACK_SIZE
kernel_stack_top:
