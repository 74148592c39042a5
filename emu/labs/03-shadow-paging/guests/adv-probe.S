# adv-probe.S: an adversarial guest that reaches outside its own RAM.
#
# What it shows: the physical address space a kernel sees, and what answers
# an access to an address where nothing is: an access fault (scause 1 fetch,
# 5 load, 7 store), raised by the bus, not by the page table. The kernel
# catches each fault in its own trap handler (the firmware delegates access
# faults to S-mode through medeleg), prints the address and the cause, and
# goes on with the next probe.
#
# Phase 1 probes physical addresses with translation off (satp = 0): below
# RAM, the UART, past the end of its 16 MiB of RAM. Phase 2 turns
# Sv32 on with its own page table and maps virtual pages onto the same kinds
# of physical addresses, and onto some a 32-bit address cannot even name:
# Sv32 physical addresses have 34 bits (a PTE holds a 22-bit page number). A
# mapping of RAM's base + 4 GiB (0x1_8000_0000) must fault too; an emulator
# or hypervisor that cut the address to 32 bits would land in RAM instead.
# A page table that points outside RAM makes the hardware's walk itself
# fault: again an access fault, for the access that needed the walk.
#
# For a guest of the hypervisor, all of these must stay faults, and a store
# must never land in another guest's memory or the hypervisor's: its 16 MiB at
# guest-physical 0x80000000 are all of memory it has. The UART is the one
# device a guest may use, and the probes only read it.
#
# Phase 3, after the summary line, reads the board's other devices, the test
# device and the CLINT. The CLINT is the firmware's: `emu run --boot s` keeps
# it from S-mode as OpenSBI's PMP does, so every load faults, and a guest of
# the hypervisor has no CLINT at all. The test device answers a bare S-mode
# kernel; whether a hypervisor gives its guests one is the hypervisor's
# choice. Everything up to the phase 3 line must be the same on every host.

    .include "sbi.inc"

    .equ NO_TRAP,     -1
    .equ PROBE_LOAD,  0
    .equ PROBE_STORE, 1
    .equ PROBE_FETCH, 2
    .equ PROBE_LOAD_BYTE, 3         # device registers are bytes (and must be
                                    # accessed naturally aligned)
    .equ PROBE_SIZE,  12            # a probe: address, kind, description
    .equ STORE_VALUE, 0x0badf00d    # what a store probe writes

    # Phase 2's virtual windows (VPN[1] = the top 10 bits: one 4 MiB root
    # entry each), all far from RAM's identity mapping.
    .equ VA_PAST_RAM,    0x40000000
    .equ VA_BELOW_RAM,   0x40400000
    .equ VA_HIGH_34BIT,  0x40800000
    .equ VA_RAM_ALIAS,   0x40c00000
    .equ VA_BAD_TABLE,   0x41000000
    .equ VA_ALIAS_TABLE, 0x41400000
    .equ KERNEL_FLAGS,   PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    .equ DATA_FLAGS,     PTE_R | PTE_W | PTE_A | PTE_D

# PROBE kind, address, "description": one row of a probe table (3 words;
# the text goes to .rodata).
.macro PROBE kind, address, text
    .pushsection .rodata
.Ltext\@:
    .asciz "\text"
    .popsection
    .word   \address, \kind, .Ltext\@
.endm

# MEGAPAGE va, ppn, flags: root[va >> 22] = a leaf for 4 MiB at page ppn
# (a 22-bit page number: 34-bit physical addresses). With flags = PTE_V
# alone (R = W = X = 0) the entry points to a second-level table at ppn.
.macro MEGAPAGE va, ppn, flags
    li      a0, \va
    li      a1, \ppn
    li      a2, \flags
    call    set_root_entry
.endm

    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap_handler
    csrw    stvec, t0

    la      a0, text_phase1
    call    sbi_puts
    la      a0, probes_physical
    call    run_probes

    # Phase 2: a root table with RAM mapped at virtual = physical (so this
    # code, its stack and its strings stay where they are: the firmware reads
    # DBCN strings at physical addresses) and the windows to probe.
    MEGAPAGE 0x80000000, 0x80000, KERNEL_FLAGS              # RAM: 4 x 4 MiB
    MEGAPAGE 0x80400000, 0x80400, KERNEL_FLAGS
    MEGAPAGE 0x80800000, 0x80800, KERNEL_FLAGS
    MEGAPAGE 0x80c00000, 0x80c00, KERNEL_FLAGS
    MEGAPAGE 0x00000000, 0x00000, DATA_FLAGS                # address 0
    MEGAPAGE 0x10000000, 0x10000, DATA_FLAGS                # UART
    MEGAPAGE VA_PAST_RAM,   0x81000,  DATA_FLAGS | PTE_X    # pa 0x81000000
    MEGAPAGE VA_BELOW_RAM,  0x7fc00,  DATA_FLAGS            # pa 0x7fc00000
    MEGAPAGE VA_HIGH_34BIT, 0x3ffc00, DATA_FLAGS            # pa 0x3_ffc00000
    MEGAPAGE VA_RAM_ALIAS,  0x180000, DATA_FLAGS | PTE_X    # pa 0x1_80000000
    MEGAPAGE VA_BAD_TABLE,  0x81000,  PTE_V                 # table at 0x81000000
    MEGAPAGE VA_ALIAS_TABLE, 0x180000, PTE_V                # table at 0x1_80000000

    la      t0, root_table
    srli    t0, t0, PAGE_SHIFT
    li      t1, SATP_MODE_SV32
    or      t0, t0, t1
    sfence.vma                      # the table writes before any walk
    csrw    satp, t0
    sfence.vma

    la      a0, text_phase2
    call    sbi_puts
    la      a0, probes_paged
    call    run_probes

    csrw    satp, zero
    sfence.vma
    la      a0, text_done1
    call    sbi_puts
    lw      a0, faults
    call    print_udec
    la      a0, text_done2
    call    sbi_puts
    lw      a0, probes
    call    print_udec
    la      a0, text_done3
    call    sbi_puts

    # Phase 3, after the summary so that everything above is the same for
    # every correct host: the board's own devices.
    la      a0, text_phase3
    call    sbi_puts
    la      a0, probes_board
    call    run_probes
    li      a0, SRST_REASON_NONE
    call    shutdown

# set_root_entry: a0 = va, a1 = 22-bit ppn, a2 = flags (V is added).
set_root_entry:
    la      t0, root_table
    srli    t1, a0, MEGAPAGE_SHIFT
    slli    t1, t1, 2               # 4 bytes an entry
    add     t0, t0, t1
    slli    t1, a1, PTE_PPN_SHIFT
    or      t1, t1, a2
    ori     t1, t1, PTE_V
    sw      t1, 0(t0)
    ret

# run_probes: a0 = a probe table, ended by a row with description 0.
# Prints one line a probe: "  INSN ADDRESS DESCRIPTION: RESULT".
run_probes:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    mv      s0, a0
1:  lw      t0, 8(s0)
    beqz    t0, 2f
    lw      t0, probes
    addi    t0, t0, 1
    sw      t0, probes, t1
    lw      a0, 4(s0)               # "  load  " and so on
    slli    a0, a0, 2
    la      t0, kind_names
    add     t0, t0, a0
    lw      a0, 0(t0)
    call    sbi_puts
    lw      a0, 0(s0)
    call    print_hex
    li      a0, ' '
    call    sbi_putc
    lw      a0, 8(s0)
    call    sbi_puts
    la      a0, text_colon
    call    sbi_puts
    lw      a0, 0(s0)
    lw      a1, 4(s0)
    call    probe
    lw      a0, caught_cause
    li      t0, NO_TRAP
    bne     a0, t0, 3f
    la      a0, text_no_fault
    call    sbi_puts
    j       4f
3:  lw      t0, faults
    addi    t0, t0, 1
    sw      t0, faults, t1
    call    print_cause
4:  li      a0, '\n'
    call    sbi_putc
    addi    s0, s0, PROBE_SIZE
    j       1b
2:  lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# probe: a0 = address, a1 = kind. One access, which may trap: the handler
# notes scause and resumes after the access (for a fetch, at ra: the jump's
# return address, as if the code there had returned at once).
probe:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, NO_TRAP
    sw      t0, caught_cause, t1
    li      t0, PROBE_LOAD
    beq     a1, t0, 1f
    li      t0, PROBE_STORE
    beq     a1, t0, 2f
    li      t0, PROBE_LOAD_BYTE
    beq     a1, t0, 4f
    jalr    ra, 0(a0)               # PROBE_FETCH
    j       3f
1:  lw      t0, 0(a0)
    j       3f
4:  lbu     t0, 0(a0)
    j       3f
2:  li      t0, STORE_VALUE
    sw      t0, 0(a0)
3:  lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# ---------------------------------------------------------------------------
# The trap handler: note scause, resume after the access. Only the probes
# may trap; a second trap before the first is reported means something else
# went wrong, and the run stops instead of looping.

    .balign 4
trap_handler:
    addi    sp, sp, -16
    sw      t0, 12(sp)
    sw      t1, 8(sp)
    lw      t0, caught_cause
    li      t1, NO_TRAP
    bne     t0, t1, unexpected
    csrr    t0, scause
    bltz    t0, unexpected          # no interrupt is enabled
    sw      t0, caught_cause, t1
    li      t1, CAUSE_INSN_ACCESS_FAULT
    beq     t0, t1, 1f
    li      t1, CAUSE_INSN_PAGE_FAULT
    beq     t0, t1, 1f
    csrr    t0, sepc                # a load or store: step over it
    addi    t0, t0, INSN_BYTES
    csrw    sepc, t0
    j       2f
1:  csrw    sepc, ra                # a fetch: back to the jump's caller
2:  lw      t1, 8(sp)
    lw      t0, 12(sp)
    addi    sp, sp, 16
    sret

unexpected:
    la      a0, text_unexpected
    call    sbi_puts
    csrr    a0, scause
    call    print_cause
    la      a0, text_at
    call    sbi_puts
    csrr    a0, sepc
    call    print_hex
    li      a0, '\n'
    call    sbi_putc
    li      a0, SRST_REASON_FAILURE
    call    shutdown

# The probe tables are data, not .rodata: PROBE puts its text in .rodata,
# which must not land between a table's rows.
    .data
    .balign 4
probes_physical:
    PROBE PROBE_LOAD,  0x00000000, "address 0, nothing there"
    PROBE PROBE_STORE, 0x00000000, "address 0, nothing there"
    PROBE PROBE_FETCH, 0x00000000, "address 0, nothing there"
    PROBE PROBE_LOAD,  0x00001000, "where QEMU has its boot ROM"
    PROBE PROBE_LOAD,  0x0c000000, "the PLIC, priority 0 (a guest's own device)"
    PROBE PROBE_LOAD,  0x0c600000, "just past the PLIC's registers"
    PROBE PROBE_LOAD_BYTE, 0x10000005, "the UART, LSR (a guest's own device)"
    PROBE PROBE_FETCH, 0x10000000, "the UART: devices hold no code"
    PROBE PROBE_LOAD,  0x10000100, "just past the UART's registers"
    PROBE PROBE_STORE, 0x10000100, "just past the UART's registers"
    PROBE PROBE_LOAD,  0x7ffffffc, "the last word below RAM"
    PROBE PROBE_STORE, 0x7ffffffc, "the last word below RAM"
    PROBE PROBE_LOAD,  0x80fffffc, "the last word of its 16 MiB of RAM"
    PROBE PROBE_LOAD,  0x80fffffe, "a misaligned word, half past its RAM"
    PROBE PROBE_STORE, 0x80fffffe, "a misaligned word, half past its RAM"
    PROBE PROBE_LOAD,  0x81000000, "the first word past its RAM"
    PROBE PROBE_STORE, 0x81000000, "the first word past its RAM"
    PROBE PROBE_FETCH, 0x81000000, "the first word past its RAM"
    PROBE PROBE_LOAD,  0x88000000, "past 128 MiB, the default RAM of a bare run"
    PROBE PROBE_STORE, 0x88000000, "past 128 MiB, the default RAM of a bare run"
    PROBE PROBE_LOAD,  0xfffffffc, "the top of the address space"
    PROBE PROBE_STORE, 0xfffffffc, "the top of the address space"
    .word   0, 0, 0

# Last, the board's own devices: not part of what a guest of the hypervisor has.
probes_board:
    PROBE PROBE_LOAD,  0x00100000, "the test device (power off)"
    PROBE PROBE_LOAD,  0x02000000, "the CLINT, msip"
    PROBE PROBE_LOAD,  0x02004000, "the CLINT, mtimecmp"
    PROBE PROBE_LOAD,  0x0200bff8, "the CLINT, mtime"
    .word   0, 0, 0

probes_paged:
    PROBE PROBE_LOAD,  0x80fffffc, "va = pa, the last word of its RAM"
    PROBE PROBE_LOAD,  0x00000000, "va = pa 0x00000000, nothing there"
    PROBE PROBE_LOAD_BYTE, 0x10000005, "va = pa 0x10000005, the UART's LSR"
    PROBE PROBE_LOAD,  0x40000000, "-> pa 0x81000000, past its RAM"
    PROBE PROBE_STORE, 0x40000000, "-> pa 0x81000000, past its RAM"
    PROBE PROBE_FETCH, 0x40000000, "-> pa 0x81000000, past its RAM"
    PROBE PROBE_LOAD,  0x407ffffc, "-> pa 0x7ffffffc, below its RAM"
    PROBE PROBE_STORE, 0x407ffffc, "-> pa 0x7ffffffc, below its RAM"
    PROBE PROBE_LOAD,  0x40800000, "-> pa 0x3_ffc00000, above 4 GiB"
    PROBE PROBE_STORE, 0x40800000, "-> pa 0x3_ffc00000, above 4 GiB"
    PROBE PROBE_LOAD,  0x40c00000, "-> pa 0x1_80000000, RAM's base + 4 GiB"
    PROBE PROBE_STORE, 0x40c00000, "-> pa 0x1_80000000, RAM's base + 4 GiB"
    PROBE PROBE_FETCH, 0x40c00000, "-> pa 0x1_80000000, RAM's base + 4 GiB"
    PROBE PROBE_LOAD,  0x41000000, "page table at pa 0x81000000, past its RAM"
    PROBE PROBE_STORE, 0x41000000, "page table at pa 0x81000000, past its RAM"
    PROBE PROBE_LOAD,  0x41400000, "page table at pa 0x1_80000000"
    PROBE PROBE_LOAD,  0x41800000, "no mapping at all"
    .word   0, 0, 0

    .section .rodata
    .balign 4
kind_names:       .word text_load, text_store, text_fetch, text_load_byte
text_load:        .asciz "  lw   "
text_store:       .asciz "  sw   "
text_fetch:       .asciz "  jalr "
text_load_byte:   .asciz "  lbu  "
text_colon:       .asciz ": "
text_no_fault:    .asciz "no fault"
text_phase1:      .asciz "adv-probe: phase 1, physical addresses (satp = 0)\n"
text_phase2:      .asciz "adv-probe: phase 2, virtual addresses through its own Sv32 page table\n"
text_phase3:      .asciz "adv-probe: phase 3, the board's own devices, which a hypervisor guest does not have\n"
text_done1:       .asciz "adv-probe: "
text_done2:       .asciz " of "
text_done3:       .asciz " probes faulted\n"
text_unexpected:  .asciz "adv-probe: unexpected trap: "
text_at:          .asciz " at pc "

    .data
    .balign 4
caught_cause:     .word NO_TRAP
probes:           .word 0
faults:           .word 0

    .bss
    .balign PAGE_SIZE
root_table:       .zero PAGE_SIZE   # 1024 entries; zero is "not valid"
    .balign 16
stack:            .zero 4096
stack_top:
