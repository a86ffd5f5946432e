#!/usr/bin/env python3
"""Vendors the cases of a golden file whose features are built.

    python3 tests/golden/extract.py SRC DST FIELD VALUE[,VALUE...]

Copies SRC to DST keeping only the cases whose FIELD (e.g. `optimizer`) is
one of the VALUEs. The reference files hold one case per line between a
header line and a closing `]}` line; kept lines are copied byte for byte,
only the comma that separates cases is moved. Prints the sha256 of both
files and the names of the withheld cases.
"""
import hashlib
import json
import sys


def main():
    src, dst, field, values = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    keep = set(values.split(","))
    lines = open(src, encoding="utf-8").read().split("\n")
    if lines[-1] == "":
        lines.pop()
    header, body, footer = lines[0], lines[1:-1], lines[-1]
    assert header.endswith('"cases":[') and footer == "]}", "unexpected layout"
    kept, withheld = [], []
    for line in body:
        case_text = line[:-1] if line.endswith(",") else line
        case = json.loads(case_text)
        (kept if case[field] in keep else withheld).append((case["name"], case_text))
    out = "\n".join([header, ",\n".join(t for _, t in kept), footer]) + "\n"
    json.loads(out)
    open(dst, "w", encoding="utf-8").write(out)
    for path in (src, dst):
        print(hashlib.sha256(open(path, "rb").read()).hexdigest(), path)
    print(f"kept {len(kept)} cases, withheld {len(withheld)}:")
    for name, _ in withheld:
        print("  " + name)


if __name__ == "__main__":
    main()
