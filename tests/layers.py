#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The layering check of `make check`: no call cycle between the files of
src/, and no call from a file to a layer above its own.

The call graph comes from the compiled objects: file A depends on file B
when A's object refers to a symbol (a function or a table) that B's object
defines (nm).  That sees calls and function pointers alike, and nothing
that the preprocessor or the optimiser removed.  The strongly connected
components of that graph are the cycles; each one is printed with the
symbols that close it.

Usage: layers.py OBJDIR    (OBJDIR holds src/*.o, e.g. build/src)
Exit status: 0 clean, 1 a cycle or an upward call, 2 usage.
"""
import os
import subprocess
import sys

# The layers, bottom up (README.md "Source tree", doc in gtd.c's header).
# A file may call its own layer and the layers below; anything that goes
# up goes through a callback table set up by gtd.c.  Files not listed are
# an error, so a new file must be placed.
LAYERS = [
    ("base", ["log", "xmalloc", "compat", "clock", "utf8", "procstat",
              "strmap", "fscred"]),
    ("pure", ["spec", "policy", "plan", "config", "config-spec",
              "config-check", "acl", "proto", "sd", "fence", "deps", "group",
              "envfile", "healthspec", "cglimits"]),
    ("mechanism", ["spawn", "registry", "attrtab", "childlog",
                   "shmirror", "conn", "server", "etcd", "cluster",
                   "cgroup"]),
    ("core", ["child", "childtab", "childcg"]),
    ("wire", ["cmd", "cmd-*", "dispatch", "event", "hook", "notify",
              "reload", "snapshot", "gtd-sd", "shutdown", "childdeps",
              "health", "reexec", "childgroup", "gtcluster"]),
    ("main", ["loop"]),
    ("root", ["gtd"]),
]
# Files outside the daemon's layers: the client side.
CLIENT = ["client", "gtctl", "gtctl-*"]

# The core never reaches these, even indirectly through a name: it
# reports through the child_observer table.
CORE = ["child", "childtab", "childcg", "childlog", "spawn", "plan",
        "policy", "spec", "registry", "attrtab", "cgroup", "cglimits"]
CORE_NEVER = ["conn", "server", "cmd", "cmd-*", "dispatch", "event", "proto",
              "loop", "gtd", "hook", "notify", "reload", "snapshot",
              "gtd-sd", "shutdown"]


def match(name, pats):
    for p in pats:
        if p.endswith("*") and name.startswith(p[:-1]):
            return True
        if name == p:
            return True
    return False


def layer_of(name):
    for i, (_, pats) in enumerate(LAYERS):
        if match(name, pats):
            return i
    return None


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            syms.append((parts[-2], parts[-1]))
    return syms


def graph(objdir):
    defs = {}
    refs = {}
    for f in sorted(os.listdir(objdir)):
        if not f.endswith(".o"):
            continue
        name = f[:-2]
        path = os.path.join(objdir, f)
        for kind, sym in nm(path, "--defined-only"):
            if kind in "TDRBtdrb" and kind.isupper():
                defs[sym] = name
        refs[name] = [sym for kind, sym in nm(path, "-u") if kind == "U"]
    edges = {n: {} for n in refs}
    for n, syms in refs.items():
        for s in syms:
            d = defs.get(s)
            if d is not None and d != n:
                edges[n].setdefault(d, []).append(s)
    return edges


def sccs(edges):
    """Tarjan's algorithm, iterative; components of size > 1."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: layers.py OBJDIR", file=sys.stderr)
        return 2
    edges = graph(sys.argv[1])
    bad = 0
    for comp in sccs(edges):
        bad += 1
        print("layers: call cycle between %s:" % ", ".join(comp))
        for a in comp:
            for b in sorted(edges[a]):
                if b in comp:
                    print("  %s.c -> %s.c (%s)" % (a, b,
                          ", ".join(sorted(set(edges[a][b]))[:4])))
    for a in sorted(edges):
        if match(a, CLIENT):
            continue
        la = layer_of(a)
        if la is None:
            bad += 1
            print("layers: src/%s.c is in no layer (tests/layers.py)" % a)
            continue
        for b in sorted(edges[a]):
            if match(b, CLIENT):
                continue
            lb = layer_of(b)
            why = None
            if match(a, CORE) and match(b, CORE_NEVER):
                why = "the core never calls %s.c" % b
            elif lb is not None and lb > la:
                why = "%s (%s) calls up into %s (%s)" % (
                    a, LAYERS[la][0], b, LAYERS[lb][0])
            if why is not None:
                bad += 1
                print("layers: %s: %s" % (why, ", ".join(
                    sorted(set(edges[a][b]))[:4])))
    if bad:
        print("layers: %d problem(s); see tests/layers.py" % bad)
        return 1
    print("layers: %d files, no cycle, no upward call" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
