"""deploy/grafana/render_dashboard.py: the queries it sends are the dashboard's, as Grafana would send them.

The renderer itself runs against a real Prometheus in ``deploy/grafana/real-run.sh`` (not CI: it needs a Prometheus
server); these tests pin what it sends and how it names and scales what comes back.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import promql_parser

REPO = Path(__file__).resolve().parents[2]


def renderer() -> ModuleType:
    """The script as a module (it lives under deploy/, outside the toolkit's package)."""
    spec = importlib.util.spec_from_file_location(
        "render_dashboard", REPO / "deploy" / "grafana" / "render_dashboard.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_query_of_the_dashboard_is_valid_promql_after_grafanas_substitutions() -> None:
    r = renderer()
    dashboard = json.loads((REPO / "deploy" / "grafana" / "exitflow-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    assert len(exprs) >= 13
    for expr in exprs:
        sent = r.substitute(expr, step_s=5, scrape_interval_s=5)
        assert "$" not in sent, f"a Grafana variable or macro was left in {sent!r}"
        promql_parser.parse(sent)  # raises on anything Prometheus would refuse to parse


def test_rate_interval_is_four_scrapes_or_step_plus_scrape_as_in_grafana() -> None:
    r = renderer()
    assert r.substitute("rate(x[$__rate_interval])", step_s=5, scrape_interval_s=5) == "rate(x[20s])"
    assert r.substitute("rate(x[$__rate_interval])", step_s=60, scrape_interval_s=5) == "rate(x[65s])"
    assert r.substitute('x{job_name=~"$job"}', step_s=5, scrape_interval_s=5) == 'x{job_name=~".*"}'


def test_legend_format_fills_labels_and_falls_back_to_the_label_set() -> None:
    r = renderer()
    assert r.legend_of({"expr": "x", "legendFormat": "stage {{stage}}"}, {"stage": "2"}) == "stage 2"
    assert r.legend_of({"expr": "x"}, {"__name__": "x", "b": "2", "a": "1"}) == '{a="1", b="2"}'
    assert r.legend_of({"expr": "sum(x)"}, {}) == "sum(x)"


def test_time_units_scale_up_as_grafana_does_and_ignore_nan() -> None:
    r = renderer()
    unit, series = r.scaled("ns", [r.Series("a", [0.0, 1.0], [float("nan"), 2.0e7])])
    assert unit == "ms" and series[0].values[1] == 20.0
    unit, series = r.scaled("ns", [r.Series("a", [0.0], [900.0])])
    assert unit == "ns" and series[0].values == [900.0]
    assert r.scaled("short", [r.Series("a", [0.0], [1.0e9])])[0] == "short"
