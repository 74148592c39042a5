"""The CSRs of the subset (docs/isa.md; privileged spec 1.12 tables 2.2-2.5).

One row per CSR: its name and number. The core implements exactly these: a test
checks that every row reads in the core and that no other number does."""

CSRS: dict[str, int] = {
    # Supervisor
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
    "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
    "satp": 0x180,
    # Machine trap setup and handling
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303, "mie": 0x304,
    "mtvec": 0x305, "mcounteren": 0x306, "mstatush": 0x310,
    "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342, "mtval": 0x343, "mip": 0x344,
    # Physical memory protection: storage only
    **{f"pmpcfg{i}": 0x3A0 + i for i in range(4)},
    **{f"pmpaddr{i}": 0x3B0 + i for i in range(16)},
    # Debug triggers: present, none implemented
    "tselect": 0x7A0, "tdata1": 0x7A1, "tdata2": 0x7A2, "tdata3": 0x7A3,
    # Counters
    "mcycle": 0xB00, "minstret": 0xB02, "mcycleh": 0xB80, "minstreth": 0xB82,
    "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    "cycleh": 0xC80, "timeh": 0xC81, "instreth": 0xC82,
    # Machine information
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mconfigptr": 0xF15,
}

CSR_NAMES: dict[int, str] = {number: name for name, number in CSRS.items()}
