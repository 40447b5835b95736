#!/usr/bin/env python3
"""How often `labrun analyze --fields` agrees with tshark, cell by cell, on a folder of
captures someone else made (a measurement, not a test: real-world files hold what labrun
does not read yet). For each file: every field `labrun analyze --list-fields` names, on
every frame; a file labrun refuses counts as all its tshark cells differing.

    tests/corpus/agreement.py target/debug/labrun DIR [--top 15]

Prints the files with the most differing cells, the fields that differ most, and the
share of equal cells overall and without the Info and Protocol columns."""

import collections
import csv
import io
import pathlib
import re
import subprocess
import sys


def rows(cmd):
    out = subprocess.run(cmd, capture_output=True, timeout=600)
    if out.returncode != 0:
        return None, out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
    text = out.stdout.decode("utf-8", "replace")
    return list(csv.reader(io.StringIO(text))), None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    labrun, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 15
    fields = subprocess.run([labrun, "analyze", "--list-fields"], capture_output=True,
                            text=True, check=True).stdout.split()
    fields = [f for f in fields if "." in f]
    cols = {"_ws.col.info", "_ws.col.protocol"}
    # tshark before 4.2 names the columns _ws.col.Info and _ws.col.Protocol.
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    number = re.search(r"(\d+)\.(\d+)\.\d+", version)
    major_minor = (int(number.group(1)), int(number.group(2))) if number else (4, 2)
    old = {"_ws.col.info": "_ws.col.Info", "_ws.col.protocol": "_ws.col.Protocol"}
    tshark_names = [old.get(f, f) if major_minor < (4, 2) else f for f in fields]
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in (".pcap", ".pcapng", ".cap"))
    total = equal = total_nc = equal_nc = 0
    per_file, per_field = [], collections.Counter()
    refused = []
    for f in files:
        theirs, err = rows(["tshark", "-r", str(f), "-T", "fields", "-E", "header=y",
                            "-E", "separator=,", "-E", "quote=d"]
                           + [a for n in tshark_names for a in ("-e", n)])
        if theirs is None:
            continue  # tshark itself cannot read it: no reference
        ours, err = rows([labrun, "analyze", str(f), "--fields", ",".join(fields)])
        theirs = theirs[1:]
        n = len(theirs) * len(fields)
        n_nc = len(theirs) * (len(fields) - len(cols & set(fields)))
        total += n
        total_nc += n_nc
        if ours is None:
            refused.append((f, err))
            per_file.append((n, f))
            continue
        ours = ours[1:]
        bad = 0
        for i, t in enumerate(theirs):
            o = ours[i] if i < len(ours) else [None] * len(fields)
            for name, a, b in zip(fields, o, t):
                if a == b:
                    equal += 1
                    if name not in cols:
                        equal_nc += 1
                else:
                    bad += 1
                    per_field[name] += 1
        per_file.append((bad, f))
    print(f"{len(files)} files, {total} cells ({len(fields)} fields)")
    for bad, f in sorted(per_file, reverse=True)[:top]:
        if bad:
            print(f"  {bad:>8} differing cells  {f.relative_to(folder)}")
    print("fields that differ most:")
    for name, n in per_field.most_common(top):
        print(f"  {n:>8}  {name}")
    for f, err in refused:
        print(f"refused: {f.relative_to(folder)}: {err}")
    if total:
        print(f"equal cells: {100 * equal / total:.3f}% of all; "
              f"{100 * equal_nc / max(total_nc, 1):.3f}% without Info and Protocol")


if __name__ == "__main__":
    main()
