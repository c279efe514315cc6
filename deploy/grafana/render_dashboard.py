"""Renders the Grafana dashboard's panels from a real Prometheus server into one PNG, and says which panels had no data.

Grafana itself cannot be installed on the machines this project is built on (no Grafana package in the registries
they reach, no container runtime), so this is the check that stands in for a screenshot: every query of
``deploy/grafana/exitflow-dashboard.json`` (panel targets and the threshold-update annotation) is sent to Prometheus's
HTTP API (``/api/v1/query_range``) exactly as Grafana would send it, after the same substitutions Grafana makes
(``$job`` -> the variable's "All" value ``.*``, ``$__rate_interval`` -> four scrape intervals, ``$__interval`` -> the
step), and each panel is drawn where its ``gridPos`` puts it on Grafana's 24-column grid: its legend from
``legendFormat``, stacked where the panel stacks, its unit on the y axis, a dotted line at each threshold update.

Usage (``deploy/grafana/real-run.sh`` runs it at the end of a real run)::

    python deploy/grafana/render_dashboard.py --prometheus http://127.0.0.1:9090 \
        --start 1764550000 --end 1764550300 --out docs/grafana-dashboard.png [--step 5] [--scrape-interval 5]

Exit status: 0 when every panel showed data, 1 when some showed none (listed on stderr), 2 on a bad argument or
when Prometheus cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parent / "exitflow-dashboard.json"
GRID_COLUMNS = 24
LEGEND = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Series:
    """One series of a query's answer: its legend and its points (unix seconds, value)."""

    legend: str
    times: list[float]
    values: list[float]


class PrometheusError(RuntimeError):
    """Prometheus could not be reached or refused a query; the message names the query."""


def substitute(expr: str, step_s: int, scrape_interval_s: int) -> str:
    """The PromQL Grafana sends for ``expr``: the ``job`` variable at "All" and Grafana's interval macros."""
    rate_interval = max(4 * scrape_interval_s, step_s + scrape_interval_s)
    return (
        expr.replace("$__rate_interval", f"{rate_interval}s")
        .replace("$__interval", f"{step_s}s")
        .replace("$__range", "1h")
        .replace("$job", ".*")
    )


def query_range(url: str, expr: str, start: float, end: float, step_s: int) -> list[dict[str, Any]]:
    """Prometheus's ``/api/v1/query_range`` answer (the ``result`` matrix) for ``expr``.

    Raises:
        PrometheusError: when the server cannot be reached or answers with an error (its message included).
    """
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step_s})
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/v1/query_range?{params}", timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        raise PrometheusError(f"Prometheus refused {expr!r}: {e.read().decode(errors='replace')}") from e
    except (urllib.error.URLError, OSError) as e:
        raise PrometheusError(f"cannot reach Prometheus at {url}: {e}") from e
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus refused {expr!r}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def legend_of(target: dict[str, Any], labels: dict[str, str]) -> str:
    """The series' legend as Grafana writes it: ``legendFormat`` with ``{{label}}`` filled in, else the labels."""
    fmt = target.get("legendFormat")
    if fmt and fmt != "__auto":
        return LEGEND.sub(lambda m: labels.get(m.group(1), ""), fmt)
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items())) + "}" if shown else target["expr"]


# Grafana's time units, scaled as Grafana scales an axis: (unit, factor to the next unit, next unit).
TIME_UNITS = {"ns": (1e3, "µs"), "µs": (1e3, "ms"), "ms": (1e3, "s")}


def scaled(unit: str, series: list[Series]) -> tuple[str, list[Series]]:
    """``series`` in the largest time unit that keeps its peak at 1 or more (ns -> µs -> ms -> s), as Grafana does."""
    peak = max((abs(v) for s in series for v in s.values if math.isfinite(v)), default=0.0)
    while unit in TIME_UNITS and peak >= TIME_UNITS[unit][0] * 10:
        factor, unit = TIME_UNITS[unit]
        peak /= factor
        series = [Series(s.legend, s.times, [v / factor for v in s.values]) for s in series]
    return unit, series


def panel_series(
    url: str, panel: dict[str, Any], start: float, end: float, step_s: int, scrape_interval_s: int
) -> list[Series]:
    """Every series of every target of ``panel`` over [start, end]."""
    out: list[Series] = []
    for target in panel.get("targets", []):
        expr = substitute(target["expr"], step_s, scrape_interval_s)
        for s in query_range(url, expr, start, end, step_s):
            points = [(float(t), float(v)) for t, v in s["values"]]
            out.append(Series(legend_of(target, s["metric"]), [p[0] for p in points], [p[1] for p in points]))
    return out


def annotation_times(
    url: str, dashboard: dict[str, Any], start: float, end: float, step_s: int, scrape_interval_s: int
) -> list[float]:
    """Unix seconds of the dashboard's annotation events (threshold updates): where its query first turns true."""
    times: list[float] = []
    for annotation in dashboard["annotations"]["list"]:
        if "expr" not in annotation:
            continue
        expr = substitute(annotation["expr"], step_s, scrape_interval_s)
        for s in query_range(url, expr, start, end, step_s):
            previous = None
            for t, _ in s["values"]:
                if previous is None or float(t) - previous > step_s * 1.5:
                    times.append(float(t))
                previous = float(t)
    return sorted(times)


def render(
    url: str, start: float, end: float, out: Path, step_s: int, scrape_interval_s: int, dashboard_path: Path = DASHBOARD
) -> list[str]:
    """Draws every panel into ``out`` (PNG) and returns the titles of panels that had no data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dashboard = json.loads(dashboard_path.read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(20, rows * 0.42))
    grid = fig.add_gridspec(rows, GRID_COLUMNS, hspace=0.2, wspace=0.6, top=0.965, bottom=0.02)
    updates = annotation_times(url, dashboard, start, end, step_s, scrape_interval_s)
    empty: list[str] = []
    for i, panel in enumerate(panels, start=1):
        g = panel["gridPos"]
        ax = fig.add_subplot(grid[g["y"] : g["y"] + g["h"] - 1, g["x"] : g["x"] + g["w"]])
        series = panel_series(url, panel, start, end, step_s, scrape_interval_s)
        print(f"[render] {i}/{len(panels)} {panel['title']}: {len(series)} series", file=sys.stderr)
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        unit, series = scaled(defaults.get("unit", ""), series)
        stacked = defaults.get("custom", {}).get("stacking", {}).get("mode") == "normal"
        if not series:
            empty.append(panel["title"])
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes, color="grey")
        elif stacked and len({tuple(s.times) for s in series}) == 1:
            ax.stackplot(
                [t - start for t in series[0].times],
                *[s.values for s in series],
                labels=[s.legend for s in series],
                alpha=0.6,
            )
        else:
            for s in series:
                ax.plot(
                    [t - start for t in s.times],
                    s.values,
                    label=s.legend,
                    linewidth=1.2,
                    drawstyle="steps-post" if panel["type"] == "state-timeline" else "default",
                )
        for t in updates:
            ax.axvline(t - start, color="orange", linestyle=":", linewidth=0.8)
        ax.set_title(panel["title"], fontsize=10, loc="left", pad=14)
        ax.set_xlim(0, end - start)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=6, loc="upper left", ncol=2)
    when = datetime.fromtimestamp(start, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fig.suptitle(
        f"{dashboard['title']}: panels from Prometheus, {when}, x = seconds from start "
        f"(orange dotted: threshold updates)",
        fontsize=12,
        y=0.995,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=70, bbox_inches="tight")
    plt.close(fig)
    return empty


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--start", type=float, required=True, help="unix seconds")
    parser.add_argument("--end", type=float, required=True, help="unix seconds")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--step", type=int, default=5, help="query step in seconds (default 5)")
    parser.add_argument("--scrape-interval", type=int, default=5, help="Prometheus scrape interval in seconds")
    parser.add_argument("--dashboard", type=Path, default=DASHBOARD)
    args = parser.parse_args(argv)
    if args.end <= args.start:
        parser.error(f"--end ({args.end}) must be after --start ({args.start})")
    try:
        empty = render(args.prometheus, args.start, args.end, args.out, args.step, args.scrape_interval, args.dashboard)
    except PrometheusError as e:
        print(f"render_dashboard: {e}", file=sys.stderr)
        return 2
    print(f"[render] wrote {args.out}", file=sys.stderr)
    if empty:
        print(f"render_dashboard: no data in {len(empty)} panel(s): {', '.join(empty)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
