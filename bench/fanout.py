"""``python -m bench.fanout N ARGV...``: run N copies of a command at once (``{i}`` in an argument
becomes the copy's number, 0..N-1) and wait for all; exit 1 if any copy failed, with its stderr.
One timed sample of "N concurrent clients" is one run of this."""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m bench.fanout N ARGV...", file=sys.stderr)
        return 2
    n, cmd = int(argv[0]), argv[1:]
    procs = [
        subprocess.Popen(
            [a.replace("{i}", str(i)) for a in cmd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(n)
    ]
    failed = 0
    for i, p in enumerate(procs):
        _out, err = p.communicate()
        if p.returncode != 0:
            failed += 1
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
            print(f"copy {i} failed (rc {p.returncode}): {tail[0][:300]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
