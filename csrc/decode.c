/* decode.c: instruction words to ops (unprivileged spec 20191213 chapter 24, the
 * opcode map; privileged spec 1.12 table 9.1), and the cache of decoded pages
 * keyed by physical address, with what keeps it true to RAM.
 *
 * Every word is decoded here and nowhere else: a word outside the subset, or in
 * an extension the machine's misa leaves out, becomes an ILLEGAL op, raised when
 * (if) it runs. The cache never holds a stale op: every write into a page that
 * has ops (a guest store, an AMO or SC, the Sv32 walk setting A and D, the host
 * through emu_phys_write or the HTIF answer) undoes the ops of the words written
 * and of the block that runs into them, and guest stores to such pages always
 * take the slow path (they never enter the store TLB) so that they are seen.
 * FENCE.I and a new misa undo every op. */
#include <stdlib.h>

#include "hart.h"

/* Operand fields (unprivileged spec section 2.3, figure 2.4). */
#define RD      ((insn >> 7) & 31)
#define RS1_NUM ((insn >> 15) & 31)
#define RS2_NUM ((insn >> 20) & 31)
#define FUNCT3  ((insn >> 12) & 7)
#define FUNCT7  (insn >> 25)

/* Immediates. Shifting a signed value left is undefined in C, so the sign is
 * spread with an arithmetic right shift and the pieces are assembled unsigned. */
#define SEXT(value, bits) ((uint32_t)((int32_t)((uint32_t)(value) << (32 - (bits))) >> (32 - (bits))))
#define IMM_I   SEXT(insn >> 20, 12)
#define IMM_S   SEXT(((insn >> 25) << 5) | ((insn >> 7) & 0x1F), 12)
#define IMM_B   SEXT(((insn >> 31) << 12) | (((insn >> 7) & 1) << 11) | \
                     (((insn >> 25) & 0x3F) << 5) | (((insn >> 8) & 0xF) << 1), 13)
#define IMM_U   (insn & 0xFFFFF000u)
#define IMM_J   SEXT(((insn >> 31) << 20) | (((insn >> 12) & 0xFF) << 12) | \
                     (((insn >> 20) & 1) << 11) | (((insn >> 21) & 0x3FF) << 1), 21)

/* Major opcodes (unprivileged spec table 24.1). */
enum {
    OP_LOAD = 0x03, OP_MISC_MEM = 0x0F, OP_IMM = 0x13, OP_AUIPC = 0x17,
    OP_STORE = 0x23, OP_AMO = 0x2F, OP_OP = 0x33, OP_LUI = 0x37,
    OP_BRANCH = 0x63, OP_JALR = 0x67, OP_JAL = 0x6F, OP_SYSTEM = 0x73,
};

/* SYSTEM instructions with no operands, whole words (privileged spec table 9.1). */
enum {
    INSN_ECALL = 0x00000073, INSN_EBREAK = 0x00100073,
    INSN_SRET = 0x10200073, INSN_MRET = 0x30200073, INSN_WFI = 0x10500073,
};
#define SFENCE_VMA_MASK  0xFE007FFFu
#define SFENCE_VMA_MATCH 0x12000073u

/* A extension funct5 values (unprivileged spec table 24.3). */
enum {
    AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_LR = 0x02, AMO_SC = 0x03, AMO_XOR = 0x04,
    AMO_OR = 0x08, AMO_AND = 0x0C, AMO_MIN = 0x10, AMO_MAX = 0x14,
    AMO_MINU = 0x18, AMO_MAXU = 0x1C,
};

#define OP_ENDS(name, ends) ends,
static const uint8_t ends_block[OP_KINDS] = { FOR_EACH_OP(OP_ENDS) };
#undef OP_ENDS

/* The kind of op insn is on a hart with the extensions of misa. An extension
 * misa leaves out has no instructions: its encodings are illegal, as on a hart
 * without it (unprivileged spec 20191213 chapters 7 and 8, M and A; privileged
 * spec 1.12 section 3.1.1). Decided here, once per word, the check costs the
 * interpreter nothing. */
static uint8_t decode_op(uint32_t insn, uint32_t misa)
{
    static const uint8_t branch[8] = {
        K_BEQ, K_BNE, K_ILLEGAL, K_ILLEGAL, K_BLT, K_BGE, K_BLTU, K_BGEU,
    };
    static const uint8_t load[8] = {
        K_LB, K_LH, K_LW, K_ILLEGAL, K_LBU, K_LHU, K_ILLEGAL, K_ILLEGAL,
    };
    static const uint8_t store[8] = {
        K_SB, K_SH, K_SW, K_ILLEGAL, K_ILLEGAL, K_ILLEGAL, K_ILLEGAL, K_ILLEGAL,
    };
    static const uint8_t op_imm[8] = {
        K_ADDI, K_SLLI, K_SLTI, K_SLTIU, K_XORI, K_SRLI, K_ORI, K_ANDI,
    };
    static const uint8_t op[8] = { K_ADD, K_SLL, K_SLT, K_SLTU, K_XOR, K_SRL, K_OR, K_AND };
    static const uint8_t muldiv[8] = {
        K_MUL, K_MULH, K_MULHSU, K_MULHU, K_DIV, K_DIVU, K_REM, K_REMU,
    };
    static const uint8_t csr[8] = {
        K_ILLEGAL, K_CSRRW, K_CSRRS, K_CSRRC, K_ILLEGAL, K_CSRRWI, K_CSRRSI, K_CSRRCI,
    };
    switch (insn & 0x7F) {
    case OP_LUI:    return K_LUI;
    case OP_AUIPC:  return K_AUIPC;
    case OP_JAL:    return K_JAL;
    case OP_JALR:   return FUNCT3 == 0 ? K_JALR : K_ILLEGAL;
    case OP_BRANCH: return branch[FUNCT3];
    case OP_LOAD:   return load[FUNCT3];
    case OP_STORE:  return store[FUNCT3];
    case OP_IMM:
        /* A shift amount with bit 5 set is reserved on RV32. */
        if (FUNCT3 == 1)
            return FUNCT7 == 0 ? K_SLLI : K_ILLEGAL;
        if (FUNCT3 == 5)
            return FUNCT7 == 0 ? K_SRLI : FUNCT7 == 0x20 ? K_SRAI : K_ILLEGAL;
        return op_imm[FUNCT3];
    case OP_OP:
        switch (FUNCT7) {
        case 0x00: return op[FUNCT3];
        case 0x01: return misa & MISA_M ? muldiv[FUNCT3] : K_ILLEGAL;
        case 0x20: return FUNCT3 == 0 ? K_SUB : FUNCT3 == 5 ? K_SRA : K_ILLEGAL;
        default:   return K_ILLEGAL;
        }
    case OP_AMO:
        if (FUNCT3 != 2 || !(misa & MISA_A))
            return K_ILLEGAL;
        switch (insn >> 27) {
        case AMO_LR:   return RS2_NUM == 0 ? K_LR_W : K_ILLEGAL;
        case AMO_SC:   return K_SC_W;
        case AMO_SWAP: return K_AMOSWAP_W;
        case AMO_ADD:  return K_AMOADD_W;
        case AMO_XOR:  return K_AMOXOR_W;
        case AMO_AND:  return K_AMOAND_W;
        case AMO_OR:   return K_AMOOR_W;
        case AMO_MIN:  return K_AMOMIN_W;
        case AMO_MAX:  return K_AMOMAX_W;
        case AMO_MINU: return K_AMOMINU_W;
        case AMO_MAXU: return K_AMOMAXU_W;
        default:       return K_ILLEGAL;
        }
    case OP_MISC_MEM:
        /* Implementations ignore the reserved fields of FENCE and FENCE.I. */
        return FUNCT3 == 0 ? K_FENCE : FUNCT3 == 1 ? K_FENCE_I : K_ILLEGAL;
    case OP_SYSTEM:
        if (FUNCT3 != 0)
            return csr[FUNCT3];
        switch (insn) {
        case INSN_ECALL:  return K_ECALL;
        case INSN_EBREAK: return K_EBREAK;
        case INSN_MRET:   return K_MRET;
        case INSN_SRET:   return K_SRET;
        case INSN_WFI:    return K_WFI;
        }
        return (insn & SFENCE_VMA_MASK) == SFENCE_VMA_MATCH ? K_SFENCE_VMA : K_ILLEGAL;
    default:
        return K_ILLEGAL;
    }
}

/* The immediate each format carries; for CSR instructions the CSR number. */
static uint32_t decode_imm(uint32_t insn, uint8_t kind)
{
    switch (insn & 0x7F) {
    case OP_LUI: case OP_AUIPC: return IMM_U;
    case OP_JAL:                return IMM_J;
    case OP_BRANCH:             return IMM_B;
    case OP_STORE:              return IMM_S;
    case OP_SYSTEM:             return insn >> 20;
    case OP_IMM:
        return kind == K_SLLI || kind == K_SRLI || kind == K_SRAI ? RS2_NUM : IMM_I;
    default:                    return IMM_I;
    }
}

/* The op for insn at ops[index] of its page. A jump or taken branch whose target
 * is an aligned address in the same page knows that target's op. */
static void decode(op_t *op, uint32_t insn, uint32_t index, uint32_t misa)
{
    uint8_t kind = decode_op(insn, misa);
    uint32_t imm = decode_imm(insn, kind);
    uint32_t offset = index * 4 + imm;      /* from the page's start, modulo 2^32 */
    int jumps = kind == K_JAL || (kind >= K_BEQ && kind <= K_BGEU);
    *op = (op_t){
        .kind = kind, .rd = RD ? RD : X0_SINK, .rs1 = RS1_NUM, .rs2 = RS2_NUM,
        .imm = imm, .insn = insn,
        .jump = jumps && offset < PAGE_SIZE && !(offset & 3) ? offset / 4 : NO_JUMP,
    };
}

static uint32_t word_at(const code_page_t *page, uint32_t index)
{
    uint32_t insn;
    memcpy(&insn, page->host + 4 * index, 4);
    return insn;
}

/* A conditional branch to the instruction after next, over an ALU op, is run as
 * one op with it (exec.c's SKIP). Under the same misa: an M instruction is no
 * ALU op on a hart without M, and must trap when it runs. */
static void fuse(op_t *op, const code_page_t *page, uint32_t index, uint32_t misa)
{
    if (op->kind >= K_BEQ && op->kind <= K_BGEU && op->imm == 8 && index + 1 < OPS_PER_PAGE &&
        alu_op[decode_op(word_at(page, index + 1), misa)])
        op->kind = op->kind - K_BEQ + K_BEQ_SKIP;
}

/* Decode from ops[first] to the end of its block: up to an op that ends one, the
 * end of the page, or an op already decoded (whose count is then carried back). */
void decode_block(const emu_t *m, code_page_t *page, uint32_t first)
{
    op_t *ops = page->ops;
    uint32_t i = first;
    for (;;) {
        decode(&ops[i], word_at(page, i), i, m->misa);
        fuse(&ops[i], page, i, m->misa);
        if (ends_block[ops[i].kind] || i == OPS_PER_PAGE - 1) {
            ops[i].count = 1;
            break;
        }
        if (ops[i + 1].kind != K_UNDECODED) {
            ops[i].count = ops[i + 1].count + 1;
            break;
        }
        i++;
    }
    while (i > first) {
        i--;
        ops[i].count = ops[i + 1].count + 1;
    }
}

/* ---- the cache of code pages ---- */

static code_page_t *code_page_at(const emu_t *m, uint64_t pa)
{
    return m->code[(pa - EMU_RAM_BASE) >> PAGE_SHIFT];
}

int is_code_page(const emu_t *m, uint64_t pa)
{
    return code_page_at(m, pa) != NULL;
}

/* The code page for the RAM page holding pa, made on first use. A page with ops
 * leaves the store TLBs, so that every store to it is seen (code_written). */
code_page_t *code_page(emu_t *m, uint64_t pa)
{
    code_page_t **slot = &m->code[(pa - EMU_RAM_BASE) >> PAGE_SHIFT];
    if (*slot)
        return *slot;
    code_page_t *page = calloc(1, sizeof *page);
    if (!page)
        return NULL;
    page->ops[OPS_PER_PAGE].kind = K_END;
    page->host = ram_at(m, pa & ~(uint64_t)(PAGE_SIZE - 1), PAGE_SIZE);
    page->next = m->code_pages;
    m->code_pages = page;
    *slot = page;
    tlb_forget_store(m, page->host);
    return page;
}

/* Undo ops first..last and the ops before them whose block runs into them, so
 * that no block's count covers an undecoded op. */
static void undecode(code_page_t *page, uint32_t first, uint32_t last)
{
    op_t *ops = page->ops;
    for (uint32_t i = first; i <= last; i++)
        ops[i].kind = K_UNDECODED;
    while (first > 0 && ops[first - 1].kind != K_UNDECODED && ops[first - 1].count > 1)
        ops[--first].kind = K_UNDECODED;
}

/* RAM at [pa, pa + len) was written: undo the ops decoded from it. */
void code_written(emu_t *m, uint64_t pa, uint32_t len)
{
    if (len == 0 || !m->code_pages)
        return;
    uint64_t last = pa + len - 1;
    for (uint64_t page_pa = pa & ~(uint64_t)(PAGE_SIZE - 1); page_pa <= last;
         page_pa += PAGE_SIZE) {
        code_page_t *page = code_page_at(m, page_pa);
        if (!page)
            continue;
        uint64_t from = pa > page_pa ? pa : page_pa;
        uint64_t to = last < page_pa + PAGE_SIZE - 1 ? last : page_pa + PAGE_SIZE - 1;
        undecode(page, (uint32_t)(from - page_pa) / 4, (uint32_t)(to - page_pa) / 4);
    }
}

/* FENCE.I, a new misa, a loaded state: every op is decoded again from RAM when
 * it next runs. */
void code_changed(emu_t *m)
{
    for (code_page_t *page = m->code_pages; page; page = page->next)
        memset(page->ops, 0, OPS_PER_PAGE * sizeof page->ops[0]);
}

void code_free(emu_t *m)
{
    code_page_t *page = m->code_pages;
    while (page) {
        code_page_t *next = page->next;
        free(page);
        page = next;
    }
    m->code_pages = NULL;
    free(m->code);
    m->code = NULL;
}
