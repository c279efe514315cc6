"""Per-event table from StageKernelBenchmark's JMH JSON: raw ORT vs the cascade path, and the overhead ratio.

Two measures per cell: wall time (JMH's score) and the benchmark thread's CPU time (the cpuNanos/calls secondary
metrics), which is what to trust on a shared, busy machine.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict

Cell = tuple[float, float, float]  # wall us/event, its error, cpu us/event


def main(path: str) -> None:
    rows: dict[tuple[str, int], dict[str, Cell]] = defaultdict(dict)
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 1)[1]
        bundle, batch = r["params"]["bundle"], int(r["params"]["batch"])
        m = r["primaryMetric"]
        err = m["scoreError"] if isinstance(m["scoreError"], (int, float)) else float("nan")
        sec = r.get("secondaryMetrics", {})
        cpu = float("nan")
        if "cpuNanos" in sec and "calls" in sec and sec["calls"]["score"]:
            cpu = sec["cpuNanos"]["score"] / sec["calls"]["score"] / 1000 / batch
        rows[(bundle, batch)][name] = (m["score"] / batch, err / batch, cpu)
    print("| bundle | batch | raw ORT | raw ORT, pinned outputs | cascade full depth | overhead vs raw "
          "| overhead vs pinned | cascade early exit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (bundle, batch), v in sorted(rows.items()):
        raw, pinned = v.get("rawOrt"), v.get("rawOrtPinned")
        full, early = v.get("cascadeFullDepth"), v.get("cascadeEarlyExit")
        print(f"| {bundle} | {batch} | {fmt(raw)} | {fmt(pinned)} | {fmt(full)} | {over(full, raw)} "
              f"| {over(full, pinned)} | {fmt(early)} |")


def fmt(x: Cell | None) -> str:
    """wall ± error / cpu, us per event."""
    return f"{x[0]:.2f} ± {x[1]:.2f} / {x[2]:.2f}" if x else "-"


def over(a: Cell | None, base: Cell | None) -> str:
    """Relative cost of a over base: wall / cpu."""
    if not a or not base:
        return "-"
    return f"{(a[0] / base[0] - 1) * 100:+.1f}% / {(a[2] / base[2] - 1) * 100:+.1f}%"


if __name__ == "__main__":
    main(sys.argv[1])
