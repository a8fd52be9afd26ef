"""A compact seccomp program that decides exactly as libseccomp's export does.

libseccomp (2.5, its default optimize level 1) emits one compare per syscall: Docker's
default profile becomes ~1000 instructions that cost ~0.7 ms to load and a linear walk of
~350 compares on every syscall. `compact` rewrites such a program:

- it explores the program's prefix symbolically — the part that reads only
  `seccomp_data.arch` and `.nr` — splitting sets of (arch, nr) values at every compare, until
  each set reaches a RET or the first instruction that reads anything else (an argument);
- it emits a new prefix: a JEQ per architecture, then per architecture the syscall numbers
  merged into ranges with the same outcome and found by a binary search (a lone number
  between two equal neighbours is a JEQ), ending in shared RETs;
- where an outcome depends on arguments, it copies the original instructions reachable
  from that point verbatim (relocated, shared between the syscalls that use them).

Every input takes, in the new program, a prefix that leads to the same RET or to a copy of
the same instructions the original would run from that point, on the same data: the
decision is the same for every possible input by construction, including where libseccomp's
program departs from its own rule semantics (2.5.4 loses the syscall-number load of an
architecture section when a pseudo-syscall ranks first, and mis-tracks the accumulator when
several argument rules of one syscall fall through to each other). A program this does not
understand (an ALU op or JSET on arch/nr, RET A, backward or out-of-range jumps) raises
`Unreproducible`, and the caller keeps libseccomp's program.

Why not generate from the profile: the exact decisions include those departures, which
follow libseccomp's internal block layout; reading its program is the only sound model.
"""

import struct

_U32 = 0xFFFFFFFF
_FULL = ((0, _U32),)

# classic BPF opcodes
_LD_ABS = 0x20
_JA = 0x05
_JEQ, _JGT, _JGE = 0x15, 0x25, 0x35
_RET = 0x06
_CLASS_JMP = 0x05

_NR_OFF, _ARCH_OFF = 0, 4


class Unreproducible(Exception):
    """This program's structure is not one `compact` can rewrite safely."""


class _Asm:
    """Instructions with symbolic forward jumps; `assemble` lays them out, adding an island
    (a copy of the RET, or a JA) where a conditional jump would be longer than 255."""

    def __init__(self):
        self.code: list = []  # [op, k, jt, jf] or ("label", id)
        self._labels = 0

    def label(self) -> int:
        self._labels += 1
        return self._labels

    def place(self, label: int) -> None:
        self.code.append(("label", label))

    def ld(self, off: int) -> None:
        self.code.append([_LD_ABS, off, None, None])

    def ja(self, label: int) -> None:
        self.code.append([_JA, label, None, None])

    def ret(self, k: int) -> None:
        self.code.append([_RET, k, None, None])

    def jump(self, op: int, k: int, jt: int, jf: int) -> None:
        self.code.append([op, k, jt, jf])

    def _layout(self) -> tuple[dict[int, int], list[int]]:
        """Label -> instruction index, and each code item's instruction index."""
        labels, where, n = {}, [], 0
        for item in self.code:
            where.append(n)
            if isinstance(item, tuple):
                labels[item[1]] = n
            else:
                n += 1
        return labels, where

    def _far(self, labels, where):
        for i, item in enumerate(self.code):
            if isinstance(item, list) and item[0] != _JA and item[2] is not None:
                for slot in (2, 3):
                    if labels[item[slot]] - where[i] - 1 > 255:
                        return i, slot
        return None

    def _island(self, i: int, slot: int, labels, where) -> None:
        """A copy of a far target's RET (or a JA to it) as late as the jump at `i` reaches,
        after an instruction that never falls through; other far jumps share it."""
        code, target = self.code, self.code[i][slot]
        q = i + 1
        for j in range(i + 1, len(code)):
            if where[j] - where[i] - 1 > 255:
                break
            prev = code[j - 1]
            if isinstance(prev, list) and prev[0] & 0x07 in (_CLASS_JMP, _RET):
                q = j  # after a jump or a RET: nothing falls into the island
        at = next(j for j in range(len(code)) if code[j] == ("label", target))
        dest = next(item for item in code[at:] if isinstance(item, list))
        copy = [_RET, dest[1], None, None] if dest[0] == _RET else [_JA, target, None, None]
        hop = self.label()
        code[q:q] = [("label", hop), copy]
        for j in range(q):
            item = code[j]
            if isinstance(item, list) and item[0] != _JA and item[2] is not None:
                for s in (2, 3):
                    if item[s] == target and labels[target] - where[j] - 1 > 255:
                        item[s] = hop

    def assemble(self) -> bytes:
        while True:
            labels, where = self._layout()
            far = self._far(labels, where)
            if far is None:
                break
            self._island(*far, labels, where)
        out = []
        for i, item in enumerate(self.code):
            if isinstance(item, tuple):
                continue
            op, k, jt, jf = item
            n = where[i]
            if op == _JA:
                out.append(struct.pack("=HBBI", op, 0, 0, labels[k] - n - 1))
            elif jt is not None:
                t, f = labels[jt] - n - 1, labels[jf] - n - 1
                if t < 0 or f < 0:
                    raise AssertionError("backward jump")
                out.append(struct.pack("=HBBI", op, t, f, k))
            else:
                out.append(struct.pack("=HBBI", op, 0, 0, k))
        return b"".join(out)


# ---- value dispatch: ranges with the same target, found by binary search ---------------


def _leaves(segs, top: int) -> list[tuple[int, object, list]]:
    """The ranges a search tells apart: a lone value between two equal neighbours becomes
    an exception (one JEQ) inside the merged range instead of two more ranges (two compares);
    a range keeps at most 8 exceptions, so the JEQ chains stay short."""
    ends = [s for s, _ in segs[1:]] + [top + 1]
    merged: list[list] = []
    i = 0
    while i < len(segs):
        s, t = segs[i]
        lone = ends[i] == s + 1 and i + 1 < len(segs) and merged
        if lone and merged[-1][1] == segs[i + 1][1]:
            merged[-1][2].append((s, t))
            i += 2
            continue
        merged.append([s, t, []])
        i += 1
    out = []
    for s, t, exc in merged:
        for c in range(0, max(len(exc), 1), 8):
            out.append((s if c == 0 else exc[c][0], t, exc[c : c + 8]))
    return out


def _dispatch(asm: _Asm, segs, top: int) -> None:
    """Code jumping to the target of the accumulator's value: `segs` are (start, target)
    covering [0, top] in order."""
    _tree(asm, _leaves(segs, top))


def _tree(asm: _Asm, leaves) -> None:
    if len(leaves) == 1:
        _, t, exc = leaves[0]
        if not exc:
            asm.ja(t)
        for i, (v, tv) in enumerate(exc):
            nxt = t if i == len(exc) - 1 else asm.label()
            asm.jump(_JEQ, v, tv, nxt)
            if nxt != t:
                asm.place(nxt)
        return
    m = len(leaves) // 2
    left, right = leaves[:m], leaves[m:]
    lt = left[0][1] if len(left) == 1 and not left[0][2] else asm.label()
    rt = right[0][1] if len(right) == 1 and not right[0][2] else asm.label()
    asm.jump(_JGE, right[0][0], rt, lt)
    for part, lab in ((left, lt), (right, rt)):
        if len(part) > 1 or part[0][2]:
            asm.place(lab)
            _tree(asm, part)


# ---- reading the original program ---------------------------------------------------------


def _decode(prog: bytes) -> list[tuple[int, int, int, int]]:
    if not prog or len(prog) % 8 or len(prog) // 8 > 4096:
        raise Unreproducible("not a whole classic BPF program")
    insns = [struct.unpack_from("=HBBI", prog, i) for i in range(0, len(prog), 8)]
    for pc, (code, jt, jf, k) in enumerate(insns):
        if code == _JA:
            far = k
        elif code & 0x07 == _CLASS_JMP:
            far = max(jt, jf)
        else:
            continue
        if pc + 1 + far >= len(insns):
            raise Unreproducible(f"jump out of the program at {pc}")
    if insns[-1][0] & 0x07 != _RET:
        raise Unreproducible("the last instruction is not a RET")
    return insns


def _split(spans, op: int, k: int):
    """(values of `spans` for which `value op k` holds, those for which it does not)."""
    lo_cut = {_JEQ: k, _JGT: k + 1, _JGE: k}[op]
    hi_cut = k if op == _JEQ else _U32
    yes, no = [], []
    for lo, hi in spans:
        a, b = max(lo, lo_cut), min(hi, hi_cut)
        if a <= b:
            yes.append((a, b))
            if lo < a:
                no.append((lo, a - 1))
            if b < hi:
                no.append((b + 1, hi))
        else:
            no.append((lo, hi))
    return tuple(yes), tuple(no)


def _prefix(insns):
    """[(arch spans, nr spans, ("ret", k) | ("sub", pc)), ...]: every path through the part
    of the program that reads only arch and nr, with the (arch, nr) values that take it."""
    leaves = []
    stack = [(0, _FULL, _FULL, None)]
    budget = 1 << 18  # paths can multiply where branches rejoin: a bound on the work
    while stack:
        pc, arch, nr, acc = stack.pop()
        while True:
            budget -= 1
            if budget < 0:
                raise Unreproducible("too many paths through the syscall dispatch")
            code, jt, jf, k = insns[pc]
            if code == _LD_ABS and k in (_ARCH_OFF, _NR_OFF):
                acc = "arch" if k == _ARCH_OFF else "nr"
                pc += 1
            elif code == _LD_ABS:  # an argument (or ip): the rest runs as it is
                leaves.append((arch, nr, ("sub", pc)))
                break
            elif code == _RET:
                leaves.append((arch, nr, ("ret", k)))
                break
            elif code == _JA:
                pc += 1 + k
            elif code in (_JEQ, _JGT, _JGE) and acc is not None:
                yes, no = _split(arch if acc == "arch" else nr, code, k)
                t, f = pc + 1 + jt, pc + 1 + jf
                if acc == "arch":
                    if yes:
                        stack.append((t, yes, nr, acc))
                    if not no:
                        break
                    pc, arch = f, no
                else:
                    if yes:
                        stack.append((t, arch, yes, acc))
                    if not no:
                        break
                    pc, nr = f, no
            else:
                raise Unreproducible(f"opcode {code:#x} at {pc} before any argument")
    return leaves


def _follow(insns, pc: int) -> tuple:
    """Where a jump to `pc` really goes: ("ret", k) or ("pc", pc), through any JAs."""
    while insns[pc][0] == _JA:
        pc += 1 + insns[pc][3]
    if insns[pc][0] == _RET:
        return ("ret", insns[pc][3])
    return ("pc", pc)


def _reachable(insns, entries) -> list[int]:
    """The instructions the copies need: jumps to a RET become jumps to the shared RETs,
    so only what falls through (or is jumped to and is not a RET) is copied."""
    seen, todo = set(), list(entries)
    while todo:
        pc = todo.pop()
        if pc in seen:
            continue
        seen.add(pc)
        code, jt, jf, k = insns[pc]
        if code == _JA:
            succ = [_follow(insns, pc + 1 + k)]
        elif code & 0x07 == _CLASS_JMP:
            succ = [_follow(insns, pc + 1 + jt), _follow(insns, pc + 1 + jf)]
        elif code & 0x07 == _RET:
            succ = []
        else:
            todo.append(pc + 1)  # falls through: the next one must follow it
            succ = []
        todo += [v for kind, v in succ if kind == "pc"]
    return sorted(seen)


# ---- the new program -----------------------------------------------------------------------


def _sections(leaves) -> dict[tuple, list]:
    """{arch spans: [(lo, hi, outcome), ...] tiling all syscall numbers}; the arch sets are
    disjoint, and all but one are a single value (a JEQ), the one left the rest."""
    from itertools import pairwise

    groups: dict[tuple, list] = {}
    for arch, nr, out in leaves:
        groups.setdefault(arch, []).extend((lo, hi, out) for lo, hi in nr)
    spans = sorted(s for arch in groups for s in arch)
    if any(a[1] >= b[0] for a, b in pairwise(spans)):
        raise Unreproducible("architecture sets that overlap")
    if sum(1 for a in groups if not _single(a)) != 1:
        raise Unreproducible("not one set of other architectures")
    for items in groups.values():
        items.sort(key=lambda x: x[0])
        nxt = 0
        for lo, hi, _ in items:
            if lo != nxt:
                raise Unreproducible("syscall numbers not covered exactly once")
            nxt = hi + 1
        if nxt != _U32 + 1:
            raise Unreproducible("syscall numbers not covered exactly once")
    return groups


def _single(spans) -> bool:
    return len(spans) == 1 and spans[0][0] == spans[0][1]


def compact(prog: bytes) -> bytes:
    """The compact equivalent of the (libseccomp) seccomp program `prog`; raises
    `Unreproducible` when its structure is not understood."""
    insns = _decode(prog)
    groups = _sections(_prefix(insns))
    asm = _Asm()
    rets: dict[int, int] = {}
    subs: dict[int, int] = {}

    def target(out) -> int:
        kind, v = out
        table = rets if kind == "ret" else subs
        return table.setdefault(v, asm.label())

    entries = []
    for arch, items in groups.items():
        segs: list[tuple[int, int]] = []
        for lo, _, out in items:
            t = target(out)
            if not segs or segs[-1][1] != t:
                segs.append((lo, t))
        entries.append((arch, segs))
    entries.sort(key=lambda e: not _single(e[0]))  # the rest last
    # an architecture whose every number has one outcome jumps straight to it
    labels = [segs[0][1] if len(segs) == 1 else asm.label() for _, segs in entries]
    if len(entries) > 1:
        asm.ld(_ARCH_OFF)
    elif len(entries[0][1]) == 1:
        asm.ja(labels[0])  # one outcome for everything
    for i, (arch, _) in enumerate(entries[:-1]):
        nxt = labels[-1] if i == len(entries) - 2 else asm.label()
        asm.jump(_JEQ, arch[0][0], labels[i], nxt)
        if nxt != labels[-1]:
            asm.place(nxt)
    for label, (_, segs) in zip(labels, entries, strict=True):
        if len(segs) > 1:
            asm.place(label)
            asm.ld(_NR_OFF)
            _dispatch(asm, segs, _U32)
    # the argument checks, copied in their original order
    copied = _reachable(insns, subs)
    names = {pc: subs.get(pc) or asm.label() for pc in copied}

    def to(pc: int) -> int:
        kind, v = _follow(insns, pc)
        return target(("ret", v)) if kind == "ret" else names[v]

    for pc in copied:
        code, jt, jf, k = insns[pc]
        asm.place(names[pc])
        if code == _JA:
            kind, v = _follow(insns, pc + 1 + k)
            if kind == "ret":
                asm.ret(v)  # as short as the JA, one hop less
            else:
                asm.ja(names[v])
        elif code & 0x07 == _CLASS_JMP:
            asm.jump(code, k, to(pc + 1 + jt), to(pc + 1 + jf))
        else:
            asm.code.append([code, k, None, None])
    for k, label in rets.items():
        asm.place(label)
        asm.ret(k)
    return asm.assemble()
