#!/usr/bin/env python3
"""Checks src/'s shape: imports point only downward through the layers
(abi -> swift -> node -> gate -> store -> core), and no file module imports
another in a circle. Test code (`#[cfg(test)]` items and `tests*.rs` files)
is not counted. Prints each violation; exits 1 when there is one.

    scripts/check-layers.py [--graph]   # --graph: print every edge too
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
LAYERS = ["abi", "swift", "node", "gate", "store", "core"]
RANK = {name: i for i, name in enumerate(LAYERS)}
PATH = re.compile(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*)\{([^}]*)\}", re.S)


def module_of(path: Path) -> tuple:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def non_test_text(text: str) -> str:
    """Drops `#[cfg(test)]` items (a `mod` block or a `mod x;` line) and comments."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        j = m.end()
        semi, brace = text.find(";", j), text.find("{", j)
        if brace == -1 or (semi != -1 and semi < brace):
            i = semi + 1
            continue
        depth, k = 0, brace
        while k < len(text):
            if text[k] == "{":
                depth += 1
            elif text[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1
    out.append(text[i:])
    return "".join(out)


def main() -> int:
    files = {}
    for p in sorted(SRC.rglob("*.rs")):
        rel = p.relative_to(SRC)
        if rel.parts[0] == "bin" or p.stem.startswith("tests") or p.stem.endswith("_tests"):
            continue
        files[module_of(p)] = non_test_text(p.read_text())
    modules = set(files)

    def resolve(segs: list) -> tuple:
        """The longest file module that a crate:: path names."""
        for n in range(len(segs), 0, -1):
            if tuple(segs[:n]) in modules:
                return tuple(segs[:n])
        return ()

    edges = {}
    for mod, text in files.items():
        targets = set()
        for m in GROUP.finditer(text):
            base = [s for s in m.group(1).split("::") if s]
            for item in m.group(2).split(","):
                item = item.strip().split(" as ")[0].strip()
                if not item:
                    continue
                segs = base + ([] if item == "self" else item.split("::"))
                targets.add(resolve(segs))
        for m in PATH.finditer(text):
            targets.add(resolve(m.group(1).split("::")))
        edges[mod] = {t for t in targets if t and t != mod and t[: len(mod)] != mod}

    bad = 0
    for mod, targets in sorted(edges.items()):
        for t in sorted(targets):
            if "--graph" in sys.argv:
                print(f"{'::'.join(mod)} -> {'::'.join(t)}")
            if not mod or not t:
                continue
            if mod[0] in RANK and t[0] in RANK and RANK[t[0]] < RANK[mod[0]]:
                print(f"upward import: {'::'.join(mod)} -> {'::'.join(t)}")
                bad += 1

    # Circles between file modules (a module importing its own parent's
    # items is fine: that is how a folder's mod.rs shares its types).
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    for comp in sccs:
        print("import circle: " + ", ".join(sorted("::".join(c) for c in comp)))
        bad += 1
    if bad:
        print(f"check-layers: {bad} violation(s)")
        return 1
    print(f"check-layers: {len(files)} modules, imports point downward, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
