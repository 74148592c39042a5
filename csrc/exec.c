/* exec.c: the interpreter: RV32IMA + Zicsr + Zifencei and the privileged
 * instructions (unprivileged spec 20191213 chapters 2, 7, 8, 9, 3; privileged
 * spec 1.12 section 3.3), run from pre-decoded ops (ops.h, decode.c).
 *
 * Each instruction is one short body in the vocabulary below. A body either
 * completes (registers and pc updated) or raises an exception with nothing
 * written: rd is only written once every check has passed.
 *
 * The bodies run block by block. On entering a block the instructions it holds
 * are counted in at once, if they all fit before the next thing the run loop
 * must look at (stop_at: the budget, a timer deadline, HTIF, an interrupt made
 * pending); if not, the block runs one instruction at a time, so counts stay
 * exact. Within a block pc is not kept: it is known from the op's place in its
 * page. Anything that leaves the fast path (a TLB miss, a device, a trap, a CSR)
 * first writes the exact pc and instruction count back to the machine. */
#include <stdlib.h>

#include "hart.h"
#include "dispatch.h"

/* Operands, from the op. */
#define RS1         (x[op->rs1])
#define RS2         (x[op->rs2])
#define IMM         (op->imm)
#define SEXT(value, bits) ((uint32_t)((int32_t)((uint32_t)(value) << (32 - (bits))) >> (32 - (bits))))
#define WRITE_RD(v) (x[op->rd] = (v))     /* x0 is decoded as X0_SINK */

/* pc of the op running: its page's virtual base and its place in the page. */
#define PC          (va + (uint32_t)(op - ops) * 4)

/* On to the next op of the block. */
#define NEXT()      do { op++; DISPATCH(); } while (0)

/* Write pc and the count back before anything outside the fast path looks at
 * them: the instructions before this one have executed, this one has not (steps
 * counts to the end of the block, and op->count is this op and those after it). */
#define SYNC()      (m->hart.pc = PC, m->steps = steps - op->count)

/* After SYNC, the instruction completed: count it and go on at pc. */
#define COMPLETE(next_pc) do { m->steps++; m->hart.pc = (next_pc); goto reenter; } while (0)

#define RAISE(cause, tval) do { m->trap_tval = (tval); e = (cause); goto trap; } while (0)
#define ILLEGAL()   RAISE(CAUSE_ILLEGAL_INSTRUCTION, op->insn)
#define REQUIRE(c)  do { if (!(c)) ILLEGAL(); } while (0)
#define PRIV        (m->hart.priv)

/* A jump or taken branch: the target must be 4-byte aligned (no C extension), and
 * the exception leaves rd unwritten (unprivileged spec section 2.5). */
#define CHECK_TARGET(t) do { if (unlikely((t) & 3)) RAISE(CAUSE_MISALIGNED_FETCH, (t)); } while (0)

/* Enter the block that begins at op, in the page running: count it in when it
 * fits, else let the code after `enter` see to it. Expanded at each jump, so
 * that each has its own indirect jump for the host to predict. An UNDECODED op
 * needs no test here: it counts in what its stale count says (0 if it never
 * ran) and its body gives it back on the way to `enter`, which decodes. */
#define ENTER() do { \
        if (likely(steps + op->count <= limit)) { \
            steps += op->count; \
            DISPATCH(); \
        } \
        goto enter; \
    } while (0)

/* To pc t: within the page running, straight to its op; else by the fetch path. */
#define GOTO(t)     do { \
        uint32_t g_ = (t); \
        if ((g_ >> PAGE_SHIFT) == vpn) { op = ops + ((g_ >> 2) & (OPS_PER_PAGE - 1)); ENTER(); } \
        m->hart.pc = g_; \
        m->steps = steps; \
        goto reenter; \
    } while (0)

/* JAL and taken branches: to the target's op when the decoder found it in this
 * page, else through GOTO. A branch not taken goes on with the next op. */
#define JUMP_PC_IMM() do { \
        if (likely(op->jump != NO_JUMP)) { op = ops + op->jump; ENTER(); } \
        uint32_t t_ = PC + IMM; \
        CHECK_TARGET(t_); \
        GOTO(t_); \
    } while (0)
#define BRANCH(cond) do { if (cond) JUMP_PC_IMM(); op++; ENTER(); } while (0)

/* The conditional branches, each with its condition, for its plain op and its
 * _SKIP op (SKIP below). */
#define FOR_EACH_BRANCH(X) \
    X(BEQ,  RS1 == RS2) \
    X(BNE,  RS1 != RS2) \
    X(BLT,  (int32_t)RS1 < (int32_t)RS2) \
    X(BGE,  (int32_t)RS1 >= (int32_t)RS2) \
    X(BLTU, RS1 < RS2) \
    X(BGEU, RS1 >= RS2)
#define BRANCH_OPS(name, cond) \
    OP(name)         { BRANCH(cond); } \
    OP(name##_SKIP)  { SKIP(cond); }

/* The ALU: the instructions whose result is an expression of rs1 (a), rs2 (b) and
 * the immediate alone, and that cannot trap. Each is written once, here: it is
 * the body of its op, and alu() computes it for a _SKIP op. Division by zero and
 * signed overflow have defined results (unprivileged spec section 7.2). */
#define FOR_EACH_ALU(X) \
    X(LUI,    imm) \
    X(ADDI,   a + imm) \
    X(SLTI,   (int32_t)a < (int32_t)imm) \
    X(SLTIU,  a < imm) \
    X(XORI,   a ^ imm) \
    X(ORI,    a | imm) \
    X(ANDI,   a & imm) \
    X(SLLI,   a << imm) \
    X(SRLI,   a >> imm) \
    X(SRAI,   (uint32_t)((int32_t)a >> imm)) \
    X(ADD,    a + b) \
    X(SUB,    a - b) \
    X(SLL,    a << (b & 31)) \
    X(SLT,    (int32_t)a < (int32_t)b) \
    X(SLTU,   a < b) \
    X(XOR,    a ^ b) \
    X(SRL,    a >> (b & 31)) \
    X(SRA,    (uint32_t)((int32_t)a >> (b & 31))) \
    X(OR,     a | b) \
    X(AND,    a & b) \
    X(MUL,    a * b) \
    X(MULH,   (uint32_t)(((int64_t)(int32_t)a * (int32_t)b) >> 32)) \
    X(MULHSU, (uint32_t)(((int64_t)(int32_t)a * (int64_t)(uint64_t)b) >> 32)) \
    X(MULHU,  (uint32_t)(((uint64_t)a * b) >> 32)) \
    X(DIV,    b == 0 ? UINT32_MAX : a == 0x80000000u && b == UINT32_MAX ? a \
                                  : (uint32_t)((int32_t)a / (int32_t)b)) \
    X(DIVU,   b == 0 ? UINT32_MAX : a / b) \
    X(REM,    b == 0 ? a : a == 0x80000000u && b == UINT32_MAX ? 0 \
                         : (uint32_t)((int32_t)a % (int32_t)b)) \
    X(REMU,   b == 0 ? a : a % b)

#define ALU_FLAG(name, result) [K_##name] = 1,
const uint8_t alu_op[OP_KINDS] = { FOR_EACH_ALU(ALU_FLAG) };
#undef ALU_FLAG

/* Inlined: as a call, it made crc32 a fifth slower. */
static inline __attribute__((always_inline))
uint32_t alu(uint8_t kind, uint32_t a, uint32_t b, uint32_t imm)
{
    switch (kind) {
#define ALU_CASE(name, result) case K_##name: return result;
    FOR_EACH_ALU(ALU_CASE)
#undef ALU_CASE
    default: UNREACHABLE();
    }
}

#define ALU_OP(name, result) OP(name) { \
        uint32_t a = RS1, b = RS2, imm = IMM; \
        (void)a, (void)b, (void)imm; \
        WRITE_RD(result); \
        NEXT(); \
    }

/* A branch over one ALU op (decode.c fuses the two, as some cores fuse a short
 * forward branch): the ALU op runs either way and its result is kept only when
 * the branch is not taken, so the host has no jump that depends on the guest's
 * data to mispredict (masks, not a conditional, which the compiler would make a
 * branch). Its block counted both instructions: a taken branch gives one back. */
#define SKIP(cond) do { \
        const op_t *s_ = op + 1; \
        uint32_t taken_ = (cond), keep_ = 0u - taken_; \
        uint32_t r_ = alu(s_->kind, x[s_->rs1], x[s_->rs2], s_->imm); \
        x[s_->rd] = (x[s_->rd] & keep_) | (r_ & ~keep_); \
        steps -= taken_; \
        op += 2; \
        DISPATCH(); \
    } while (0)

/* Loads and stores: a TLB hit on RAM is done here; anything else by mem_slow,
 * after SYNC. A slow store ends the block: it may have made an interrupt
 * pending (CLINT), told HTIF something, changed the code ahead or hit a
 * watchpoint. A slow load changes nothing the block depends on, unless it hit a
 * watchpoint (pages holding one never enter the TLB, so only a slow access can):
 * then the instruction completes and the run loop ends the run. LOAD reads size
 * bytes into v and writes result, an expression of v, to rd. */
#define LOAD(size, v, result) do { \
        uint32_t a_ = RS1 + IMM, v = 0; \
        const tlb_entry_t *t_ = &tlb[ACCESS_LOAD][(a_ >> PAGE_SHIFT) & (TLB_SIZE - 1)]; \
        if (likely(tlb_hit(t_, a_, size))) { \
            memcpy(&v, t_->host + (a_ & (PAGE_SIZE - 1)), size); \
            WRITE_RD(result); \
        } else { \
            SYNC(); \
            if ((e = mem_slow(m, a_, size, ACCESS_LOAD, &v)) != EXC_NONE) goto trap; \
            WRITE_RD(result); \
            if (unlikely(m->watch_hit | m->lines_changed)) COMPLETE(PC + 4); \
        } \
    } while (0)
#define STORE(size, value) do { \
        uint32_t a_ = RS1 + IMM, v_ = (value); \
        const tlb_entry_t *t_ = &tlb[ACCESS_STORE][(a_ >> PAGE_SHIFT) & (TLB_SIZE - 1)]; \
        if (likely(tlb_hit(t_, a_, size))) { \
            memcpy(t_->host + (a_ & (PAGE_SIZE - 1)), &v_, size); \
        } else { \
            SYNC(); \
            if ((e = mem_slow(m, a_, size, ACCESS_STORE, &v_)) != EXC_NONE) goto trap; \
            COMPLETE(PC + 4); \
        } \
    } while (0)

/* A extension (unprivileged spec chapter 8). One hart: the reservation is a
 * physical address, lost on SC, on any trap and on xRET. aq/rl need nothing.
 * An AMO reads the word at rs1, writes new (an expression of old and b) and
 * puts old in rd. */
#define AMO(new) do { \
        uint32_t a_ = RS1, b = RS2, old, *cell; \
        uint64_t pa; \
        if (a_ & 3) RAISE(CAUSE_MISALIGNED_STORE, a_); \
        SYNC(); \
        if ((e = mem_atomic(m, a_, ACCESS_STORE, &cell, &pa)) != EXC_NONE) goto trap; \
        old = *cell; \
        *cell = (new); \
        WRITE_RD(old); \
        COMPLETE(PC + 4); \
    } while (0)

/* Zicsr (unprivileged spec chapter 9): CSRRS/CSRRC with rs1 = x0 and the immediate
 * forms with 0 do not write, so they may read a read-only CSR. */
#define CSR(op_, operand, write) do { \
        uint32_t old_, operand_ = (operand); \
        SYNC(); \
        if (csr_instruction(m, IMM, op_, operand_, write, &old_) != 0) ILLEGAL(); \
        WRITE_RD(old_); \
        COMPLETE(PC + 4); \
    } while (0)
enum { CSR_OP_WRITE = 1, CSR_OP_SET = 2, CSR_OP_CLEAR = 3 };

/* An instruction did not simply complete. EXC_EXIT_AFTER comes from a store
 * that completed before returning, so its pc moves on here. 1: the run ends. */
static __attribute__((noinline)) int step_ended(emu_t *m, exc_t e, uint32_t insn)
{
    m->exit.insn = insn;
    switch (e) {
    case EXC_EXIT_BEFORE:
        return 1;
    case EXC_EXIT_AFTER:
        m->steps++;
        m->hart.pc += 4;
        return 1;
    default:
        return exception(m, e, insn) != EXC_NONE;
    }
}

/* Is there a breakpoint among the count instructions from pc on? */
static int breakpoint_within(const emu_t *m, uint32_t pc, uint32_t count)
{
    uint32_t i = break_find(m, pc);
    return i < m->break_count && m->breaks[i] - pc < 4 * count;
}

static int is_breakpoint(const emu_t *m, uint32_t pc)
{
    return breakpoint_within(m, pc, 1);
}

const char *dispatch_name(void) { return DISPATCH_NAME; }

/* Run until steps reaches stop_at (0) or the run must end (1: the exit record
 * says why). */
int interpret(emu_t *m)
{
    DISPATCH_TABLE
    /* The registers, with X0_SINK: copied in here and out on every return;
     * nothing the interpreter calls reads them. */
    uint32_t x[X0_SINK + 1];
    tlb_entry_t (*tlb)[TLB_SIZE];
    op_t *ops;              /* the ops of the page running, or of the single step */
    const op_t *op;         /* the op running */
    uint32_t va;            /* pc of ops[0] */
    uint32_t vpn;           /* the page a jump may stay in; NO_PAGE in a single step */
    uint64_t steps;         /* m->steps, with the running block counted in */
    uint64_t stop;          /* m->stop_at */
    uint64_t limit;         /* stop, or 0 to have every block entry look for breakpoints */
    op_t single[2];
    exc_t e, fetch_fault;
    uint32_t insn;
    int ended;
    enum { NO_PAGE = UINT32_MAX };

    memcpy(x, m->hart.x, sizeof m->hart.x);
    x[0] = 0;
reenter:
    /* From the machine's pc: the full fetch path. */
    steps = m->steps;
    stop = m->stop_at;
    limit = m->break_count ? 0 : stop;
    tlb = m->tlb_now;
    if (steps >= stop) {
        ended = 0;
        goto out;
    }
    fetch_fault = EXC_NONE;
    ops = code_fetch(m, m->hart.pc, &fetch_fault);
    if (unlikely(!ops)) {
        e = fetch_fault;
        insn = 0;
        goto fault;
    }
    va = m->hart.pc & ~(PAGE_SIZE - 1);
    vpn = va >> PAGE_SHIFT;
    op = ops + ((m->hart.pc >> 2) & (OPS_PER_PAGE - 1));
    if (unlikely(fetch_fault == EXC_FETCH_EACH))
        goto fetch_one;
enter:
    /* op is the first of a block in a code page: count the block in if it fits. */
    if (unlikely(op->kind == K_UNDECODED))
        decode_block(m, (code_page_t *)(void *)ops, (uint32_t)(op - ops));
    if (unlikely(steps + op->count > limit))
        goto enter_carefully;
    steps += op->count;
    DISPATCH();

enter_carefully:
    /* Near stop_at, or with breakpoints set. */
    if (m->break_count && breakpoint_within(m, PC, op->count)) {
        if (is_breakpoint(m, PC) && (steps != m->resume_steps || PC != m->resume_pc))
            goto at_breakpoint;
        goto single_step;
    }
    if (steps + op->count <= stop) {
        steps += op->count;
        DISPATCH();
    }
    goto single_step;

fetch_one:
    /* PMP grants fetches from part of this page only (code_fill): one
     * instruction, then the fetch path again for the next. */
    if (unlikely(op->kind == K_UNDECODED))
        decode_block(m, (code_page_t *)(void *)ops, (uint32_t)(op - ops));
    if (m->break_count && is_breakpoint(m, PC) &&
        (steps != m->resume_steps || PC != m->resume_pc))
        goto at_breakpoint;
single_step:
    /* One instruction: a copy of its op followed by an END. */
    if (steps >= stop) {
        m->hart.pc = PC;
        m->steps = steps;
        ended = 0;
        goto out;
    }
    va = PC;
    vpn = NO_PAGE;
    single[0] = *op;
    single[0].kind = unfused(op->kind);
    single[0].count = 1;
    single[0].jump = NO_JUMP;
    single[1] = (op_t){ .kind = K_END };
    ops = single;
    op = single;
    steps += 1;
    DISPATCH();

at_breakpoint:
    m->hart.pc = PC;
    m->steps = steps;
    m->exit.reason = EMU_EXIT_BREAKPOINT;
    ended = 1;
    goto out;

trap:
    SYNC();
    insn = op->insn;
fault:
    if (!step_ended(m, e, insn))
        goto reenter;
    ended = 1;
out:
    memcpy(m->hart.x, x, sizeof m->hart.x);
    return ended;

    BODIES_BEGIN

    /* Not instructions: the end of the ops of a page or of a single step, and
     * an op undone by a store to it while its block ran (decode.c). */
    OP(END)         { m->hart.pc = PC; m->steps = steps; goto reenter; }
    OP(UNDECODED)   { SYNC(); goto reenter; }
    OP(ILLEGAL)     { ILLEGAL(); }

    /* RV32I (unprivileged spec chapter 2) and M (chapter 7): the ALU's ops are
     * FOR_EACH_ALU's, the rest are here. */
    FOR_EACH_ALU(ALU_OP)
    OP(AUIPC)       { WRITE_RD(PC + IMM); NEXT(); }
    OP(JAL)         { uint32_t t = PC + IMM; CHECK_TARGET(t); WRITE_RD(PC + 4); JUMP_PC_IMM(); }
    OP(JALR)        { uint32_t t = (RS1 + IMM) & ~1u; CHECK_TARGET(t); WRITE_RD(PC + 4); GOTO(t); }
    FOR_EACH_BRANCH(BRANCH_OPS)
    OP(LB)          { LOAD(1, v, SEXT(v, 8)); NEXT(); }
    OP(LH)          { LOAD(2, v, SEXT(v, 16)); NEXT(); }
    OP(LW)          { LOAD(4, v, v); NEXT(); }
    OP(LBU)         { LOAD(1, v, v); NEXT(); }
    OP(LHU)         { LOAD(2, v, v); NEXT(); }
    OP(SB)          { STORE(1, RS2); NEXT(); }
    OP(SH)          { STORE(2, RS2); NEXT(); }
    OP(SW)          { STORE(4, RS2); NEXT(); }
    OP(FENCE)       { NEXT(); }     /* one hart: memory is always ordered */

    /* A extension. */
    OP(LR_W)        {
        uint32_t a = RS1, *cell;
        uint64_t pa;
        if (a & 3) RAISE(CAUSE_MISALIGNED_LOAD, a);
        SYNC();
        if ((e = mem_atomic(m, a, ACCESS_LOAD, &cell, &pa)) != EXC_NONE) goto trap;
        m->reserved = 1;
        m->reservation = pa;
        WRITE_RD(*cell);
        COMPLETE(PC + 4);
    }
    OP(SC_W)        {
        uint32_t a = RS1, *cell;
        uint64_t pa;
        if (a & 3) RAISE(CAUSE_MISALIGNED_STORE, a);
        SYNC();
        if ((e = mem_atomic(m, a, ACCESS_STORE, &cell, &pa)) != EXC_NONE) goto trap;
        int ok = m->reserved && m->reservation == pa;
        if (ok)
            *cell = RS2;
        m->reserved = 0;
        WRITE_RD(!ok);
        COMPLETE(PC + 4);
    }
    OP(AMOSWAP_W)   { AMO(b); }
    OP(AMOADD_W)    { AMO(old + b); }
    OP(AMOXOR_W)    { AMO(old ^ b); }
    OP(AMOAND_W)    { AMO(old & b); }
    OP(AMOOR_W)     { AMO(old | b); }
    OP(AMOMIN_W)    { AMO((int32_t)old < (int32_t)b ? old : b); }
    OP(AMOMAX_W)    { AMO((int32_t)old > (int32_t)b ? old : b); }
    OP(AMOMINU_W)   { AMO(old < b ? old : b); }
    OP(AMOMAXU_W)   { AMO(old > b ? old : b); }

    /* Zicsr and Zifencei. */
    OP(CSRRW)       { CSR(CSR_OP_WRITE, RS1, 1); }
    OP(CSRRS)       { CSR(CSR_OP_SET, RS1, op->rs1 != 0); }
    OP(CSRRC)       { CSR(CSR_OP_CLEAR, RS1, op->rs1 != 0); }
    OP(CSRRWI)      { CSR(CSR_OP_WRITE, op->rs1, 1); }
    OP(CSRRSI)      { CSR(CSR_OP_SET, op->rs1, op->rs1 != 0); }
    OP(CSRRCI)      { CSR(CSR_OP_CLEAR, op->rs1, op->rs1 != 0); }
    OP(FENCE_I)     { SYNC(); code_changed(m); COMPLETE(PC + 4); }

    /* Privileged instructions (privileged spec 1.12 sections 3.3.2, 3.1.6.5). */
    OP(ECALL)       { RAISE(CAUSE_USER_ECALL + (exc_t)PRIV, 0); }
    OP(EBREAK)      { RAISE(CAUSE_BREAKPOINT, PC); }
    OP(MRET)        {
        REQUIRE(PRIV == EMU_PRIV_M);
        SYNC();
        do_mret(m);
        m->steps++;
        goto reenter;
    }
    OP(SRET)        {
        REQUIRE(PRIV == EMU_PRIV_M || (PRIV == EMU_PRIV_S && !(m->mstatus & MSTATUS_TSR)));
        SYNC();
        do_sret(m);
        m->steps++;
        goto reenter;
    }
    OP(WFI)         {
        /* Always illegal in U-mode, as the spec permits and the hypervisor needs. */
        REQUIRE(PRIV == EMU_PRIV_M || (PRIV == EMU_PRIV_S && !(m->mstatus & MSTATUS_TW)));
        SYNC();
        if ((e = wait_for_interrupt(m)) != EXC_NONE) goto trap;
        m->steps++;
        goto reenter;
    }
    OP(SFENCE_VMA)  {
        REQUIRE(PRIV == EMU_PRIV_M || (PRIV == EMU_PRIV_S && !(m->mstatus & MSTATUS_TVM)));
        SYNC();
        tlb_flush(m);
        COMPLETE(PC + 4);
    }

    BODIES_END
}
