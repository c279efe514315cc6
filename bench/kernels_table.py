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
    print("| bundle | batch | raw ORT wall / cpu us/event | cascade full depth wall / cpu | overhead wall / cpu "
          "| cascade early exit wall / cpu |")
    print("|---|---:|---:|---:|---:|---:|")
    for (bundle, batch), v in sorted(rows.items()):
        raw, full, early = v.get("rawOrt"), v.get("cascadeFullDepth"), v.get("cascadeEarlyExit")
        fmt = lambda x: f"{x[0]:.2f} ± {x[1]:.2f} / {x[2]:.2f}" if x else "-"
        over = (f"{(full[0] / raw[0] - 1) * 100:+.1f}% / {(full[2] / raw[2] - 1) * 100:+.1f}%"
                if raw and full else "-")
        print(f"| {bundle} | {batch} | {fmt(raw)} | {fmt(full)} | {over} | {fmt(early)} |")


if __name__ == "__main__":
    main(sys.argv[1])
