"""Writing programs: an ELF32 RISC-V little-endian executable from laid-out
sections and symbols, the last step of `emu asm`.

The format is the System V gABI ("Object Files": ELF header, sections, symbol
table, string tables; "Program Loading": program headers) with the RISC-V psABI's
"ELF Object Files" chapter for the machine and flags: e_machine EM_RISCV, and
e_flags 0, which says no compressed instructions (no EF_RISCV_RVC) and the
soft-float ABI ilp32 (EF_RISCV_FLOAT_ABI_SOFT is 0). emu.elf.load_elf reads what
this writes.

    from emu.asm.elfwrite import Section, Symbol, write_elf
    text = Section(".text", 0x80000000, code, len(code), "ax")
    image = write_elf([text], [Symbol("_start", 0x80000000, ".text", True, "func")],
                      entry=0x80000000)

The file, in order:

    ELF header                 52 bytes
    program headers            one PT_LOAD per segment, 32 bytes each
    segment contents           each at an offset congruent to its address modulo
                               the page size, as a loader that maps pages needs
    other section contents     sections without the "a" flag, if any
    .symtab .strtab .shstrtab  the symbol table and the two string tables
    section headers            40 bytes each: the null section, the caller's
                               sections in their order, then the three tables

Segments are grouped as GNU ld groups sections without a PHDRS command
(bfd/elf.c, _bfd_elf_map_sections_to_segments), with one difference that
programs/link.ld's PHDRS makes too: a writable section never joins a read-only
segment, even when it starts on the same page, so no segment is writable and
executable at once. For the layout of link.ld that gives one R+X segment for
.text and .rodata and one R+W segment for .data, .tohost and .bss.

The ELF headers are not part of any segment (ld loads them along with the code
when they fit below it; link.ld does not, and emu's RAM starts at the code)."""
from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass
class Section:
    name: str          # ".text", ".rodata", ".data", ".bss", or another name
    addr: int          # virtual = physical load address
    data: bytes        # contents (b"" for NOBITS)
    size: int          # memory size (== len(data) except for NOBITS .bss)
    flags: str         # GNU-style: "ax" code, "a" read-only data, "aw" data; a section
                       # named .bss or with size > len(data) == 0 is NOBITS


@dataclass
class Symbol:
    name: str
    value: int
    section: str | None   # None: absolute (SHN_ABS)
    is_global: bool
    kind: str             # "func" | "object" | "notype"


# e_ident (gABI "ELF Identification").
ELFMAG = b"\x7fELF"
ELFCLASS32 = 1
ELFDATA2LSB = 1
EV_CURRENT = 1
ELFOSABI_SYSV = 0

ET_EXEC = 2
EM_RISCV = 243
EF_NONE = 0             # psABI: no EF_RISCV_RVC, EF_RISCV_FLOAT_ABI_SOFT (0), no RVE, no TSO

# Section header types, flags and special indexes (gABI "Sections").
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 0, 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF, SHN_ABS = 0, 0xFFF1
SECTION_FLAGS = {"w": SHF_WRITE, "a": SHF_ALLOC, "x": SHF_EXECINSTR}

# Program header type and flags (gABI "Program Header").
PT_LOAD = 1
PF_X, PF_W, PF_R = 0x1, 0x2, 0x4

# Symbol binding and type, packed into st_info as (bind << 4) | type.
STB_LOCAL, STB_GLOBAL = 0, 1
STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2
STV_DEFAULT = 0
SYMBOL_TYPES = {"notype": STT_NOTYPE, "object": STT_OBJECT, "func": STT_FUNC}

# Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Sym, little-endian, no padding.
EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
PHDR = struct.Struct("<IIIIIIII")
SHDR = struct.Struct("<IIIIIIIIII")
SYM = struct.Struct("<IIIBBH")

PAGE_SIZE = 0x1000      # ld's MAXPAGESIZE for RISC-V, and Sv32's page
IALIGN = 4              # instruction alignment without the C extension
WORD_ALIGN = 4          # Elf32 tables are arrays of 4-byte words
ADDRESS_LIMIT = 1 << 32


def write_elf(sections: list[Section], symbols: list[Symbol], entry: int) -> bytes:
    """The bytes of an ELF executable holding `sections` (in this order in the
    section header table), `symbols` (locals first, each group in the order
    given) and the entry point `entry`. A malformed input (overlapping
    sections, a symbol in a section that is not there, an unknown flag or
    kind) raises ValueError."""
    _check(sections, symbols, entry)
    segments = _segments(sections)
    image = bytearray(EHDR.size + PHDR.size * len(segments))

    # Segment contents. A segment's bytes go at the first offset past what is
    # already written that is congruent to its address modulo the page size
    # (gABI: "p_vaddr should equal p_offset, modulo p_align"). A segment with
    # no file bytes (only .bss) takes the congruent offset just below instead,
    # so it points inside the file without making it longer.
    offsets: dict[int, int] = {}                 # id(section) -> sh_offset
    for segment in segments:
        here = len(image)
        if segment.filesz:
            segment.offset = here + (segment.vaddr - here) % PAGE_SIZE
        else:
            segment.offset = here - (here - segment.vaddr) % PAGE_SIZE
        file_end = segment.offset + segment.filesz
        for section in segment.sections:
            at = segment.offset + section.addr - segment.vaddr
            if section.data:
                image += bytes(at - len(image))  # padding up to the page, or a gap
                image += section.data
                offsets[id(section)] = at
            else:
                # No file bytes (NOBITS, or empty): gABI calls sh_offset the
                # "conceptual placement"; ld puts it where the file bytes end.
                offsets[id(section)] = min(at, file_end)

    # Sections outside any segment: not allocated (no "a"), or allocated but
    # empty and alone in what would have been a segment.
    for section in sections:
        if id(section) not in offsets:
            offsets[id(section)] = len(image)
            if not _is_nobits(section):
                image += section.data

    # Section header indexes: 0 is the null section, then the caller's, then ours.
    index = {section.name: i for i, section in enumerate(sections, start=1)}
    symtab_index = len(sections) + 1
    strtab_index, shstrtab_index = symtab_index + 1, symtab_index + 2

    symtab, strtab, first_global = _symbol_table(symbols, index)
    shstrtab = _StringTable()
    names = [shstrtab.add(s.name) for s in sections]
    symtab_name, strtab_name, shstrtab_name = (
        shstrtab.add(".symtab"), shstrtab.add(".strtab"), shstrtab.add(".shstrtab"))

    image += bytes(-len(image) % WORD_ALIGN)
    symtab_offset = len(image)
    image += symtab
    strtab_offset = len(image)
    image += strtab.data
    shstrtab_offset = len(image)
    image += shstrtab.data
    image += bytes(-len(image) % WORD_ALIGN)
    shoff = len(image)

    headers = [SHDR.pack(0, SHT_NULL, 0, 0, 0, 0, SHN_UNDEF, 0, 0, 0)]
    for section, name in zip(sections, names):
        headers.append(SHDR.pack(
            name,                                           # sh_name
            SHT_NOBITS if _is_nobits(section) else SHT_PROGBITS,  # sh_type
            _flags(section.flags),                          # sh_flags
            section.addr,                                   # sh_addr
            offsets[id(section)],                           # sh_offset
            section.size,                                   # sh_size
            SHN_UNDEF,                                      # sh_link: none
            0,                                              # sh_info: none
            _alignment(section),                            # sh_addralign
            0))                                             # sh_entsize: not a table
    headers.append(SHDR.pack(
        symtab_name, SHT_SYMTAB, 0, 0, symtab_offset, len(symtab),
        strtab_index,           # sh_link: the string table of the symbol names
        first_global,           # sh_info: one greater than the last local's index
        WORD_ALIGN, SYM.size))
    headers.append(SHDR.pack(strtab_name, SHT_STRTAB, 0, 0, strtab_offset,
                             len(strtab.data), SHN_UNDEF, 0, 1, 0))
    headers.append(SHDR.pack(shstrtab_name, SHT_STRTAB, 0, 0, shstrtab_offset,
                             len(shstrtab.data), SHN_UNDEF, 0, 1, 0))
    image += b"".join(headers)

    ident = struct.pack("<4sBBBBB7x", ELFMAG,
                        ELFCLASS32,         # EI_CLASS
                        ELFDATA2LSB,        # EI_DATA
                        EV_CURRENT,         # EI_VERSION
                        ELFOSABI_SYSV,      # EI_OSABI
                        0)                  # EI_ABIVERSION, then EI_PAD
    image[0:EHDR.size] = EHDR.pack(
        ident,
        ET_EXEC,                                # e_type
        EM_RISCV,                               # e_machine
        EV_CURRENT,                             # e_version
        entry,                                  # e_entry
        EHDR.size if segments else 0,           # e_phoff: right after this header
        shoff,                                  # e_shoff
        EF_NONE,                                # e_flags
        EHDR.size,                              # e_ehsize
        PHDR.size,                              # e_phentsize
        len(segments),                          # e_phnum
        SHDR.size,                              # e_shentsize
        len(headers),                           # e_shnum
        shstrtab_index)                         # e_shstrndx
    for i, segment in enumerate(segments):
        at = EHDR.size + i * PHDR.size
        image[at:at + PHDR.size] = PHDR.pack(
            PT_LOAD,                            # p_type
            segment.offset,                     # p_offset
            segment.vaddr,                      # p_vaddr
            segment.vaddr,                      # p_paddr: loaded where it runs
            segment.filesz,                     # p_filesz
            segment.memsz,                      # p_memsz: the rest is zeroed
            segment.flags,                      # p_flags
            PAGE_SIZE)                          # p_align
    return bytes(image)


def _is_nobits(section: Section) -> bool:
    return section.name == ".bss" or (not section.data and section.size > 0)


def _flags(flags: str) -> int:
    value = 0
    for letter in flags:
        value |= SECTION_FLAGS[letter]
    return value


def _alignment(section: Section) -> int:
    """sh_addralign: the alignment the section's address has (the largest power
    of two dividing it), capped at what it could need: 4 for code, whose
    instructions are 4-byte aligned without the C extension, a page for the
    rest. For link.ld's layout that is ld's own 4 for .text and 4096 for .data;
    .rodata and .bss may show more than the script's ALIGN(16), which their
    address satisfies all the same."""
    cap = IALIGN if "x" in section.flags else PAGE_SIZE
    alignment = 1
    while alignment < cap and section.addr % (alignment * 2) == 0:
        alignment *= 2
    return alignment


@dataclass
class _Segment:
    sections: list[Section]
    vaddr: int
    filesz: int = 0
    memsz: int = 0
    flags: int = PF_R
    offset: int = 0

    def add(self, section: Section) -> None:
        self.sections.append(section)
        end = section.addr + section.size - self.vaddr
        self.memsz = max(self.memsz, end)
        if not _is_nobits(section) and section.size:
            self.filesz = end
        if "w" in section.flags:
            self.flags |= PF_W
        if "x" in section.flags:
            self.flags |= PF_X


def _segments(sections: list[Section]) -> list[_Segment]:
    """Allocated sections in address order, grouped into PT_LOAD segments. A
    section starts a new segment when (three of ld's tests; ld lets a section
    that starts on the page the segment ends in join it regardless of the first
    two, this writer does not):
    - the segment so far ends in memory-only bytes (.bss) and the section has
      file bytes: a segment's file image must be the start of its memory image;
    - it is writable and the segment is read-only (code and data apart);
    - it starts a page or more past the page the segment ends in: one segment
      would carry those pages of zeros in the file.
    ld's other tests (overlap, load address != run address) cannot arise: _check
    refuses overlaps and p_paddr is always p_vaddr. Segments that would load
    nothing (an empty .bss alone) are left out."""
    ordered = sorted((s for s in sections if "a" in s.flags),
                     key=lambda s: (s.addr, s.size > 0))   # ld: empty ones first
    segments: list[_Segment] = []
    current: _Segment | None = None
    for section in ordered:
        if current is not None:
            end = current.vaddr + current.memsz
            new = (
                (current.memsz > current.filesz and not _is_nobits(section)
                 and section.size > 0)
                or ("w" in section.flags and not current.flags & PF_W)
                or _page_up(end) + PAGE_SIZE <= section.addr
            )
            if not new:
                current.add(section)
                continue
        current = _Segment([], section.addr)
        current.add(section)
        segments.append(current)
    return [segment for segment in segments if segment.memsz]


def _page_up(address: int) -> int:
    return -(-address // PAGE_SIZE) * PAGE_SIZE


class _StringTable:
    """A gABI string table: NUL-terminated names after a leading NUL, so that
    offset 0 is the empty name; each name is stored once."""

    def __init__(self):
        self.data = bytearray(b"\0")
        self.offsets = {"": 0}

    def add(self, name: str) -> int:
        if name not in self.offsets:
            self.offsets[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.offsets[name]


def _symbol_table(symbols: list[Symbol], index: dict[str, int]
                  ) -> tuple[bytes, _StringTable, int]:
    """The .symtab contents, its string table, and the index of the first
    global. gABI: entry 0 is the undefined symbol, and every STB_LOCAL symbol
    precedes the weak and global ones, which is what sh_info counts."""
    strtab = _StringTable()
    ordered = ([s for s in symbols if not s.is_global] +
               [s for s in symbols if s.is_global])
    entries = [SYM.pack(0, 0, 0, 0, STV_DEFAULT, SHN_UNDEF)]
    for symbol in ordered:
        bind = STB_GLOBAL if symbol.is_global else STB_LOCAL
        entries.append(SYM.pack(
            strtab.add(symbol.name),                        # st_name
            symbol.value,                                   # st_value: an address, or
                                                            # the number if absolute
            0,                                              # st_size: not recorded
            (bind << 4) | SYMBOL_TYPES[symbol.kind],        # st_info
            STV_DEFAULT,                                    # st_other: visibility
            SHN_ABS if symbol.section is None else index[symbol.section]))  # st_shndx
    first_global = 1 + sum(not s.is_global for s in symbols)
    return b"".join(entries), strtab, first_global


def _check(sections: list[Section], symbols: list[Symbol], entry: int) -> None:
    """Refuse what would make a wrong file rather than write it."""
    if not 0 <= entry < ADDRESS_LIMIT:
        raise ValueError(f"entry point {entry:#x} is not a 32-bit address")
    names = set()
    for section in sections:
        what = f"section {section.name!r}"
        if not section.name or "\0" in section.name:
            raise ValueError(f"{what}: a section needs a name without NUL bytes")
        if section.name in names:
            raise ValueError(f"{what} appears twice")
        names.add(section.name)
        unknown = set(section.flags) - set(SECTION_FLAGS)
        if unknown:
            raise ValueError(f"{what}: unknown flag(s) {''.join(sorted(unknown))!r}; "
                             "use a, w and x")
        if not 0 <= section.addr or section.addr + section.size > ADDRESS_LIMIT:
            raise ValueError(f"{what} at {section.addr:#x} ({section.size} bytes) "
                             "does not fit in the 32-bit address space")
        if _is_nobits(section):
            if section.data:
                raise ValueError(f"{what} is NOBITS and cannot hold contents")
        elif len(section.data) != section.size:
            raise ValueError(f"{what}: size {section.size} but {len(section.data)} "
                             "bytes of contents")
    allocated = sorted((s for s in sections if "a" in s.flags and s.size),
                       key=lambda s: s.addr)
    for first, second in zip(allocated, allocated[1:]):
        if second.addr < first.addr + first.size:
            raise ValueError(f"sections {first.name!r} and {second.name!r} overlap "
                             f"at {second.addr:#x}")
    for symbol in symbols:
        what = f"symbol {symbol.name!r}"
        if not symbol.name or "\0" in symbol.name:
            raise ValueError(f"{what}: a symbol needs a name without NUL bytes")
        if not 0 <= symbol.value < ADDRESS_LIMIT:
            raise ValueError(f"{what}: value {symbol.value:#x} is not a 32-bit number")
        if symbol.kind not in SYMBOL_TYPES:
            raise ValueError(f"{what}: kind {symbol.kind!r} is not one of "
                             f"{', '.join(SYMBOL_TYPES)}")
        if symbol.section is not None and symbol.section not in names:
            raise ValueError(f"{what} is in section {symbol.section!r}, "
                             "which is not being written")
