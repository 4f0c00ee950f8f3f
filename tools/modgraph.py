#!/usr/bin/env python3
"""The module import graph of one crate, from its `use crate::`/`use super::` lines and paths
in code (doc comments ignored), with the cycles in it. Usage: tools/modgraph.py CRATE_DIR"""
import os, re, sys

root = os.path.join(sys.argv[1], "src")
modules = {}
for dirpath, _, files in os.walk(root):
    for f in files:
        if f.endswith(".rs"):
            rel = os.path.relpath(os.path.join(dirpath, f), root)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel == ["lib"] or rel == ["main"]:
                rel = []
            modules["::".join(rel)] = os.path.join(dirpath, f)

def resolve(module, path):
    parts = module.split("::") if module else []
    words = path.split("::")
    if words[0] == "crate":
        parts, words = [], words[1:]
    elif words[0] in ("super", "self"):
        while words and words[0] in ("super", "self"):
            if words[0] == "super":
                parts = parts[:-1]
            words = words[1:]
    else:
        return None
    best = None
    for i in range(len(words) + 1):
        name = "::".join(parts + words[:i])
        if name in modules:
            best = name
    return best

def expand(prefix, group):
    """The paths of a brace group: `a, b::{c, d}` under `prefix`."""
    out, depth, item = [], 0, ""
    for ch in group + ",":
        if ch == "," and depth == 0:
            item = item.strip()
            if item:
                if "::{" in item:
                    head, rest = item.split("::{", 1)
                    out += expand(prefix + "::" + head, rest.rsplit("}", 1)[0])
                else:
                    out.append(prefix + "::" + item.split(" as ")[0].strip())
            item = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        item += ch
    return out


edges = {m: set() for m in modules}
for module, path in modules.items():
    code = "\n".join(l for l in open(path) if not l.lstrip().startswith("//"))
    code = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", code, flags=re.S)
    paths = [m.group(1) for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", code)]
    # `use crate::{a, b::{c, d}};` names several paths at once.
    for m in re.finditer(r"\buse\s+((?:crate|super|self)(?:::\w+)*)::\{", code):
        depth, i, start = 1, m.end(), m.end()
        while depth and i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        paths += expand(m.group(1), code[start : i - 1])
    for path in paths:
        target = resolve(module, path)
        if target is not None and target != module and target != "":
            # a parent declaring its children is not an import
            if not (target.startswith(module + "::") if module else True) or re.search(
                r"use\s+" + re.escape(path.split("::{")[0]), code
            ):
                edges[module].add(target)
# drop edges that are only `mod x;` declarations
for module in edges:
    edges[module].discard(module)

cycles = []
def visit(node, stack, seen):
    for nxt in sorted(edges[node]):
        if nxt in stack:
            cycles.append(stack[stack.index(nxt):] + [nxt])
        elif nxt not in seen:
            seen.add(nxt)
            visit(nxt, stack + [nxt], seen)
for m in sorted(edges):
    visit(m, [m], {m})
for m in sorted(edges):
    if m and edges[m]:
        print(f"{m or '(root)'} -> {', '.join(sorted(edges[m]))}")
unique = {tuple(sorted(set(c))) for c in cycles}
print(f"cycles: {len(unique)}")
for c in sorted(unique):
    print("  " + " <-> ".join(c))
sys.exit(1 if unique else 0)
