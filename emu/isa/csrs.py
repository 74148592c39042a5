"""The CSRs of the subset (docs/isa.md; privileged spec 1.12 tables 2.2-2.5), and
the names GNU gives the others.

One row per CSR: its name and number. The core implements exactly these: a test
checks that every row reads in the core and that no other number does."""
import re

CSRS: dict[str, int] = {
    # Supervisor
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
    "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
    "satp": 0x180,
    # Machine trap setup and handling
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303, "mie": 0x304,
    "mtvec": 0x305, "mcounteren": 0x306, "mstatush": 0x310,
    "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342, "mtval": 0x343, "mip": 0x344,
    # Physical memory protection (enforced: csrc/pmp.c)
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


# ---- CSRs outside the subset that GNU as and objdump 2.40 know by name
#
# The core has none of them (any access is illegal instruction), but GNU as
# accepts their names and objdump prints them, so our assembler and disassembler
# do too (binutils opcodes/riscv-opc.h, DECLARE_CSR). `name{a..b}` is a numbered
# run starting at the given number.
_GNU_CSRS = """
fflags=0x001 frm=0x002 fcsr=0x003 vstart=0x008 vxsat=0x009 vxrm=0x00a vcsr=0x00f
seed=0x015 sstateen{0..3}=0x10c sieh=0x114 stimecmp=0x14d siselect=0x150 sireg=0x151
siph=0x154 stopei=0x15c stimecmph=0x15d vsstatus=0x200 vsie=0x204 vstvec=0x205
vsieh=0x214 vsscratch=0x240 vsepc=0x241 vscause=0x242 vstval=0x243 vsip=0x244
vstimecmp=0x24d vsiselect=0x250 vsireg=0x251 vsiph=0x254 vstopei=0x25c
vstimecmph=0x25d vsatp=0x280 mvien=0x308 mvip=0x309 mstateen{0..3}=0x30c
midelegh=0x313 mieh=0x314 mvienh=0x318 mviph=0x319 mstateen{0..3}h=0x31c
mcountinhibit=0x320 mhpmevent{3..31}=0x323 miselect=0x350 mireg=0x351 miph=0x354
mtopei=0x35c scontext=0x5a8 hstatus=0x600 hedeleg=0x602 hideleg=0x603 hie=0x604
htimedelta=0x605 hcounteren=0x606 hgeie=0x607 hvien=0x608 hvictl=0x609 henvcfg=0x60a
hstateen{0..3}=0x60c hidelegh=0x613 htimedeltah=0x615 hvienh=0x618 henvcfgh=0x61a
hstateen{0..3}h=0x61c htval=0x643 hip=0x644 hvip=0x645 hviprio{1..2}=0x646
htinst=0x64a hviph=0x655 hviprio{1..2}h=0x656 hgatp=0x680 hcontext=0x6a8
mhpmevent{3..31}h=0x723 tinfo=0x7a4 tcontrol=0x7a5 mcontext=0x7a8 mscontext=0x7aa
dcsr=0x7b0 dpc=0x7b1 dscratch{0..1}=0x7b2 mhpmcounter{3..31}=0xb03
mhpmcounter{3..31}h=0xb83 hpmcounter{3..31}=0xc03 vl=0xc20 vtype=0xc21 vlenb=0xc22
hpmcounter{3..31}h=0xc83 scountovf=0xda0 stopi=0xdb0 hgeip=0xe12 vstopi=0xeb0
mtopi=0xfb0
"""
# Names only the privileged spec 1.11 has (the N extension's user CSRs) ...
_GNU_CSRS_1P11_ONLY = """
ustatus=0x000 uie=0x004 utvec=0x005 uscratch=0x040 uepc=0x041 ucause=0x042
utval=0x043 uip=0x044 sedeleg=0x102 sideleg=0x103
"""
# ... and names only 1.12 has (objdump prints the number under 1.11).
_GNU_CSRS_1P12_ONLY = """
senvcfg=0x10a menvcfg=0x30a mstatush=0x310 menvcfgh=0x31a mtinst=0x34a mtval2=0x34b
pmpcfg{4..15}=0x3a4 pmpaddr{16..63}=0x3c0 mseccfg=0x747 mseccfgh=0x757
mconfigptr=0xf15
"""


def _csr_list(text: str) -> dict[int, str]:
    names = {}
    for item in text.split():
        name, number = item.split("=")
        number = int(number, 16)
        run = re.fullmatch(r"(\w+)\{(\d+)\.\.(\d+)\}(\w*)", name)
        if run:
            prefix, first, last, suffix = run.groups()
            for i in range(int(first), int(last) + 1):
                names[number + i - int(first)] = f"{prefix}{i}{suffix}"
        else:
            names[number] = name
    return names


def objdump_csr_names(priv_spec: str) -> dict[int, str]:
    """Number -> name as objdump prints CSRs for a file of this privileged spec
    version ("1.11" or "1.12"): the subset's and GNU's other names, less those the
    version does not have."""
    only_1p12 = _csr_list(_GNU_CSRS_1P12_ONLY)
    names = {**_csr_list(_GNU_CSRS), **CSR_NAMES}
    if priv_spec == "1.11":
        names.update(_csr_list(_GNU_CSRS_1P11_ONLY))
        for number in only_1p12:
            names.pop(number, None)
    else:
        names.update(only_1p12)
    return names


# Every name GNU as accepts (for a name of another spec version it warns, and
# assembles).
GNU_CSRS: dict[str, int] = {
    name: number for spec in ("1.11", "1.12") for number, name in objdump_csr_names(spec).items()
}
