/* exec.c: decode and execute one instruction of RV32IMA + Zicsr + Zifencei and the
 * privileged instructions (unprivileged spec 20191213 chapters 2, 7, 8, 9, 3;
 * privileged spec 1.12 section 3.3).
 *
 * Each instruction is one short body in the vocabulary below. A body either
 * completes (registers and pc updated) or returns an exception with nothing
 * written: rd is only written once every check has passed. */
#include "hart.h"

/* Operand fields (unprivileged spec section 2.3, figure 2.4). */
#define RD      ((insn >> 7) & 31)
#define RS1_NUM ((insn >> 15) & 31)
#define RS2_NUM ((insn >> 20) & 31)
#define FUNCT3  ((insn >> 12) & 7)
#define FUNCT7  (insn >> 25)
#define RS1     (m->hart.x[RS1_NUM])
#define RS2     (m->hart.x[RS2_NUM])

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

#define PC          (m->hart.pc)
#define WRITE_RD(v) (m->hart.x[RD] = (v))   /* x0 is zeroed again after each step */
#define NEXT()      (PC += 4)
#define ILLEGAL()   return raise(m, CAUSE_ILLEGAL_INSTRUCTION, insn)
#define REQUIRE(c)  do { if (!(c)) ILLEGAL(); } while (0)

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

/* A jump or taken branch: the target must be 4-byte aligned (no C extension), and
 * the exception leaves rd unwritten (unprivileged spec section 2.5). */
static inline exc_t jump(emu_t *m, uint32_t insn, uint32_t target, int link)
{
    if (unlikely(target & 3))
        return raise(m, CAUSE_MISALIGNED_FETCH, target);
    uint32_t ret = PC + 4;
    if (link)
        WRITE_RD(ret);
    PC = target;
    return EXC_NONE;
}

static exc_t exec_load(emu_t *m, uint32_t insn)
{
    uint32_t va = RS1 + IMM_I, v;
    switch (FUNCT3) {
    case 0: TRY(mem_load(m, va, 1, &v)); WRITE_RD(SEXT(v, 8)); break;   /* lb */
    case 1: TRY(mem_load(m, va, 2, &v)); WRITE_RD(SEXT(v, 16)); break;  /* lh */
    case 2: TRY(mem_load(m, va, 4, &v)); WRITE_RD(v); break;            /* lw */
    case 4: TRY(mem_load(m, va, 1, &v)); WRITE_RD(v); break;            /* lbu */
    case 5: TRY(mem_load(m, va, 2, &v)); WRITE_RD(v); break;            /* lhu */
    default: ILLEGAL();
    }
    NEXT();
    return EXC_NONE;
}

static exc_t exec_store(emu_t *m, uint32_t insn)
{
    uint32_t va = RS1 + IMM_S;
    switch (FUNCT3) {
    case 0: TRY(mem_store(m, va, 1, RS2)); break;   /* sb */
    case 1: TRY(mem_store(m, va, 2, RS2)); break;   /* sh */
    case 2: TRY(mem_store(m, va, 4, RS2)); break;   /* sw */
    default: ILLEGAL();
    }
    NEXT();
    return EXC_NONE;
}

static exc_t exec_op_imm(emu_t *m, uint32_t insn)
{
    uint32_t a = RS1, imm = IMM_I, shamt = RS2_NUM;
    switch (FUNCT3) {
    case 0: WRITE_RD(a + imm); break;                                   /* addi */
    case 2: WRITE_RD((int32_t)a < (int32_t)imm); break;                 /* slti */
    case 3: WRITE_RD(a < imm); break;                                   /* sltiu */
    case 4: WRITE_RD(a ^ imm); break;                                   /* xori */
    case 6: WRITE_RD(a | imm); break;                                   /* ori */
    case 7: WRITE_RD(a & imm); break;                                   /* andi */
    case 1:                                                             /* slli */
        REQUIRE(FUNCT7 == 0);   /* a shift amount with bit 5 set is reserved on RV32 */
        WRITE_RD(a << shamt);
        break;
    case 5:
        if (FUNCT7 == 0x00) WRITE_RD(a >> shamt);                       /* srli */
        else if (FUNCT7 == 0x20) WRITE_RD((uint32_t)((int32_t)a >> shamt));  /* srai */
        else ILLEGAL();
        break;
    }
    NEXT();
    return EXC_NONE;
}

/* M extension (unprivileged spec chapter 7): division by zero and signed overflow
 * have defined results and never trap. */
static uint32_t muldiv(uint32_t funct3, uint32_t a, uint32_t b)
{
    int32_t sa = (int32_t)a, sb = (int32_t)b;
    switch (funct3) {
    case 0: return a * b;                                                   /* mul */
    case 1: return (uint32_t)(((int64_t)sa * sb) >> 32);                    /* mulh */
    case 2: return (uint32_t)(((int64_t)sa * (int64_t)(uint64_t)b) >> 32);  /* mulhsu */
    case 3: return (uint32_t)(((uint64_t)a * b) >> 32);                     /* mulhu */
    case 4:                                                                 /* div */
        if (b == 0) return UINT32_MAX;
        if (sa == INT32_MIN && sb == -1) return a;
        return (uint32_t)(sa / sb);
    case 5: return b == 0 ? UINT32_MAX : a / b;                             /* divu */
    case 6:                                                                 /* rem */
        if (b == 0) return a;
        if (sa == INT32_MIN && sb == -1) return 0;
        return (uint32_t)(sa % sb);
    default: return b == 0 ? a : a % b;                                     /* remu */
    }
}

static exc_t exec_op(emu_t *m, uint32_t insn)
{
    uint32_t a = RS1, b = RS2;
    switch (FUNCT7 << 3 | FUNCT3) {
    case 0x000: WRITE_RD(a + b); break;                                 /* add */
    case 0x100: WRITE_RD(a - b); break;                                 /* sub */
    case 0x001: WRITE_RD(a << (b & 31)); break;                         /* sll */
    case 0x002: WRITE_RD((int32_t)a < (int32_t)b); break;               /* slt */
    case 0x003: WRITE_RD(a < b); break;                                 /* sltu */
    case 0x004: WRITE_RD(a ^ b); break;                                 /* xor */
    case 0x005: WRITE_RD(a >> (b & 31)); break;                         /* srl */
    case 0x105: WRITE_RD((uint32_t)((int32_t)a >> (b & 31))); break;    /* sra */
    case 0x006: WRITE_RD(a | b); break;                                 /* or */
    case 0x007: WRITE_RD(a & b); break;                                 /* and */
    case 0x008: case 0x009: case 0x00A: case 0x00B:
    case 0x00C: case 0x00D: case 0x00E: case 0x00F:
        WRITE_RD(muldiv(FUNCT3, a, b));
        break;
    default: ILLEGAL();
    }
    NEXT();
    return EXC_NONE;
}

static exc_t exec_branch(emu_t *m, uint32_t insn)
{
    uint32_t a = RS1, b = RS2;
    int taken;
    switch (FUNCT3) {
    case 0: taken = a == b; break;                          /* beq */
    case 1: taken = a != b; break;                          /* bne */
    case 4: taken = (int32_t)a < (int32_t)b; break;         /* blt */
    case 5: taken = (int32_t)a >= (int32_t)b; break;        /* bge */
    case 6: taken = a < b; break;                           /* bltu */
    case 7: taken = a >= b; break;                          /* bgeu */
    default: ILLEGAL();
    }
    if (!taken) {
        NEXT();
        return EXC_NONE;
    }
    return jump(m, insn, PC + IMM_B, 0);
}

/* A extension (unprivileged spec chapter 8). One hart: the reservation is a
 * physical address, lost on SC, on any trap and on xRET. aq/rl need nothing. */
enum {
    AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_LR = 0x02, AMO_SC = 0x03, AMO_XOR = 0x04,
    AMO_OR = 0x08, AMO_AND = 0x0C, AMO_MIN = 0x10, AMO_MAX = 0x14,
    AMO_MINU = 0x18, AMO_MAXU = 0x1C,
};

static int amo_combine(uint32_t funct5, uint32_t old, uint32_t b, uint32_t *new)
{
    switch (funct5) {
    case AMO_ADD:  *new = old + b; return 1;
    case AMO_SWAP: *new = b; return 1;
    case AMO_XOR:  *new = old ^ b; return 1;
    case AMO_OR:   *new = old | b; return 1;
    case AMO_AND:  *new = old & b; return 1;
    case AMO_MIN:  *new = (int32_t)old < (int32_t)b ? old : b; return 1;
    case AMO_MAX:  *new = (int32_t)old > (int32_t)b ? old : b; return 1;
    case AMO_MINU: *new = old < b ? old : b; return 1;
    case AMO_MAXU: *new = old > b ? old : b; return 1;
    default: return 0;
    }
}

static exc_t exec_amo(emu_t *m, uint32_t insn)
{
    uint32_t funct5 = insn >> 27, va = RS1, b = RS2, old, new;
    uint32_t *cell;
    uint64_t pa;
    REQUIRE(FUNCT3 == 2);
    if (funct5 == AMO_LR) {
        REQUIRE(RS2_NUM == 0);
        if (va & 3)
            return raise(m, CAUSE_MISALIGNED_LOAD, va);
        TRY(mem_atomic(m, va, ACCESS_LOAD, &cell, &pa));
        m->reserved = 1;
        m->reservation = pa;
        WRITE_RD(*cell);
    } else if (funct5 == AMO_SC) {
        if (va & 3)
            return raise(m, CAUSE_MISALIGNED_STORE, va);
        TRY(mem_atomic(m, va, ACCESS_STORE, &cell, &pa));
        int ok = m->reserved && m->reservation == pa;
        if (ok)
            *cell = b;
        m->reserved = 0;
        WRITE_RD(!ok);
    } else {
        REQUIRE(amo_combine(funct5, 0, 0, &new));
        if (va & 3)
            return raise(m, CAUSE_MISALIGNED_STORE, va);
        TRY(mem_atomic(m, va, ACCESS_STORE, &cell, &pa));
        old = *cell;
        amo_combine(funct5, old, b, &new);
        *cell = new;
        WRITE_RD(old);
    }
    NEXT();
    return EXC_NONE;
}

static exc_t exec_misc_mem(emu_t *m, uint32_t insn)
{
    switch (FUNCT3) {
    case 0: break;                      /* fence: one hart, memory is always ordered */
    case 1: code_changed(m); break;     /* fence.i */
    default: ILLEGAL();
    }
    NEXT();
    return EXC_NONE;
}

/* Zicsr (unprivileged spec chapter 9): CSRRS/CSRRC with rs1 = x0 and the immediate
 * forms with 0 do not write, so they may read a read-only CSR. */
static exc_t exec_csr(emu_t *m, uint32_t insn)
{
    uint32_t op = FUNCT3 & 3, operand = FUNCT3 & 4 ? RS1_NUM : RS1, old;
    int write = op == 1 || RS1_NUM != 0;
    REQUIRE(op != 0);
    REQUIRE(csr_instruction(m, insn >> 20, op, operand, write, &old) == 0);
    WRITE_RD(old);
    NEXT();
    return EXC_NONE;
}

/* Privileged instructions (privileged spec 1.12 sections 3.3.2, 3.1.6.5). */
static exc_t exec_system(emu_t *m, uint32_t insn)
{
    uint32_t priv = m->hart.priv;
    if (FUNCT3 != 0)
        return exec_csr(m, insn);
    switch (insn) {
    case INSN_ECALL:
        return raise(m, CAUSE_USER_ECALL + priv, 0);
    case INSN_EBREAK:
        return raise(m, CAUSE_BREAKPOINT, PC);
    case INSN_MRET:
        REQUIRE(priv == EMU_PRIV_M);
        do_mret(m);
        return EXC_NONE;
    case INSN_SRET:
        REQUIRE(priv == EMU_PRIV_M || (priv == EMU_PRIV_S && !(m->mstatus & MSTATUS_TSR)));
        do_sret(m);
        return EXC_NONE;
    case INSN_WFI:
        /* Always illegal in U-mode, as the spec permits and the hypervisor needs. */
        REQUIRE(priv == EMU_PRIV_M || (priv == EMU_PRIV_S && !(m->mstatus & MSTATUS_TW)));
        return wait_for_interrupt(m);
    }
    if ((insn & SFENCE_VMA_MASK) == SFENCE_VMA_MATCH) {
        REQUIRE(priv == EMU_PRIV_M || (priv == EMU_PRIV_S && !(m->mstatus & MSTATUS_TVM)));
        tlb_flush(m);
        NEXT();
        return EXC_NONE;
    }
    ILLEGAL();
}

exc_t execute(emu_t *m, uint32_t insn)
{
    switch (insn & 0x7F) {
    case OP_LUI:      WRITE_RD(IMM_U); NEXT(); return EXC_NONE;
    case OP_AUIPC:    WRITE_RD(PC + IMM_U); NEXT(); return EXC_NONE;
    case OP_JAL:      return jump(m, insn, PC + IMM_J, 1);
    case OP_JALR:
        REQUIRE(FUNCT3 == 0);
        return jump(m, insn, (RS1 + IMM_I) & ~1u, 1);
    case OP_BRANCH:   return exec_branch(m, insn);
    case OP_LOAD:     return exec_load(m, insn);
    case OP_STORE:    return exec_store(m, insn);
    case OP_IMM:      return exec_op_imm(m, insn);
    case OP_OP:       return exec_op(m, insn);
    case OP_AMO:      return exec_amo(m, insn);
    case OP_MISC_MEM: return exec_misc_mem(m, insn);
    case OP_SYSTEM:   return exec_system(m, insn);
    default:          ILLEGAL();
    }
}
