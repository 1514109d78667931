#!/usr/bin/env python3
"""Exported-symbols check (CONVENTIONS.md rule 10).

Every VTEV_EXPORT prototype in the public headers is exported by the shared
library, nothing else is, and lib/vtevents.map lists exactly the same names.
Usage: check_exports.py LIBRARY MAPFILE HEADER...
"""
import re
import subprocess
import sys


def header_symbols(paths):
    names = set()
    for path in paths:
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # macros, incl. VTEV_EXPORT's own
        for decl in re.findall(r"VTEV_EXPORT\b([^;{]*?)\(", text, flags=re.S):
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", decl)
            if m:
                names.add(m.group(1))
    # prototypes with a function-pointer return type are not used in our API
    return names


def map_symbols(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    names, nodes = set(), set()
    for node, body in re.findall(r"([A-Za-z0-9_.]+)\s*\{(.*?)\}", text, flags=re.S):
        nodes.add(node)
        glob = body.split("local:")[0]
        glob = glob.replace("global:", "")
        for tok in re.findall(r"([A-Za-z_][A-Za-z0-9_*]*)\s*;", glob):
            names.add(tok)
    return names, nodes


def lib_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        typ, name = parts[1], parts[2]
        name = name.split("@")[0]
        names.add((typ, name))
    return names


def main():
    lib, mapfile, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures = []
    hdr = header_symbols(headers)
    mp, nodes = map_symbols(mapfile)
    libsyms = lib_symbols(lib)
    exported = {n for t, n in libsyms if t != "A"}
    version_nodes = {n for t, n in libsyms if t == "A"}

    if not hdr:
        failures.append("no VTEV_EXPORT prototypes found in the headers")
    for n in sorted(hdr - exported):
        failures.append(f"{n}: declared VTEV_EXPORT in a header but not exported by {lib}")
    for n in sorted(exported - hdr):
        failures.append(f"{n}: exported by the library but not declared VTEV_EXPORT in a header")
    for n in sorted(hdr - mp):
        failures.append(f"{n}: declared VTEV_EXPORT but missing from {mapfile}")
    for n in sorted(mp - hdr):
        failures.append(f"{n}: listed in {mapfile} but not declared VTEV_EXPORT in a header")
    for n in sorted(x for x in mp if "*" in x):
        failures.append(f"{n}: wildcards are not allowed in the global part of {mapfile}")
    for n in sorted(exported):
        if not n.startswith("vtev_"):
            failures.append(f"{n}: exported symbol without the vtev_ prefix")
    if version_nodes != nodes:
        failures.append(f"version nodes in the library {sorted(version_nodes)} != map {sorted(nodes)}")

    for f in failures:
        print("FAIL:", f)
    print(f"{len(hdr)} header symbols, {len(exported)} exported, {len(mp)} in the map, "
          f"nodes {sorted(nodes)}")
    if failures:
        print(f"0 passed, {len(failures)} failed")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
