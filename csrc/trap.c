/* trap.c: taking exceptions and interrupts, and returning from them (privileged
 * spec 1.12 sections 3.1.6.1, 3.1.8, 3.1.9, 3.3.2, 4.1.1).
 *
 * One entry, take_trap(), does delegation, the xPIE/xPP push and the vector;
 * do_mret() and do_sret() undo it exactly. When the host owns M-mode, a trap that
 * M-mode would take becomes an exit instead, with the hart left untouched. Every
 * trap goes into the trap log, and a caught one (emu_catch_set) ends the run once
 * it is taken, before the handler's first instruction. */
#include "hart.h"

static uint32_t priv_index(uint32_t priv)
{
    return priv == EMU_PRIV_M ? 2 : priv;
}

void set_priv(emu_t *m, uint32_t priv)
{
    m->hart.priv = priv;
    m->tlb_now = m->tlb[priv_index(priv)];
    m->code_tlb_now = m->code_tlb[priv_index(priv)];
}

/* Traps never go to a lower privilege: medeleg and mideleg only apply to traps
 * taken in S or U (section 3.1.8). */
uint32_t trap_target(const emu_t *m, uint32_t cause)
{
    uint32_t code = cause & ~CAUSE_INTERRUPT;
    uint32_t deleg = cause & CAUSE_INTERRUPT ? m->mideleg : m->medeleg;
    if (m->hart.priv <= EMU_PRIV_S && code < 32 && (deleg >> code) & 1)
        return EMU_PRIV_S;
    return EMU_PRIV_M;
}

/* The trap log (emu_trap_log): a ring of the last EMU_TRAP_LOG traps. */
static void log_trap(emu_t *m, uint32_t cause, uint32_t tval, uint32_t insn, uint32_t epc,
                     uint32_t from, uint32_t to, uint32_t handler)
{
    m->trap_log[m->trap_count++ % EMU_TRAP_LOG] = (struct emu_trap_record){
        .steps = m->steps, .cause = cause, .tval = tval, .epc = epc, .handler = handler,
        .insn = insn, .from_priv = from, .to_priv = to,
    };
}

static int is_caught(const emu_t *m, uint32_t cause)
{
    uint32_t code = cause & ~CAUSE_INTERRUPT;
    uint32_t mask = cause & CAUSE_INTERRUPT ? m->catch_irq : m->catch_exc;
    return code < 32 && (mask >> code) & 1;
}

/* Returns 1 when the trap is caught: the run must end, with the exit filled in. */
static int take_trap(emu_t *m, uint32_t cause, uint32_t tval, uint32_t target, uint32_t insn)
{
    uint32_t priv = m->hart.priv, status = m->mstatus, base, epc = m->hart.pc;
    if (target == EMU_PRIV_S) {
        m->sepc = m->hart.pc;
        m->scause = cause;
        m->stval = tval;
        status &= ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
        status |= (m->mstatus & MSTATUS_SIE ? MSTATUS_SPIE : 0) |
                  (priv == EMU_PRIV_S ? MSTATUS_SPP : 0);
        base = m->stvec;
    } else {
        m->mepc = m->hart.pc;
        m->mcause = cause;
        m->mtval = tval;
        status &= ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
        status |= (m->mstatus & MSTATUS_MIE ? MSTATUS_MPIE : 0) | priv << MSTATUS_MPP_SHIFT;
        base = m->mtvec;
    }
    m->reserved = 0;
    mstatus_set(m, status);
    /* Vectored mode (tvec mode 1) sends interrupts to base + 4 * cause. */
    uint32_t offset = (base & 1) && (cause & CAUSE_INTERRUPT) ? 4 * (cause & ~CAUSE_INTERRUPT) : 0;
    m->hart.pc = (base & ~3u) + offset;
    set_priv(m, target);
    log_trap(m, cause, tval, insn, epc, priv, target, m->hart.pc);
    if (likely(!is_caught(m, cause)))
        return 0;
    m->exit.reason = EMU_EXIT_CAUGHT;
    m->exit.cause = cause;
    m->exit.tval = tval;
    m->exit.insn = insn;
    m->exit.epc = epc;
    m->exit.from_priv = priv;
    m->exit.to_priv = target;
    return 1;
}

static void exit_trap(emu_t *m, uint32_t reason, uint32_t cause, uint32_t tval, uint32_t insn)
{
    if (reason == EMU_EXIT_TRAP)
        log_trap(m, cause, tval, insn, m->hart.pc, m->hart.priv, EMU_PRIV_M, 0);
    m->exit.reason = reason;
    m->exit.cause = cause;
    m->exit.tval = tval;
    m->exit.insn = insn;
    m->exit.epc = m->hart.pc;
    m->exit.from_priv = m->hart.priv;
    m->exit.to_priv = EMU_PRIV_M;
    m->reserved = 0;
}

/* A trap loop: the same exception (cause, pc, tval) again and again with no
 * progress in between: nothing retired, as when mtvec points at a faulting
 * address; or only its handler ran, and returned to the faulting instruction,
 * which raised it again before anything else retired (a handler that does not
 * remove the cause). */
static int trap_loop(emu_t *m, uint32_t cause)
{
    uint64_t done = retired(m);
    uint32_t pc = m->hart.pc;
    int again = cause == m->loop_cause && pc == m->loop_pc && m->trap_tval == m->loop_tval;
    int stuck = done == m->loop_retired || (pc == m->return_pc && done == m->return_retired);
    if (again && stuck) {
        m->loop_repeats++;
    } else {
        m->loop_cause = cause;
        m->loop_pc = pc;
        m->loop_tval = m->trap_tval;
        m->loop_repeats = 1;
    }
    m->loop_retired = done;
    return m->loop_repeats >= TRAP_LOOP_LIMIT;
}

/* An xRET to pc: nothing has retired since once it retires itself. */
static void returned(emu_t *m)
{
    m->return_pc = m->hart.pc;
    m->return_retired = retired(m) + 1;
}

/* An instruction raised cause: it counts as executed, not retired. */
exc_t exception(emu_t *m, exc_t cause, uint32_t insn)
{
    uint32_t target = trap_target(m, (uint32_t)cause);
    m->steps++;
    m->exceptions++;
    if (target == EMU_PRIV_M && m->host_mmode) {
        exit_trap(m, EMU_EXIT_TRAP, (uint32_t)cause, m->trap_tval, insn);
        return EXC_EXIT_AFTER;
    }
    if (trap_loop(m, (uint32_t)cause)) {
        exit_trap(m, EMU_EXIT_TRAP_LOOP, (uint32_t)cause, m->trap_tval, insn);
        return EXC_EXIT_AFTER;
    }
    if (take_trap(m, (uint32_t)cause, m->trap_tval, target, insn))
        return EXC_EXIT_AFTER;      /* caught: the run ends at the handler */
    return EXC_NONE;
}

/* Interrupts in decreasing priority (section 3.1.9). */
static const uint8_t irq_priority[] = {
    IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER,
};

/* The interrupt the hart takes before its next instruction, or 0. An interrupt
 * for M is enabled below M always, and in M when mstatus.MIE; one delegated to S
 * is enabled below S always, in S when mstatus.SIE, and never in M. */
uint32_t interrupt_due(const emu_t *m)
{
    uint32_t pending = mip_read(m) & m->mie;
    if (likely(!pending))
        return 0;
    uint32_t priv = m->hart.priv, status = m->mstatus;
    int m_enabled = priv < EMU_PRIV_M || (status & MSTATUS_MIE);
    int s_enabled = priv < EMU_PRIV_S || (priv == EMU_PRIV_S && (status & MSTATUS_SIE));
    uint32_t ready = m_enabled ? pending & ~m->mideleg : 0;
    if (!ready)
        ready = s_enabled ? pending & m->mideleg : 0;
    for (size_t i = 0; ready && i < sizeof irq_priority; i++)
        if (ready & (1u << irq_priority[i]))
            return CAUSE_INTERRUPT | irq_priority[i];
    return 0;
}

/* Take the interrupt that is due, if any. Returns 1 when it became an exit to
 * the host, or was caught. */
int check_interrupts(emu_t *m)
{
    uint32_t cause = interrupt_due(m);
    if (likely(!cause))
        return 0;
    uint32_t target = trap_target(m, cause);
    if (target == EMU_PRIV_M && m->host_mmode) {
        exit_trap(m, EMU_EXIT_TRAP, cause, 0, 0);
        return 1;
    }
    return take_trap(m, cause, 0, target, 0);
}

/* MRET: back to the privilege in MPP, MIE from MPIE; MPRV is cleared when leaving
 * for a lower privilege (section 3.1.6.1). */
void do_mret(emu_t *m)
{
    uint32_t status = m->mstatus;
    uint32_t mpp = (status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
    status &= ~(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP);
    status |= (m->mstatus & MSTATUS_MPIE ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
    if (mpp != EMU_PRIV_M)
        status &= ~MSTATUS_MPRV;
    m->reserved = 0;
    m->hart.pc = m->mepc;
    mstatus_set(m, status);
    set_priv(m, mpp);
    returned(m);
}

void do_sret(emu_t *m)
{
    uint32_t status = m->mstatus;
    uint32_t spp = status & MSTATUS_SPP ? EMU_PRIV_S : EMU_PRIV_U;
    status &= ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV);
    status |= (m->mstatus & MSTATUS_SPIE ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
    m->reserved = 0;
    m->hart.pc = m->sepc;
    mstatus_set(m, status);
    set_priv(m, spp);
    returned(m);
}

/* WFI completes once an enabled interrupt is pending, whatever the global enables
 * (section 3.3.3). Time is virtual: when only the machine timer can wake the hart,
 * mtime jumps to mtimecmp. With nothing that could ever wake it, the host decides. */
exc_t wait_for_interrupt(emu_t *m)
{
    if (!(mip_read(m) & m->mie)) {
        if (!(m->mie & MIP_MTIP) || m->mtimecmp == UINT64_MAX) {
            m->exit.reason = EMU_EXIT_WFI;
            return EXC_EXIT_BEFORE;
        }
        m->mtime_offset += m->mtimecmp - mtime_now(m);
    }
    m->hart.pc += 4;
    request_check(m);
    return EXC_NONE;
}
