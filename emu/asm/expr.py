"""Expressions, as GNU as reads and computes them (GNU as manual, "Expressions").

Numbers (decimal, 0x hex, 0b binary, 0 octal), character literals ('a', '\\n'),
symbols, numeric local label references (1b, 1f), unary - ~ !, and the binary
operators with GNU's precedence, which is not C's (as/expr.c, op_rank):

    * / % << >>        highest
    | & ^
    + -
    == != <> < > <= >=  (true is -1, as in GNU as)
    &&
    ||                  lowest

Arithmetic is done in 64 bits as riscv64-unknown-elf-as does (>> is a logical
shift of the 64-bit value), and a value is either absolute or an offset in a
section (a label); label differences in one section are absolute."""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from emu.asm.source import StatementError

MASK64 = (1 << 64) - 1

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<local>\d+[bf])(?![\w.$])
  | (?P<number>0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)(?![\w.$])
  | (?P<char>'(?:\\(?:[0-7]{1,3}|x[0-9a-fA-F]+|.)|[^\\])'?)
  | (?P<symbol>[A-Za-z_.$][\w.$]*)
  | (?P<op><<|>>|==|!=|<>|<=|>=|&&|\|\||[-+*/%&|^~!<>()])
""", re.VERBOSE)

_ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "v": 11, "a": 7, "\\": 92,
            "'": 39, '"': 34, "e": 27}

# Binary operators by GNU as's rank (higher binds tighter).
_RANK = {"*": 9, "/": 9, "%": 9, "<<": 9, ">>": 9,
         "|": 8, "&": 8, "^": 8,
         "+": 7, "-": 7,
         "==": 4, "!=": 4, "<>": 4, "<": 4, ">": 4, "<=": 4, ">=": 4,
         "&&": 3, "||": 2}


class Value(NamedTuple):
    """An absolute number (section None) or an offset into a section."""
    offset: int
    section: str | None = None


class Undefined(Exception):
    def __init__(self, name: str, column: int):
        super().__init__(name)
        self.name = name
        self.column = column


def char_value(text: str) -> int:
    """The value of a character literal's body (between the quotes)."""
    if text.startswith("\\"):
        rest = text[1:]
        if rest[0] in "01234567":
            return int(rest, 8)
        if rest[0] == "x":
            return int(rest[1:], 16)
        return _ESCAPES.get(rest, ord(rest))
    return ord(text)


def _wrap(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


class Parser:
    """Parses one expression from text, whose first character is at `column`."""

    def __init__(self, text: str, column: int, local_ref: Callable[[str, str, int], str]):
        self.column = column
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            m = _TOKEN.match(text, position)
            if not m:
                raise StatementError(column + position,
                                     f"unexpected '{text[position]}' in expression")
            if m.lastgroup != "space":
                self.tokens.append((m.lastgroup, m.group(), column + position))
            position = m.end()
        self.end_column = column + len(text)
        self.local_ref = local_ref
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise StatementError(self.end_column, "expected an expression")
        self.index += 1
        return token

    def parse(self):
        node = self.binary(0)
        token = self.peek()
        if token is not None:
            raise StatementError(token[2], f"unexpected '{token[1]}' in expression")
        return node

    def binary(self, min_rank: int):
        left = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] != "op" or _RANK.get(token[1], 0) <= min_rank:
                return left
            self.index += 1
            right = self.binary(_RANK[token[1]])
            left = ("bin", token[1], left, right, token[2])

    def unary(self):
        kind, text, column = self.next()
        if kind == "op" and text in "-~!+":
            operand = self.unary()
            return operand if text == "+" else ("unary", text, operand, column)
        if kind == "op" and text == "(":
            node = self.binary(0)
            closing = self.next()
            if closing[1] != ")":
                raise StatementError(closing[2], "expected ')'")
            return node
        if kind == "number":
            if len(text) > 1 and text[0] == "0" and text[1] in "0123456789":
                try:
                    return ("num", int(text, 8))
                except ValueError:
                    raise StatementError(column, f"bad octal number {text}") from None
            return ("num", _wrap(int(text, 0)))
        if kind == "char":
            body = text[1:-1] if text.endswith("'") and len(text) > 2 else text[1:]
            return ("num", char_value(body))
        if kind == "symbol":
            return ("sym", text, column)
        if kind == "local":
            return ("sym", self.local_ref(text[:-1], text[-1], column), column)
        raise StatementError(column, f"expected a number or symbol, found '{text}'")


def parse(text: str, column: int, local_ref: Callable[[str, str, int], str]):
    """The expression tree of `text`; StatementError if it is not an expression."""
    if not text.strip():
        raise StatementError(column, "expected an expression")
    return Parser(text, column, local_ref).parse()


def symbols_in(node) -> list[tuple[str, int]]:
    if node[0] == "sym":
        return [(node[1], node[2])]
    if node[0] == "unary":
        return symbols_in(node[2])
    if node[0] == "bin":
        return symbols_in(node[2]) + symbols_in(node[3])
    return []


def evaluate(node, lookup: Callable[[str, int], Value]) -> Value:
    """The value of an expression tree; lookup(name, column) gives a symbol's value
    or raises Undefined. StatementError for operations GNU as cannot do either
    (such as adding two labels)."""
    kind = node[0]
    if kind == "num":
        return Value(node[1])
    if kind == "sym":
        return lookup(node[1], node[2])
    if kind == "unary":
        _, op, operand, column = node
        value = evaluate(operand, lookup)
        if value.section is not None:
            raise StatementError(column, f"cannot apply '{op}' to an address")
        v = value.offset
        return Value(_wrap(-v if op == "-" else ~v if op == "~" else int(not v)))
    _, op, left_node, right_node, column = node
    left = evaluate(left_node, lookup)
    right = evaluate(right_node, lookup)
    if op == "+":
        if left.section and right.section:
            raise StatementError(column, "cannot add two addresses")
        return Value(_wrap(left.offset + right.offset), left.section or right.section)
    if op == "-":
        if right.section is None:
            return Value(_wrap(left.offset - right.offset), left.section)
        if left.section == right.section:
            return Value(_wrap(left.offset - right.offset))
        raise StatementError(column, "cannot subtract addresses in different sections")
    if op in ("==", "!=", "<>", "<", ">", "<=", ">=") and left.section == right.section:
        a, b = left.offset, right.offset
        truth = {"==": a == b, "!=": a != b, "<>": a != b, "<": a < b, ">": a > b,
                 "<=": a <= b, ">=": a >= b}[op]
        return Value(-1 if truth else 0)
    if left.section is not None or right.section is not None:
        raise StatementError(column, f"operator '{op}' needs constant operands, not addresses")
    a, b = left.offset, right.offset
    if op in ("/", "%"):
        if b == 0:
            raise StatementError(column, "division by zero")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C truncation
        return Value(_wrap(quotient if op == "/" else a - quotient * b))
    if op == "*":
        return Value(_wrap(a * b))
    if op == "<<":
        return Value(_wrap(a << b) if 0 <= b < 64 else 0)
    if op == ">>":
        return Value(_wrap((a & MASK64) >> b) if 0 <= b < 64 else 0)
    if op == "&":
        return Value(a & b)
    if op == "|":
        return Value(a | b)
    if op == "^":
        return Value(a ^ b)
    if op == "&&":
        return Value(int(bool(a) and bool(b)))
    if op == "||":
        return Value(int(bool(a) or bool(b)))
    raise StatementError(column, f"unknown operator '{op}'")
