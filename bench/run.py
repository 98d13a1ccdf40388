"""``make bench``: every benchmark, one after the other, each in its own process.

(a)+(b)+(f) ``bench.throughput`` — list and single queries: revgate vs GraphQL Mesh vs direct
REST, c=1 and c=32, and RSS over 10,000 requests; ``bench.fresh`` — the same servers when the
upstream answer changes per request (one item, every item) for list-100, list-20 and one
object; (c) ``bench.dashboard`` — the cross-forge
dashboard query, and ``bench.dashboard_page`` — the review dashboard's own first screen and a
live update; (d) ``bench.cache`` — cold vs warm response cache; (e) ``bench.compat`` — the
REST compat layer vs the backend and vs a bare pass-through proxy (the floor), against the
simulator as it is and answering 5 ms late (skipped with a message while it is not in the tree);
``bench.profile`` — CPU per request in-process, fast path on and off.
"""

from __future__ import annotations

import subprocess
import sys
import time
from importlib.util import find_spec

BENCHES = [
    ("throughput (revgate vs Mesh vs direct REST, RSS)", ["bench.throughput"]),
    ("fresh data (upstream changing per request) vs Mesh", ["bench.fresh"]),
    ("CPU per request in-process (fast path off/on)", ["bench.profile"]),
    ("dashboard (cross-forge changes(first: 100))", ["bench.dashboard"]),
    ("dashboard page (its first screen and a live update)", ["bench.dashboard_page"]),
    ("response cache cold vs warm", ["bench.cache"]),
    ("compat layer vs backend", ["bench.compat"]),
    (
        "compat layer vs a backend with a 5 ms service time",
        ["bench.compat", "--backend-latency-ms", "5"],
    ),
    ("10,000 mixed queries at concurrency 64 against the demo", ["bench.mixed"]),
]


def main() -> int:
    """Run them all; a failing bench fails the run, after the others ran."""
    print(f"revgate benchmarks — {time.strftime('%Y-%m-%d %H:%M %Z')}", flush=True)
    failed = []
    for title, module in BENCHES:
        print(f"\n## {title}\n", flush=True)
        if find_spec(module[0]) is None:
            print(f"{module[0]} is not in this tree: skipped", flush=True)
            continue
        if subprocess.run([sys.executable, "-m", *module]).returncode != 0:
            failed.append(module[0])
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
