#!/usr/bin/env python3
"""Vendors part of a golden file: the cases whose `optimizer` is listed.

    python3 tests/golden/extract.py SRC DST OPTIMIZER...

The source must be one case per line, as the reference files are. Each kept
case line is copied byte for byte (cases are never re-serialized); only the
list separators change. Used while some cases' features are not built yet:
tests/golden/README.md lists the cases withheld and why.
"""

import json
import sys


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    src, dst, keep = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    head, body = lines[0], lines[1:]
    if not head.endswith('"cases":['):
        sys.exit(f"{src}: first line is not the header")
    tail_at = next(i for i in range(len(body) - 1, -1, -1) if body[i].strip())
    if body[tail_at] != "]}":
        sys.exit(f"{src}: last line is not the closing `]}}`")
    cases = [line[:-1] if line.endswith(",") else line for line in body[:tail_at]]
    kept, seen = [], set()
    for line in cases:
        name = json.loads(line)["optimizer"]
        seen.add(name)
        if name in keep:
            kept.append(line)
    unknown = keep - seen
    if unknown:
        sys.exit(f"no case has optimizer {sorted(unknown)}")
    with open(dst, "w", encoding="utf-8") as f:
        f.write(head + "\n" + ",\n".join(kept) + "\n]}\n")
    json.load(open(dst, encoding="utf-8"))  # still one valid file
    print(f"{dst}: {len(kept)} of {len(cases)} cases")


if __name__ == "__main__":
    main()
