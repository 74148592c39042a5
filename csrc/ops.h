/* ops.h: the pre-decoded form of instructions, as the interpreter runs them.
 *
 * Each 32-bit instruction word of a code page is decoded once into an op: a
 * kind (one per instruction of the subset), its register numbers and its
 * immediate already assembled. The ops of one page of RAM form a code page,
 * keyed by physical address (decode.c), so a page mapped at two virtual
 * addresses is decoded once and a store to it is seen whatever address it
 * took. A block is a run of ops that ends with an op that may change pc or the
 * hart's state (ENDS_BLOCK below) or at the end of the page; each op knows
 * how many instructions remain to the end of its block, so the interpreter
 * counts instructions and looks at interrupts once per block (exec.c). */
#ifndef EMU_OPS_H
#define EMU_OPS_H

#include <stdint.h>

/* Every kind of op, with whether it ends a block. UNDECODED is 0, so a zeroed
 * page is an undecoded one; END is no instruction: it follows the last op of a
 * page (and of a single step) and continues at pc through the fetch path. A
 * branch whose target is the instruction after next, when that one is an ALU
 * op (exec.c), is decoded as its _SKIP form: the two run as one predicated op,
 * within the block. */
#define FOR_EACH_OP(X) \
    X(UNDECODED, 1) X(END, 1) X(ILLEGAL, 1) \
    X(LUI, 0) X(AUIPC, 0) X(JAL, 1) X(JALR, 1) \
    X(BEQ, 1) X(BNE, 1) X(BLT, 1) X(BGE, 1) X(BLTU, 1) X(BGEU, 1) \
    X(BEQ_SKIP, 0) X(BNE_SKIP, 0) X(BLT_SKIP, 0) X(BGE_SKIP, 0) X(BLTU_SKIP, 0) X(BGEU_SKIP, 0) \
    X(LB, 0) X(LH, 0) X(LW, 0) X(LBU, 0) X(LHU, 0) X(SB, 0) X(SH, 0) X(SW, 0) \
    X(ADDI, 0) X(SLTI, 0) X(SLTIU, 0) X(XORI, 0) X(ORI, 0) X(ANDI, 0) \
    X(SLLI, 0) X(SRLI, 0) X(SRAI, 0) \
    X(ADD, 0) X(SUB, 0) X(SLL, 0) X(SLT, 0) X(SLTU, 0) X(XOR, 0) X(SRL, 0) X(SRA, 0) \
    X(OR, 0) X(AND, 0) \
    X(MUL, 0) X(MULH, 0) X(MULHSU, 0) X(MULHU, 0) X(DIV, 0) X(DIVU, 0) X(REM, 0) X(REMU, 0) \
    X(FENCE, 0) X(FENCE_I, 1) \
    X(ECALL, 1) X(EBREAK, 1) X(MRET, 1) X(SRET, 1) X(WFI, 1) X(SFENCE_VMA, 1) \
    X(CSRRW, 1) X(CSRRS, 1) X(CSRRC, 1) X(CSRRWI, 1) X(CSRRSI, 1) X(CSRRCI, 1) \
    X(LR_W, 1) X(SC_W, 1) X(AMOSWAP_W, 1) X(AMOADD_W, 1) X(AMOXOR_W, 1) X(AMOAND_W, 1) \
    X(AMOOR_W, 1) X(AMOMIN_W, 1) X(AMOMAX_W, 1) X(AMOMINU_W, 1) X(AMOMAXU_W, 1)

#define OP_ENUM(name, ends) K_##name,
enum { FOR_EACH_OP(OP_ENUM) OP_KINDS };
#undef OP_ENUM

/* The plain branch of a _SKIP op, for running its instruction alone. */
static inline uint8_t unfused(uint8_t kind)
{
    return kind >= K_BEQ_SKIP && kind <= K_BGEU_SKIP ? kind - K_BEQ_SKIP + K_BEQ : kind;
}

typedef struct {
    uint8_t kind;
    uint8_t rd, rs1, rs2;   /* rd 0 is X0_SINK: writes to x0 go nowhere */
    uint32_t imm;       /* the immediate, sign-extended; a shift amount; a CSR number */
    uint32_t insn;      /* the instruction word: for xtval and the exit record */
    uint16_t count;     /* instructions from this one to the end of its block */
    uint16_t jump;      /* JAL, branches: the target's op in this page, or NO_JUMP */
} op_t;

#define OPS_PER_PAGE 1024       /* PAGE_SIZE / 4 */
#define NO_JUMP 0xFFFF
/* The interpreter's register file has one more register than the hart's: rd =
 * x0 is decoded as this one, so that x0 stays zero without a check. */
#define X0_SINK 32

typedef struct code_page {
    op_t ops[OPS_PER_PAGE + 1]; /* the one past the end is an END */
    uint8_t *host;              /* the page of RAM the ops were decoded from */
    struct code_page *next;     /* every code page of the machine, for FENCE.I */
} code_page_t;

#endif
