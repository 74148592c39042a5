# os.S: a small operating system: two user processes, paging, a timer
# scheduler, system calls, and a process killed for a bad access.
#
# What it shows, in the order a real kernel does it:
#   - address spaces: each process gets its own Sv32 page table. The kernel
#     is mapped in every one (a 4 MiB megapage at virtual = physical, U = 0:
#     supervisor-only), so the trap handler keeps running when satp changes;
#     each process also has its own code, data and stack pages (U = 1), all
#     at the same virtual addresses:
#
#         0x80000000  kernel megapage, rwx, U = 0  (the same in every process)
#         0x00403000  stack page, rw-, U = 1  (sp starts at 0x00404000)
#         0x00402000  (not mapped: a guard page)
#         0x00401000  data page, rw-, U = 1
#         0x00400000  code page, r-x, U = 1   (a copy of user_program)
#
#   - SFENCE.VMA after page table writes and after every satp change (this
#     kernel uses no ASIDs, so a switch flushes every translation);
#   - entering U-mode with SRET: sstatus.SPP = 0 and sepc = the user pc;
#   - the trap entry: sscratch holds the current process's control block
#     (PCB) while a process runs and 0 while the kernel does, so one csrrw
#     gives the handler a place to save all 31 registers and tells it
#     whether the trap came from a process;
#   - preemption: SBI set_timer gives a timer interrupt every QUANTUM time
#     ticks; the kernel saves the interrupted process and resumes the next
#     one, round robin. Processes never see it happen;
#   - system calls with ECALL from U-mode (scause 8), a7 = the number:
#       SYS_WRITE  a0 = string, a1 = length   -> a0 = bytes written, or
#                                                 -14 (EFAULT) for a bad pointer
#       SYS_GETPID                            -> a0 = the process id
#       SYS_YIELD                             (run the next process)
#       SYS_EXIT   a0 = status                (never returns)
#   - checking user pointers: SYS_WRITE walks the process's page table in
#     software and accepts only pages the process itself could read (V, R
#     and U set). Without the check a process could make the kernel print
#     kernel memory for it;
#   - sstatus.SUM: the kernel may touch U pages only while SUM is set; it
#     sets it for the copy of the user's string and clears it at once;
#   - faults: a process that loads from kernel memory gets a load page fault
#     (the page is mapped, but U = 0). The kernel kills it, prints scause and
#     stval (the address it tried), and runs the others.
#
# Time is virtual (one tick per instruction), so the preemption points, and
# therefore this output, are the same on every run.

    .include "sbi.inc"

    .equ QUANTUM,         15000     # time ticks a process runs before preemption
    .equ NPROC,           2
    .equ MAX_WRITE,       256       # the longest SYS_WRITE, in bytes

    .equ SYS_WRITE,       1
    .equ SYS_GETPID,      2
    .equ SYS_YIELD,       3
    .equ SYS_EXIT,        4
    .equ EFAULT,          14

    # The user address space (see the picture above).
    .equ USER_CODE_VA,    0x00400000
    .equ USER_DATA_VA,    0x00401000
    .equ USER_STACK_VA,   0x00403000
    .equ USER_STACK_TOP,  0x00404000
    .equ KERNEL_VA,       0x80000000

    .equ KERNEL_FLAGS,    PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    .equ USER_CODE_FLAGS, PTE_R | PTE_X | PTE_U | PTE_A
    .equ USER_DATA_FLAGS, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D

    # The process control block: the saved registers first, as the trap
    # entry stores them (x1..x31 at 4 * n, the pc in the slot of x0).
    .equ PCB_PC,          0
    .equ PCB_RA,          4 * 1
    .equ PCB_SP,          4 * 2
    .equ PCB_A0,          4 * 10
    .equ PCB_A1,          4 * 11
    .equ PCB_A7,          4 * 17
    .equ PCB_T6,          4 * 31
    .equ PCB_PID,         128
    .equ PCB_STATE,       132
    .equ PCB_SATP,        136
    .equ PCB_ROOT,        140       # the root table's address
    .equ PCB_SIZE,        256
    .equ STATE_FREE,      0
    .equ STATE_RUNNABLE,  1
    .equ STATE_DEAD,      2

    .equ FRAMES,          16        # pages in the page allocator's pool

    .section .text.init
    .globl _start
_start:
    la      sp, kernel_stack_top
    csrw    sscratch, zero          # we are the kernel: no trap from a process
    la      t0, trap_entry
    csrw    stvec, t0

    la      a0, text_boot
    call    sbi_puts
    li      a0, QUANTUM
    call    print_udec
    la      a0, text_boot2
    call    sbi_puts

    la      t0, user_program        # the user program must fit the one
    la      t1, user_program_end    # page each process gets for its code
    sub     t1, t1, t0
    li      t2, PAGE_SIZE
    la      a0, text_too_big
    bgtu    t1, t2, panic

    # Two processes, each a copy of the same program in its own pages.
    la      a0, procs
    li      a1, 1
    call    create_process
    la      a0, procs + PCB_SIZE
    li      a1, 2
    call    create_process

    # The timer: the first quantum, and let the interrupt through. The
    # kernel itself runs with sstatus.SIE = 0, so it is never interrupted;
    # in U-mode S-level interrupts are always on, whatever SIE says.
    call    arm_quantum
    li      t0, SIE_STIE
    csrs    sie, t0

    la      a0, text_start
    call    sbi_puts
    la      a0, procs
    j       run_process             # never returns

# ---------------------------------------------------------------------------
# Processes.

# create_process: a0 = its PCB, a1 = its pid. Builds its address space and
# its first register state: pc = the program's entry, sp = the stack top.
create_process:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    sw      s1, 4(sp)
    sw      s2, 0(sp)
    mv      s0, a0
    sw      a1, PCB_PID(s0)

    call    alloc_page              # the root table
    mv      s1, a0
    sw      s1, PCB_ROOT(s0)
    li      a1, KERNEL_VA           # the kernel: one megapage, VA = PA
    li      a2, KERNEL_VA >> PAGE_SHIFT
    li      a3, KERNEL_FLAGS
    mv      a0, s1
    call    map_megapage

    call    alloc_page              # the code: a copy of user_program
    mv      s2, a0
    la      a1, user_program
    call    copy_page
    mv      a0, s1
    li      a1, USER_CODE_VA
    srli    a2, s2, PAGE_SHIFT
    li      a3, USER_CODE_FLAGS
    call    map_page

    call    alloc_page              # data, zeroed
    srli    a2, a0, PAGE_SHIFT
    mv      a0, s1
    li      a1, USER_DATA_VA
    li      a3, USER_DATA_FLAGS
    call    map_page

    call    alloc_page              # stack, zeroed
    srli    a2, a0, PAGE_SHIFT
    mv      a0, s1
    li      a1, USER_STACK_VA
    li      a3, USER_DATA_FLAGS
    call    map_page

    srli    t0, s1, PAGE_SHIFT      # satp = Sv32 | root's page number
    li      t1, SATP_MODE_SV32
    or      t0, t0, t1
    sw      t0, PCB_SATP(s0)
    li      t0, USER_CODE_VA
    sw      t0, PCB_PC(s0)
    li      t0, USER_STACK_TOP
    sw      t0, PCB_SP(s0)
    li      t0, STATE_RUNNABLE
    sw      t0, PCB_STATE(s0)
    sfence.vma                      # the new tables, before any walk

    la      a0, text_created
    call    sbi_puts
    lw      a0, PCB_PID(s0)
    call    print_udec
    la      a0, text_created2
    call    sbi_puts
    lw      s2, 0(sp)
    lw      s1, 4(sp)
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# run_process: a0 = the PCB to run. Switches to its address space and
# returns to U-mode with its saved registers. Never returns.
run_process:
    sw      a0, current, t0
    lw      t0, PCB_SATP(a0)
    csrw    satp, t0
    sfence.vma                      # no stale translation of the last process
    lw      t0, PCB_PC(a0)
    csrw    sepc, t0
    li      t0, SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SUM
    csrc    sstatus, t0             # SRET to U-mode; no SUM while it runs
    csrw    sscratch, a0            # the trap entry's save area
    mv      t6, a0
    lw      x1, 4 * 1(t6)
    lw      x2, 4 * 2(t6)
    lw      x3, 4 * 3(t6)
    lw      x4, 4 * 4(t6)
    lw      x5, 4 * 5(t6)
    lw      x6, 4 * 6(t6)
    lw      x7, 4 * 7(t6)
    lw      x8, 4 * 8(t6)
    lw      x9, 4 * 9(t6)
    lw      x10, 4 * 10(t6)
    lw      x11, 4 * 11(t6)
    lw      x12, 4 * 12(t6)
    lw      x13, 4 * 13(t6)
    lw      x14, 4 * 14(t6)
    lw      x15, 4 * 15(t6)
    lw      x16, 4 * 16(t6)
    lw      x17, 4 * 17(t6)
    lw      x18, 4 * 18(t6)
    lw      x19, 4 * 19(t6)
    lw      x20, 4 * 20(t6)
    lw      x21, 4 * 21(t6)
    lw      x22, 4 * 22(t6)
    lw      x23, 4 * 23(t6)
    lw      x24, 4 * 24(t6)
    lw      x25, 4 * 25(t6)
    lw      x26, 4 * 26(t6)
    lw      x27, 4 * 27(t6)
    lw      x28, 4 * 28(t6)
    lw      x29, 4 * 29(t6)
    lw      x30, 4 * 30(t6)
    lw      x31, 4 * 31(t6)         # t6 last: it held the PCB
    sret

# schedule: pick the next runnable process after the current one, round
# robin (the current one last), print "[kernel] switch to pid N", and run it. With
# none left, the system is done: shut down.
schedule:
    lw      s0, current
    la      s1, procs
    li      s2, NPROC
    sub     t0, s0, s1              # the current one's index
    li      t1, PCB_SIZE
    divu    s3, t0, t1
1:  addi    s3, s3, 1               # the next index, wrapping
    blt     s3, s2, 2f
    li      s3, 0
2:  li      t1, PCB_SIZE
    mul     t0, s3, t1
    add     a0, s1, t0
    lw      t0, PCB_STATE(a0)
    li      t1, STATE_RUNNABLE
    beq     t0, t1, found
    bne     a0, s0, 1b              # around once, the current one included
    la      a0, text_all_done
    call    sbi_puts
    li      a0, SRST_REASON_NONE
    call    shutdown
found:
    mv      s0, a0
    la      a0, text_switch
    call    sbi_puts
    lw      a0, PCB_PID(s0)
    call    print_udec
    li      a0, '\n'
    call    sbi_putc
    call    arm_quantum             # a full quantum for the one coming in
    mv      a0, s0
    j       run_process

# arm_quantum: the next timer interrupt, QUANTUM ticks from now.
arm_quantum:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    read_time
    li      t0, QUANTUM
    add     t1, a0, t0
    sltu    t2, t1, a0              # carry into the high half
    add     a1, a1, t2
    mv      a0, t1
    call    set_timer               # (also clears the pending interrupt)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# Pages and page tables.

# alloc_page: returns a0 = a zeroed 4 KiB page from the pool. The kernel's
# megapage maps the pool (it is in the kernel's .bss), VA = PA.
alloc_page:
    lw      a0, frames_used
    li      t0, FRAMES
    bgeu    a0, t0, out_of_memory
    addi    t1, a0, 1
    sw      t1, frames_used, t0
    slli    a0, a0, PAGE_SHIFT
    la      t0, frame_pool
    add     a0, a0, t0
    li      t0, PAGE_SIZE           # zero it: a page table's zero entries
    add     t0, a0, t0              # are "not valid"; stale ones would be
    mv      t1, a0                  # mappings
1:  sw      zero, 0(t1)
    addi    t1, t1, 4
    bne     t1, t0, 1b
    ret
out_of_memory:
    la      a0, text_oom
    j       panic

# copy_page: a0 = destination, a1 = source; 4 KiB.
copy_page:
    li      t0, PAGE_SIZE
    add     t0, a0, t0
1:  lw      t1, 0(a1)
    sw      t1, 0(a0)
    addi    a0, a0, 4
    addi    a1, a1, 4
    bne     a0, t0, 1b
    ret

# map_megapage: a0 = root table, a1 = va, a2 = ppn, a3 = flags.
# root[VPN[1]] becomes a leaf: 4 MiB at page ppn.
map_megapage:
    srli    t0, a1, MEGAPAGE_SHIFT
    slli    t0, t0, 2
    add     t0, a0, t0
    slli    t1, a2, PTE_PPN_SHIFT
    or      t1, t1, a3
    ori     t1, t1, PTE_V
    sw      t1, 0(t0)
    ret

# map_page: a0 = root table, a1 = va, a2 = ppn, a3 = flags. Maps one 4 KiB
# page, making the second-level table first if root[VPN[1]] has none yet
# (a pointer: V set, R = W = X = 0).
map_page:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s0, 24(sp)
    sw      s1, 20(sp)
    sw      s2, 16(sp)
    sw      s3, 12(sp)
    mv      s1, a1
    mv      s2, a2
    mv      s3, a3
    srli    t0, a1, MEGAPAGE_SHIFT
    slli    t0, t0, 2
    add     s0, a0, t0              # s0 = &root[VPN[1]]
    lw      t0, 0(s0)
    andi    t1, t0, PTE_V
    bnez    t1, 1f
    call    alloc_page              # a new second-level table
    srli    t0, a0, PAGE_SHIFT
    slli    t0, t0, PTE_PPN_SHIFT
    ori     t0, t0, PTE_V
    sw      t0, 0(s0)
1:  srli    t0, t0, PTE_PPN_SHIFT   # the table's address
    slli    t0, t0, PAGE_SHIFT
    srli    t1, s1, PAGE_SHIFT      # VPN[0]
    andi    t1, t1, 0x3ff
    slli    t1, t1, 2
    add     t0, t0, t1              # &table[VPN[0]]
    slli    t1, s2, PTE_PPN_SHIFT
    or      t1, t1, s3
    ori     t1, t1, PTE_V
    sw      t1, 0(t0)
    lw      s3, 12(sp)
    lw      s2, 16(sp)
    lw      s1, 20(sp)
    lw      s0, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

# user_readable: a0 = a user virtual address; a0 = 1 if the current process
# may read it, else 0. The walk the hardware does (privileged spec 4.3.2),
# by hand, in the process's table: the root entry must point to a second-
# level table (this kernel maps user memory in 4 KiB pages only), and the
# leaf must be valid, readable and a user page.
user_readable:
    lw      t0, current
    lw      t0, PCB_ROOT(t0)
    srli    t1, a0, MEGAPAGE_SHIFT
    slli    t1, t1, 2
    add     t0, t0, t1
    lw      t0, 0(t0)               # root[VPN[1]]
    andi    t1, t0, PTE_V | PTE_R | PTE_W | PTE_X
    li      t2, PTE_V
    bne     t1, t2, 1f              # not a pointer to a table
    srli    t0, t0, PTE_PPN_SHIFT
    slli    t0, t0, PAGE_SHIFT
    srli    t1, a0, PAGE_SHIFT
    andi    t1, t1, 0x3ff
    slli    t1, t1, 2
    add     t0, t0, t1
    lw      t0, 0(t0)               # table[VPN[0]]
    andi    t0, t0, PTE_V | PTE_R | PTE_U
    li      t1, PTE_V | PTE_R | PTE_U
    bne     t0, t1, 1f
    li      a0, 1
    ret
1:  li      a0, 0
    ret

# ---------------------------------------------------------------------------
# The trap entry. From U-mode, sscratch holds the current PCB: swap it with
# t6, save all registers there, then run on the kernel stack. From the
# kernel itself, sscratch is 0: a kernel bug, reported by panic.

    .balign 4
trap_entry:
    csrrw   t6, sscratch, t6        # t6 = the PCB, sscratch = the user's t6
    beqz    t6, kernel_trap
    sw      x1, 4 * 1(t6)
    sw      x2, 4 * 2(t6)
    sw      x3, 4 * 3(t6)
    sw      x4, 4 * 4(t6)
    sw      x5, 4 * 5(t6)
    sw      x6, 4 * 6(t6)
    sw      x7, 4 * 7(t6)
    sw      x8, 4 * 8(t6)
    sw      x9, 4 * 9(t6)
    sw      x10, 4 * 10(t6)
    sw      x11, 4 * 11(t6)
    sw      x12, 4 * 12(t6)
    sw      x13, 4 * 13(t6)
    sw      x14, 4 * 14(t6)
    sw      x15, 4 * 15(t6)
    sw      x16, 4 * 16(t6)
    sw      x17, 4 * 17(t6)
    sw      x18, 4 * 18(t6)
    sw      x19, 4 * 19(t6)
    sw      x20, 4 * 20(t6)
    sw      x21, 4 * 21(t6)
    sw      x22, 4 * 22(t6)
    sw      x23, 4 * 23(t6)
    sw      x24, 4 * 24(t6)
    sw      x25, 4 * 25(t6)
    sw      x26, 4 * 26(t6)
    sw      x27, 4 * 27(t6)
    sw      x28, 4 * 28(t6)
    sw      x29, 4 * 29(t6)
    sw      x30, 4 * 30(t6)
    csrr    t5, sscratch            # the user's t6
    sw      t5, PCB_T6(t6)
    csrr    t5, sepc
    sw      t5, PCB_PC(t6)
    csrw    sscratch, zero          # in the kernel now
    la      sp, kernel_stack_top    # a fresh kernel stack every trap: the
                                    # kernel never sleeps inside a trap

    csrr    s0, scause
    mv      s1, t6                  # s1 = the current PCB
    li      t0, SCAUSE_S_TIMER
    beq     s0, t0, timer_interrupt
    li      t0, CAUSE_USER_ECALL
    beq     s0, t0, syscall
    j       kill_process            # any other trap: the process's fault

timer_interrupt:
    la      a0, text_timer
    call    sbi_puts
    lw      a0, PCB_PID(s1)
    call    print_udec
    li      a0, '\n'
    call    sbi_putc
    j       schedule

kill_process:
    la      a0, text_kernel_pid
    call    sbi_puts
    lw      a0, PCB_PID(s1)
    call    print_udec
    la      a0, text_killed
    call    sbi_puts
    mv      a0, s0
    call    print_cause
    la      a0, text_scause
    call    sbi_puts
    mv      a0, s0
    call    print_udec
    la      a0, text_stval
    call    sbi_puts
    csrr    a0, stval               # the address it tried
    call    print_hex
    la      a0, text_sepc
    call    sbi_puts
    lw      a0, PCB_PC(s1)
    call    print_hex
    la      a0, text_close
    call    sbi_puts
    li      t0, STATE_DEAD
    sw      t0, PCB_STATE(s1)
    j       schedule

# ---------------------------------------------------------------------------
# System calls: a7 = the number, a0 and a1 the arguments, from the PCB. The
# result goes back into the saved a0; the pc moves past the ECALL.

syscall:
    lw      t0, PCB_PC(s1)
    addi    t0, t0, INSN_BYTES
    sw      t0, PCB_PC(s1)
    lw      t0, PCB_A7(s1)
    lw      a0, PCB_A0(s1)
    lw      a1, PCB_A1(s1)
    li      t1, SYS_WRITE
    beq     t0, t1, sys_write
    li      t1, SYS_GETPID
    beq     t0, t1, sys_getpid
    li      t1, SYS_YIELD
    beq     t0, t1, sys_yield
    li      t1, SYS_EXIT
    beq     t0, t1, sys_exit
    li      a0, -1                  # no such call
    j       syscall_return

sys_getpid:
    lw      a0, PCB_PID(s1)
    j       syscall_return

sys_yield:
    la      a0, text_kernel_pid
    call    sbi_puts
    lw      a0, PCB_PID(s1)
    call    print_udec
    la      a0, text_yields
    call    sbi_puts
    sw      zero, PCB_A0(s1)
    j       schedule

sys_exit:
    mv      s2, a0
    la      a0, text_kernel_pid
    call    sbi_puts
    lw      a0, PCB_PID(s1)
    call    print_udec
    la      a0, text_exited
    call    sbi_puts
    mv      a0, s2
    call    print_udec
    li      a0, '\n'
    call    sbi_putc
    li      t0, STATE_DEAD
    sw      t0, PCB_STATE(s1)
    j       schedule

# sys_write: a0 = the string's user address, a1 = its length. Check that
# every byte is in a page the process may read (with MAX_WRITE < a page,
# the first and the last byte cover every page it touches), copy it into a
# kernel buffer with SUM set, and print it from there: the SBI takes a
# physical address, which the kernel's buffer has (VA = PA) and a user
# pointer does not.
sys_write:
    mv      s2, a0                  # the user's pointer
    mv      s3, a1                  # the length
    beqz    s3, 2f
    li      t0, MAX_WRITE
    bgtu    s3, t0, bad_pointer
    add     s4, s2, s3
    addi    s4, s4, -1              # the last byte
    bltu    s4, s2, bad_pointer     # wrapped around the address space
    mv      a0, s2
    call    user_readable
    beqz    a0, bad_pointer
    mv      a0, s4
    call    user_readable
    beqz    a0, bad_pointer

    li      t0, SSTATUS_SUM         # the copy, with U pages open to S-mode
    csrs    sstatus, t0
    la      t1, write_buffer
    mv      t2, s2
    add     t3, s2, s3
1:  lbu     t4, 0(t2)
    sb      t4, 0(t1)
    addi    t1, t1, 1
    addi    t2, t2, 1
    bne     t2, t3, 1b
    li      t0, SSTATUS_SUM
    csrc    sstatus, t0             # and closed again

    mv      a0, s3                  # DBCN console_write from the buffer
    la      a1, write_buffer
    li      a2, 0
    SBI     SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE
    bnez    a0, bad_pointer
2:  mv      a0, s3
    j       syscall_return

bad_pointer:
    la      a0, text_kernel_pid
    call    sbi_puts
    lw      a0, PCB_PID(s1)
    call    print_udec
    la      a0, text_bad_write
    call    sbi_puts
    mv      a0, s2
    call    print_hex
    la      a0, text_refused
    call    sbi_puts
    li      a0, -EFAULT

syscall_return:
    sw      a0, PCB_A0(s1)
    mv      a0, s1
    j       run_process

# ---------------------------------------------------------------------------
# Kernel failures: a trap in the kernel itself, or no memory. Never seen in
# a correct run; they print what they can and shut down with a failure.

kernel_trap:
    csrrw   t6, sscratch, t6        # put t6 and sscratch (0) back
    la      sp, kernel_stack_top
    la      a0, text_kernel_trap
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    la      a0, text_sepc
    call    sbi_puts
    csrr    a0, sepc
    call    print_hex
    la      a0, text_stval
    call    sbi_puts
    csrr    a0, stval
    call    print_hex
    la      a0, text_close
    call    sbi_puts
    li      a0, SRST_REASON_FAILURE
    call    shutdown

panic:
    call    sbi_puts
    li      a0, SRST_REASON_FAILURE
    call    shutdown

# ---------------------------------------------------------------------------
# The user program. The kernel copies this page into each process's own
# code page, mapped at USER_CODE_VA; it is linked inside the kernel but runs
# only there, so it reaches its strings pc-relatively (la is auipc + addi)
# and its data and stack by their fixed virtual addresses. Its only way out
# is ECALL.
#
# Both processes run it; the pid decides the ending: pid 1 tries to make the
# kernel print kernel memory (refused), yields and exits; pid 2 reads kernel
# memory itself and is killed.

    .equ U_PREFIX,        USER_DATA_VA          # "[pid N] ", 8 bytes
    .equ U_COUNTER,       USER_DATA_VA + 16     # a word of this process's own
    .equ U_PREFIX_DIGIT,  5                     # where N goes
    .equ U_ROUNDS,        3
    .equ U_BUSY,          4000                  # iterations of busy work a round

# USYS number: a system call, arguments already in a0, a1.
.macro USYS number
    li      a7, \number
    ecall
.endm

    .balign PAGE_SIZE
user_program:
    USYS    SYS_GETPID
    mv      s0, a0                  # s0 = my pid
    li      s1, U_PREFIX            # build "[pid N] " in my data page
    li      t0, '['
    sb      t0, 0(s1)
    li      t0, 'p'
    sb      t0, 1(s1)
    li      t0, 'i'
    sb      t0, 2(s1)
    li      t0, 'd'
    sb      t0, 3(s1)
    li      t0, ' '
    sb      t0, 4(s1)
    addi    t0, s0, '0'
    sb      t0, U_PREFIX_DIGIT(s1)
    li      t0, ']'
    sb      t0, 6(s1)
    li      t0, ' '
    sb      t0, 7(s1)
    li      t0, 100                 # my counter starts at 100 * pid
    mul     t0, t0, s0
    li      t1, U_COUNTER
    sw      t0, 0(t1)

    la      a0, u_hello
    call    u_say
    li      s2, 1                   # the round
1:  li      t1, U_COUNTER           # one more in my counter
    lw      t0, 0(t1)
    addi    t0, t0, 1
    sw      t0, 0(t1)
    la      a0, u_round
    call    u_say
    mv      a0, s2
    call    u_print_udec
    la      a0, u_counter
    call    u_print
    li      t1, U_COUNTER
    lw      a0, 0(t1)
    call    u_print_udec
    la      a0, u_newline
    call    u_print
    li      t0, U_BUSY              # busy work: the timer preempts it
2:  addi    t0, t0, -1
    bnez    t0, 2b
    li      t0, 2                   # pid 1 gives up the CPU in round 2
    bne     s2, t0, 3f
    li      t0, 1
    bne     s0, t0, 3f
    la      a0, u_yield
    call    u_say
    USYS    SYS_YIELD
3:  addi    s2, s2, 1
    li      t0, U_ROUNDS
    ble     s2, t0, 1b

    li      t0, 2
    beq     s0, t0, u_bad_load

    la      a0, u_try_write         # pid 1: SYS_WRITE of kernel memory
    call    u_say
    li      a0, KERNEL_VA
    li      a1, 16
    USYS    SYS_WRITE
    mv      t1, a0                  # the result
    la      a0, u_got_efault
    li      t0, -EFAULT
    beq     t1, t0, 4f
    la      a0, u_got_other
4:  call    u_say
    la      a0, u_exit
    call    u_say
    li      a0, 0
    USYS    SYS_EXIT

u_bad_load:                         # pid 2: read kernel memory itself
    la      a0, u_try_load
    call    u_say
    li      t0, KERNEL_VA
    lw      t0, 0(t0)               # a load page fault: the kernel kills us
    la      a0, u_survived          # (never printed)
    call    u_say
    li      a0, 1
    USYS    SYS_EXIT

# u_say: a0 = a string; prints "[pid N] " and the string.
u_say:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      a0, 8(sp)
    li      a0, U_PREFIX
    li      a1, 8
    USYS    SYS_WRITE
    lw      a0, 8(sp)
    call    u_print
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# u_print: a0 = a NUL-terminated string; one SYS_WRITE.
u_print:
    mv      t0, a0
1:  lbu     t1, 0(t0)
    beqz    t1, 2f
    addi    t0, t0, 1
    j       1b
2:  sub     a1, t0, a0
    USYS    SYS_WRITE
    ret

# u_print_udec: a0 = an unsigned number; its digits are built on the user
# stack and written from there (the kernel checks that pointer too).
u_print_udec:
    addi    sp, sp, -16
    addi    t2, sp, 16              # fill backwards from the frame's end
    li      t0, 10
1:  remu    t1, a0, t0
    divu    a0, a0, t0
    addi    t1, t1, '0'
    addi    t2, t2, -1
    sb      t1, 0(t2)
    bnez    a0, 1b
    mv      a0, t2
    addi    a1, sp, 16
    sub     a1, a1, t2
    USYS    SYS_WRITE
    addi    sp, sp, 16
    ret

u_hello:      .asciz "hello from U-mode, code at va 0x00400000, data at va 0x00401000\n"
u_round:      .asciz "round "
u_counter:    .asciz ": my counter at va 0x00401010 is "
u_newline:    .asciz "\n"
u_yield:      .asciz "yielding the CPU\n"
u_try_write:  .asciz "asking the kernel to write 16 bytes from va 0x80000000\n"
u_got_efault: .asciz "the kernel said EFAULT\n"
u_got_other:  .asciz "the kernel did NOT say EFAULT\n"
u_exit:       .asciz "exiting with status 0\n"
u_try_load:   .asciz "reading kernel memory at va 0x80000000 myself\n"
u_survived:   .asciz "...and survived?\n"
user_program_end:                   # _start checks that it fits its page

    .section .rodata
text_boot:       .asciz "[kernel] booting: Sv32, two processes, a timer interrupt every "
text_boot2:      .asciz " ticks\n"
text_created:    .asciz "[kernel] created pid "
text_created2:   .asciz ": code va 0x00400000, data va 0x00401000, stack va 0x00403000\n"
text_start:      .asciz "[kernel] starting pid 1\n"
text_timer:      .asciz "[kernel] timer interrupt in pid "
text_switch:     .asciz "[kernel] switch to pid "
text_kernel_pid: .asciz "[kernel] pid "
text_yields:     .asciz " yields\n"
text_exited:     .asciz " exited with status "
text_killed:     .asciz " killed: "
text_scause:     .asciz " (scause "
text_stval:      .asciz ", stval "
text_sepc:       .asciz ", sepc "
text_close:      .asciz ")\n"
text_bad_write:  .asciz ": SYS_WRITE from "
text_refused:    .asciz " refused, not its memory\n"
text_all_done:   .asciz "[kernel] no process left: shutting down\n"
text_kernel_trap: .asciz "[kernel] PANIC: trap in the kernel: "
text_oom:        .asciz "[kernel] PANIC: out of pages\n"
text_too_big:    .asciz "[kernel] PANIC: the user program does not fit a page\n"

    .data
    .balign 4
current:         .word 0            # the PCB of the running process
frames_used:     .word 0

    .bss
    .balign PAGE_SIZE
frame_pool:      .zero FRAMES * PAGE_SIZE
procs:           .zero NPROC * PCB_SIZE
write_buffer:    .zero MAX_WRITE
    .balign 16
kernel_stack:    .zero 4096
kernel_stack_top:
