"""The disassembler: words of the subset as GNU objdump (binutils 2.40) prints them.

Students compare what the tracer, the debugger and `emu disasm` print with
`riscv64-unknown-elf-objdump -d`, so this module reproduces objdump's text, not
just its meaning. Instructions are decoded only through the shared tables
(emu/isa/instructions.py, pseudo.py, csrs.py); what is here is objdump's way of
printing them, and each rule below names the objdump behaviour it copies
(binutils opcodes/riscv-dis.c and binutils/objdump.c):

- Aliases: objdump prints the first row of its opcode table that matches, and
  its table lists aliases before the base instruction, so `addi a0,a0,4` prints
  as `add a0,a0,4` and `slli` as `sll` (pseudo.py's `D` rows, in order).
  `unimp` is not an alias in objdump's table, so it shows with -M no-aliases too.
- Unknown words: in code, objdump 2.40 prints `.4byte\t0x27` (no zero padding);
  in data marked by a `$d` mapping symbol, `.word\t0x00000027`.
- Targets: an absolute hex address and ` <symbol+0xoff>`; without any symbol,
  `0x` and the address.
- CSR names: objdump names every CSR it knows, well beyond our subset, and which
  names it knows depends on the privileged spec version the ELF records
  (gas 2.40 writes 1.11, where mstatush and mconfigptr have no name; a file
  without the attribute gets 1.12). The CSRs outside our table are listed here
  for display only; the emulator still traps on them.
- The listing (`disassemble_elf`) adds objdump's address comments: after `lui` or
  `auipc` writes rd, the next addi/load/store/jalr based on rd prints the address
  it forms (`add t0,t0,296 # 8000012c <mtrap_entry>`). Like objdump 2.40, the
  remembered value survives other writes to rd and is forgotten once used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from emu.elf import load_elf
from emu.errors import ProgramError
from emu.isa.csrs import objdump_csr_names
from emu.isa.instructions import ABI_NAMES, BY_NAME, FIELDS, INSTRUCTIONS, Instruction, decode
from emu.isa.pseudo import PSEUDOS

PRIV_SPECS = ("1.11", "1.12")
_CSR_NAMES = {spec: objdump_csr_names(spec) for spec in PRIV_SPECS}
DEFAULT_PRIV_SPEC = "1.12"      # objdump's default for a file that records none

# fence's predecessor and successor sets, as riscv-dis.c spells them.
_FENCE_BITS = "iorw"

_ALIASES: dict[str, list] = {insn.name: [] for insn in INSTRUCTIONS}
for _pseudo in PSEUDOS:
    if _pseudo.disassembler:
        _ALIASES[_pseudo.base.name].append(_pseudo)
# Pseudo-instructions that objdump's table lists as real instructions, not aliases:
# they are printed even with -M no-aliases.
_NOT_ALIASES = frozenset({"unimp"})

_TARGET_FIELDS = frozenset({"imm_b", "imm_j"})
_ADDI, _JALR = BY_NAME["addi"], BY_NAME["jalr"]
_UPPER = {BY_NAME["lui"]: False, BY_NAME["auipc"]: True}     # instruction: pc-relative?
_MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class _Text:
    """One word's text without its pc: `head` is everything before a branch
    target, `offset` the target's distance from pc (None if there is none)."""
    head: str
    offset: int | None
    insn: Instruction | None
    operands: dict
    syntax: str


def _fence_set(bits: int) -> str:
    text = "".join(flag for i, flag in enumerate(_FENCE_BITS) if bits & (8 >> i))
    return text or "unknown"


def _operand(field: str, value: int, csr_names: dict[int, str]) -> str:
    if field in ("rd", "rs1", "rs2"):
        return ABI_NAMES[value]
    if field in ("imm_u", "shamt"):
        return f"{value:#x}"
    if field == "csr":
        return csr_names.get(value, f"{value:#x}")
    if field in ("pred", "succ"):
        return _fence_set(value)
    return str(value)       # imm_i, imm_s, zimm: signed decimal


def _render(word: int, aliases: bool, priv_spec: str) -> _Text:
    found = decode(word)
    if found is None:
        return _Text(f".4byte\t{word:#x}", None, None, {}, "")
    insn, operands = found
    name, syntax = insn.name, insn.syntax
    for pseudo in _ALIASES[insn.name]:
        if (aliases or pseudo.name in _NOT_ALIASES) and pseudo.matches(operands):
            name, syntax = pseudo.name, pseudo.syntax
            break
    if "aq" in operands:
        name += {(0, 0): "", (1, 0): ".aq", (0, 1): ".rl", (1, 1): ".aqrl"}[
            operands["aq"], operands["rl"]]
    csr_names = _CSR_NAMES[priv_spec]
    parts, offset = [], None
    for token in re.split(r"([,()])", syntax):
        if token in _TARGET_FIELDS:
            offset = operands[token]
            break               # a target is always the last operand
        parts.append(_operand(token, operands[token], csr_names) if token in FIELDS else token)
    head = name + ("\t" + "".join(parts) if syntax else "")
    return _Text(head, offset, insn, operands, syntax)


_CACHE: dict[tuple[int, bool, str], _Text] = {}


def _text(word: int, aliases: bool, priv_spec: str) -> _Text:
    key = (word, aliases, priv_spec)
    text = _CACHE.get(key)
    if text is None:
        if len(_CACHE) > 1 << 16:
            _CACHE.clear()
        text = _CACHE[key] = _render(word, aliases, priv_spec)
    return text


def _hex(value: int) -> str:
    return f"{value & _MASK32:x}"


def _with_symbol(address: int, symbols: dict[int, str] | None) -> str:
    """objdump's print_address_func for a plain address-to-name map."""
    if not symbols:
        return "0x" + _hex(address)
    base = max((a for a in symbols if a <= address), default=None)
    if base is None:
        base = min(symbols)     # before every symbol: objdump names it by the first
    return f"{_hex(address)} <{symbols[base]}{_offset(address - base)}>"


def _offset(delta: int) -> str:
    return "" if delta == 0 else f"+0x{delta:x}" if delta > 0 else f"-0x{-delta:x}"


def disassemble(word: int, pc: int, symbols: dict[int, str] | None = None,
                aliases: bool = True, priv_spec: str = DEFAULT_PRIV_SPEC) -> str:
    """One instruction as objdump prints it: mnemonic, a tab, the operands.

    Branch and jump targets are absolute (`j\t80000010 <loop+0x4>` when `symbols`,
    an address-to-name map, is given; `j\t0x80000010` without). Words outside the
    subset print as objdump prints them in code, `.4byte\t0x...`. A single word has
    no context, so the listing's `# address` comments (see disassemble_elf) are
    not printed here."""
    text = _text(word & _MASK32, aliases, priv_spec)
    if text.offset is None:
        return text.head
    return text.head + _with_symbol((pc + text.offset) & _MASK32, symbols)


# --------------------------------------------------------------------------
# The listing of an ELF file: objdump -d.

@dataclass(frozen=True)
class _Symbol:
    name: str
    value: int
    section: str            # section name, "*ABS*" for absolute symbols
    function: bool
    object: bool
    local: bool
    size: int

    @property
    def mapping(self) -> bool:
        """A RISC-V mapping symbol ($x, $xrv32i..., $d): marks code and data, never
        printed."""
        return self.name.startswith(("$x", "$d"))


def _compare_key(symbol: _Symbol, section: str):
    """objdump's compare_symbols: by value, then this section's symbols first,
    functions, objects, globals, larger sizes, names not starting with '.', name."""
    file_like = len(symbol.name) > 2 and symbol.name[-2] == "." and symbol.name[-1] in "oa"
    compiled = "gnu_compiled" in symbol.name or "gcc2_compiled" in symbol.name
    return (symbol.value, symbol.section != section, compiled, file_like,
            not symbol.function, not symbol.object, symbol.local, -symbol.size,
            symbol.name.startswith("."), symbol.name.encode())


class _Symbols:
    """objdump's sorted symbol table for one section and its lookups."""

    def __init__(self, symbols: list[_Symbol], section: str):
        self.section = section
        self.sorted = sorted(symbols, key=lambda s: _compare_key(s, section))
        self.values = [s.value for s in self.sorted]

    def _ok(self, i: int, want_section: bool) -> bool:
        symbol = self.sorted[i]
        if want_section and symbol.section != self.section:
            return False
        return not symbol.mapping

    def find(self, vma: int, require_section: bool = False) -> int | None:
        """objdump's find_symbol_for_address: the index of the symbol to name vma by."""
        count = len(self.sorted)
        if count == 0:
            return None
        lo, hi = 0, count
        while lo + 1 < hi:      # objdump's binary search, kept for its tie behaviour
            mid = (lo + hi) // 2
            if self.values[mid] > vma:
                hi = mid
            elif self.values[mid] < vma:
                lo = mid
            else:
                lo = mid
                break
        place = lo
        while place > 0 and self.values[place] == self.values[place - 1]:
            place -= 1
        i = place
        while i < count and self.values[i] == self.values[place]:
            if self._ok(i, True):
                return i
            i += 1
        if not self._ok(place, require_section):
            newplace = None
            for j in range(i - 1, -1, -1):
                if self._ok(j, require_section):
                    if newplace is not None and self.values[j] != self.values[newplace]:
                        break
                    newplace = j
            if newplace is not None:
                place = newplace
            else:
                for j in range(place + 1, count):
                    if self._ok(j, require_section):
                        place = j
                        break
            if not self._ok(place, require_section):
                return None
        return place

    def describe(self, vma: int, index: int | None, section_vma: int, skip_zeros: bool) -> str:
        """objdump_print_addr_with_sym: `80000010 <name+0x4>`."""
        address = _hex(vma) if skip_zeros else f"{vma & _MASK32:08x}"
        if index is None:
            return f"{address} <{self.section}{_offset(vma - section_vma)}>"
        symbol = self.sorted[index]
        return f"{address} <{symbol.name}{_offset(vma - symbol.value)}>"


def _raw(data: bytes, chunk: int, line: int) -> str:
    """The bytes column: little-endian chunks, padded to the line's width."""
    text = ""
    for i in range(0, len(data), chunk):
        text += data[i:i + chunk][::-1].hex() + " "
    text += (" " * (2 * chunk) + " ") * ((line - len(data)) // chunk)
    return text


class _Lister:
    """One objdump -d run over a file: the address tracking state (riscv-dis.c's
    hi_addr and gp) lives for the whole run, across sections, as in objdump."""

    def __init__(self, symbols: list[_Symbol], aliases: bool, priv_spec: str):
        self.all_symbols = symbols
        self.aliases = aliases
        self.priv_spec = priv_spec
        self.hi_addr: list[int | None] = [None] * 32
        self.gp = None
        for symbol in symbols:
            if symbol.name == "__global_pointer$":
                self.gp = symbol.value

    def section(self, name: str, vma: int, data: bytes) -> list[str]:
        table = _Symbols(self.all_symbols, name)
        self.table = table
        self.section_name, self.section_vma = name, vma
        maps = [(s.value, s.name.startswith("$x")) for s in table.sorted
                if s.mapping and s.section == name]
        lines = ["", f"Disassembly of section {name}:"]
        end = vma + len(data)
        digits = f"{end & _MASK32:08x}"
        skip = len(digits) - len(digits.lstrip("0"))
        if skip == len(digits) and vma != 0:
            skip = 0
        if skip:
            skip = (skip - 1) & ~3
        self.skip_addr_chars = skip

        place = table.find(vma, require_section=True)
        offset = 0
        while offset < len(data):
            addr = vma + offset
            symbol = table.sorted[place] if place is not None else None
            lines.append("")
            lines.append(table.describe(addr, place, vma, skip_zeros=False) + ":")
            if symbol is not None and symbol.value > addr:
                next_place = place
            elif symbol is None:
                next_place = None
            else:
                next_place = place
                while next_place < len(table.sorted) and not (
                        table.sorted[next_place].section == name
                        and table.sorted[next_place].value > symbol.value
                        and not table.sorted[next_place].mapping):
                    next_place += 1
                if next_place >= len(table.sorted):
                    next_place = None
            if symbol is not None and symbol.value > addr:
                stop = symbol.value - vma
            elif next_place is None:
                stop = len(data)
            else:
                stop = table.sorted[next_place].value - vma
            if stop > len(data) or stop <= offset:
                stop = len(data)
            lines += self._bytes(data, offset, stop, maps)
            offset = stop
            place = next_place
        return lines

    def _address(self, addr: int) -> str:
        digits = list(f"{addr & _MASK32:08x}"[self.skip_addr_chars:])
        i = 0
        while i < len(digits) and digits[i] == "0":
            digits[i] = " "
            i += 1
        if i == len(digits):
            digits[-1] = "0"
        return "".join(digits)

    def _print_address(self, vma: int) -> str:
        if not self.table.sorted:
            return "0x" + _hex(vma)
        return self.table.describe(vma, self.table.find(vma), self.section_vma, skip_zeros=True)

    def _bytes(self, data: bytes, offset: int, stop: int, maps) -> list[str]:
        lines = []
        vma = self.section_vma
        block_start = offset
        while offset < stop:
            z = offset
            while z < stop and data[z] == 0:
                z += 1
            if z - offset >= 8 or (z == stop and z - offset < 3):
                if z != stop:
                    z = offset + ((z - offset) & ~3)
                lines.append("\t...")
                offset = z
                if offset >= stop:
                    break
            addr = vma + offset
            code = True
            for value, is_code in maps:
                if value > addr:
                    break
                code = is_code
            if code:
                size, text = self._instruction(data, offset, addr)
                chunk = 4 if size % 4 == 0 else 2
            else:
                size = 4
                for value, _ in maps:
                    if value > addr:
                        size = min(size, value - addr)
                        break
                size = min(size, len(data) - offset)
                size = 2 if size == 3 else size
                if size > stop - offset:
                    # objdump 2.40 reads the chunk past the symbol that ends the
                    # block, reports it out of bounds and drops the block's last
                    # bytes; copied as it prints it (a string whose length is not
                    # a multiple of 4, labelled, in .text).
                    error = f"\tAddress {addr:#x} is out of bounds."
                    if offset == block_start:
                        lines += [f"{self._address(addr)}:\t " + error, "",
                                  f"{self._address(addr + 4)}:\t "]
                    else:
                        lines += [f"{self._address(addr)}:\t{' ' * 11}" + error, ""]
                    break
                value = int.from_bytes(data[offset:offset + size], "little")
                directive = {1: ".byte", 2: ".short", 4: ".word"}[size]
                text = f"{directive}\t0x{value:0{2 * size}x}"
                chunk = size
            line_width = 6 if chunk == 1 else 8
            raw = _raw(data[offset:offset + size], chunk, line_width)
            lines.append(f"{self._address(addr)}:\t{raw}\t{text}")
            offset += size
        return lines

    def _instruction(self, data: bytes, offset: int, addr: int) -> tuple[int, str]:
        low = data[offset] | (data[offset + 1] << 8 if offset + 1 < len(data) else 0)
        if low & 0x3 != 0x3:            # riscv_insn_length: the encoding's own length
            size = 2
        elif low & 0x1F != 0x1F:
            size = 4
        elif low & 0x3F == 0x1F:
            size = 6
        else:
            size = 8
        chunk = data[offset:offset + size]
        value = int.from_bytes(chunk, "little")
        if size != 4:
            if size == 6:
                return size, ".byte\t" + ", ".join(f"0x{b:02x}" for b in chunk)
            return size, f".{size}byte\t{value:#x}"
        text = _text(value, self.aliases, self.priv_spec)
        line = text.head
        if text.offset is not None:
            line += self._print_address((addr + text.offset) & _MASK32)
        comment = self._track(text, addr)
        if comment is not None:
            line += " # " + self._print_address(comment)
        return size, line

    def _maybe(self, base: int, offset: int, state: list) -> None:
        """riscv-dis.c's maybe_print_address."""
        if self.hi_addr[base] is not None:
            state[0] = (self.hi_addr[base] if base else 0) + offset
            self.hi_addr[base] = None
        elif base == 3 and self.gp is not None:        # gp
            state[0] = self.gp + offset
        elif base in (0, 4):                            # zero, tp
            state[0] = offset
        else:
            return
        state[0] &= _MASK32

    def _track(self, text: _Text, pc: int) -> int | None:
        insn, ops, syntax = text.insn, text.operands, text.syntax
        if insn is None:
            return None
        state = [None]
        if insn in _UPPER:
            upper = ops["imm_u"] << 12
            self.hi_addr[ops["rd"]] = (pc + upper if _UPPER[insn] else upper) & _MASK32
        elif insn is _JALR:
            # riscv-dis.c looks at jalr's base once for 'o' (offset), once more as
            # 'o' falls through to 'j', and once for 's' (the register).
            for token in re.split(r"[,()]", syntax):
                for _ in range({"imm_i": 2, "rs1": 1}.get(token, 0)):
                    self._maybe(ops["rs1"], ops["imm_i"], state)
        elif "imm_i(rs1)" in syntax:                   # loads: 'o'
            self._maybe(ops["rs1"], ops["imm_i"], state)
        elif "imm_i" in syntax and insn is _ADDI and ops["rs1"] != 0:
            self._maybe(ops["rs1"], ops["imm_i"], state)
        elif "imm_s(rs1)" in syntax:                   # stores: 'q'
            self._maybe(ops["rs1"], ops["imm_s"], state)
        return state[0]


def _priv_spec(elf) -> str:
    section = elf.get_section_by_name(".riscv.attributes")
    if section is None or not hasattr(section, "iter_subsections"):
        return DEFAULT_PRIV_SPEC
    major, minor = None, 0
    for sub in section.iter_subsections():
        for subsub in sub.iter_subsubsections():
            for attribute in subsub.iter_attributes():
                if attribute.tag == "TAG_PRIV_SPEC":
                    major = attribute.value
                elif attribute.tag == "TAG_PRIV_SPEC_MINOR":
                    minor = attribute.value
    spec = f"{major}.{minor}"
    return spec if spec in PRIV_SPECS else DEFAULT_PRIV_SPEC


def _elf_symbols(elf) -> list[_Symbol]:
    table = elf.get_section_by_name(".symtab")
    if table is None:
        return []
    symbols = []
    for sym in table.iter_symbols():
        kind, bind, shndx = sym["st_info"]["type"], sym["st_info"]["bind"], sym["st_shndx"]
        # objdump's remove_useless_symbols: no unnamed, section, file, undefined
        # or common symbols.
        if not sym.name or kind in ("STT_SECTION", "STT_FILE"):
            continue
        if shndx in ("SHN_UNDEF", "SHN_COMMON"):
            continue
        section = "*ABS*" if shndx == "SHN_ABS" else elf.get_section(shndx).name
        symbols.append(_Symbol(sym.name, sym["st_value"], section, kind == "STT_FUNC",
                               kind == "STT_OBJECT", bind == "STB_LOCAL", sym["st_size"]))
    return symbols


def disassemble_elf(path: str | Path, aliases: bool = True) -> str:
    """`objdump -d FILE` (or `-M no-aliases`), byte for byte: every executable
    section, symbol headers, address comments, `...` for runs of zeros."""
    load_elf(path)                  # its checks and messages for unfit files
    try:
        with open(path, "rb") as stream:
            elf = ELFFile(stream)
            lister = _Lister(_elf_symbols(elf), aliases, _priv_spec(elf))
            lines = ["", f"{path}:     file format elf32-littleriscv", ""]
            for section in elf.iter_sections():
                flags = section["sh_flags"]
                if not flags & 0x4 or section["sh_type"] == "SHT_NOBITS":   # SHF_EXECINSTR
                    continue
                data = section.data()
                if not data:
                    continue
                lines += lister.section(section.name, section["sh_addr"], data)
    except (ELFError, ValueError, KeyError, AssertionError) as error:
        raise ProgramError(f"{path}: damaged ELF file ({error})") from None
    return "\n".join(lines) + "\n"


@click.command("disasm")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--no-aliases", is_flag=True,
              help="Print base instructions only, as objdump -M no-aliases does.")
def disasm_command(file: str, no_aliases: bool) -> None:
    """Disassemble the executable sections of an ELF file, as objdump -d does."""
    try:
        click.echo(disassemble_elf(file, aliases=not no_aliases), nl=False)
    except ProgramError as error:
        raise click.ClickException(str(error)) from None
