/* dispatch.h: how the interpreter goes from one op to the next, written once.
 *
 * As Lua's ljumptab.h and CPython's ceval_macros.h do: with GCC or Clang the
 * bodies are labels and each one jumps straight to the next op's label through
 * a table (computed goto, "threaded code"), which gives the host's branch
 * predictor one indirect jump per body to learn; otherwise, or when the core is
 * built with EMU_DISPATCH=switch (csrc/build.py), every body goes back to one
 * switch. The bodies in exec.c are the same either way. */
#ifndef EMU_DISPATCH_H
#define EMU_DISPATCH_H

#ifdef __GNUC__
#define UNREACHABLE() __builtin_unreachable()
#else
#define UNREACHABLE() abort()
#endif

#if defined(EMU_DISPATCH_SWITCH) || !defined(__GNUC__)

#define DISPATCH_NAME "switch"
#define DISPATCH_TABLE
#define DISPATCH()      goto dispatch
#define BODIES_BEGIN    dispatch: switch (op->kind) {
#define BODIES_END      default: UNREACHABLE(); }
#define OP(name)        case K_##name:

#else

#define DISPATCH_NAME "threaded"
#define OP_LABEL(name, ends) &&L_##name,
#define DISPATCH_TABLE  static const void *const labels[OP_KINDS] = { FOR_EACH_OP(OP_LABEL) };
#define DISPATCH()      goto *labels[op->kind]
#define BODIES_BEGIN
#define BODIES_END
#define OP(name)        L_##name:

#endif

#endif
