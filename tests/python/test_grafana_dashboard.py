"""The Grafana dashboard (deploy/grafana/exitflow-dashboard.json) against Grafana's dashboard model and a real scrape.

Every PromQL expression of the dashboard (panel targets, annotations, the ``label_values`` variable) is parsed with
``promql_parser`` (the Rust PromQL parser's Python binding) and its metric names must be served by Flink's Prometheus
reporter: they must appear in ``deploy/grafana/testdata/flink-scrape.prom``, a scrape of a running ExitFlow job on
the local cluster (parsed with ``prometheus_client``'s text-format parser) that ``LocalClusterIT`` refreshes, and they
must equal ``deploy/grafana/dashboard-metrics.txt``, the list that ``LocalClusterIT`` checks against its live scrape.
The Kubernetes example carries the same dashboard (deploy/k8s/monitoring.yaml, written by
deploy/grafana/make-k8s-configmap.sh).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "exitflow-dashboard.json"
SCRAPE = GRAFANA / "testdata" / "flink-scrape.prom"
METRICS_LIST = GRAFANA / "dashboard-metrics.txt"
K8S = REPO / "deploy" / "k8s" / "monitoring.yaml"

# Grafana's macros, which are not PromQL: replaced by what Grafana would put there before the query is sent.
MACROS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "30m"}
LABEL_VALUES = re.compile(r"^label_values\(\s*(?P<selector>.+?)\s*,\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)$")
PANEL_TYPES = {"timeseries", "state-timeline", "stat", "gauge", "bargauge", "table", "text", "row"}
# Labels the dashboard groups or filters by, and the metric (prefix) that must carry them in the scrape.
LABELS = {"stage": "stage_", "quantile": "latencyMicros", "job_name": "", "operator_name": ""}


def load_dashboard() -> dict[str, Any]:
    """The dashboard JSON as Grafana reads it."""
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every query of the dashboard: panel targets, annotations and query variables."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} target {target['refId']}", target["expr"]
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            yield f"annotation {annotation['name']!r}", annotation["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            m = LABEL_VALUES.match(query)
            assert m, f"variable {variable['name']}: only label_values(selector, label) queries are used: {query}"
            yield f"variable {variable['name']!r}", m.group("selector")


def promql(expr: str) -> Any:
    """Parses a dashboard expression after substituting Grafana's macros (variables stay inside label strings)."""
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    return promql_parser.parse(expr)


def selectors(node: Any) -> Iterator[Any]:
    """Every vector selector in a parsed expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
    elif isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector
    elif isinstance(node, promql_parser.AggregateExpr):
        yield from selectors(node.expr)
        if node.param is not None:
            yield from selectors(node.param)
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from selectors(arg)
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        yield from selectors(node.expr)
    elif not isinstance(node, (promql_parser.NumberLiteral, promql_parser.StringLiteral)):
        raise AssertionError(f"unexpected PromQL node {type(node).__name__}")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects; every selector must name its metric."""
    names = set()
    for s in selectors(promql(expr)):
        assert s.name, f"a selector without a metric name in {expr}"
        names.add(s.name)
    return names


def scrape_samples() -> list[Any]:
    """Every sample of the saved scrape."""
    text = SCRAPE.read_text(encoding="utf-8")
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_dashboard_has_the_fields_grafana_needs() -> None:
    d = load_dashboard()
    for key, kind in {
        "uid": str,
        "title": str,
        "schemaVersion": int,
        "panels": list,
        "time": dict,
        "templating": dict,
        "annotations": dict,
        "refresh": str,
        "tags": list,
    }.items():
        assert isinstance(d.get(key), kind), f"dashboard.{key} must be a {kind.__name__}"
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", d["uid"]), "uid: at most 40 letters, digits, - and _"
    assert "id" not in d or d["id"] is None, "no instance-specific id: provisioning and import assign one"
    assert d["time"]["from"] and d["time"]["to"]
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = set()
    cells: set[tuple[int, int]] = set()
    for p in d["panels"]:
        assert isinstance(p["id"], int) and p["id"] not in ids, f"panel ids unique: {p['id']}"
        ids.add(p["id"])
        assert p["type"] in PANEL_TYPES, f"panel {p['title']}: unknown type {p['type']}"
        assert p["title"].strip() and p.get("description", "").strip(), f"panel {p['id']}: a title and description"
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in "hwxy") and g["w"] > 0 and g["h"] > 0
        assert g["x"] + g["w"] <= 24, f"panel {p['title']}: wider than Grafana's 24 columns"
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"panel {p['title']} overlaps another at ({x}, {y})"
                cells.add((x, y))
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(set(refs)) == len(refs), f"panel {p['title']}: unique refIds"
        for t in p["targets"]:
            assert t["datasource"] == p["datasource"] and t["expr"].strip() and "legendFormat" in t
    titles = " ".join(p["title"].lower() for p in d["panels"])
    for wanted in [
        "input rate",
        "lag",
        "windows",
        "exits per stage",
        "thresholds",
        "cost per event",
        "latency",
        "dead letters",
        "accuracy",
    ]:
        assert wanted in titles, f"the issue's panel '{wanted}'"
    exits = next(p for p in d["panels"] if p["title"] == "Exits per stage")
    assert exits["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal", "exits stacked"
    assert any(a.get("name") == "Threshold updates" and a["enable"] for a in d["annotations"]["list"])


def test_every_query_parses_as_promql_and_filters_by_the_job_variable() -> None:
    found = list(expressions(load_dashboard()))
    assert len(found) >= 25, "panels, annotations and variables"
    for where, expr in found:
        try:
            names = metric_names(expr)
        except ValueError as e:  # promql_parser's syntax errors
            pytest.fail(f"{where}: not PromQL: {expr}: {e}")
        assert names, f"{where}: selects no metric: {expr}"
        if not where.startswith("variable"):
            for s in selectors(promql(expr)):
                assert 'job_name=~"$job"' in str(s), f"{where}: every selector filters by $job: {s}"


def test_every_metric_the_dashboard_queries_is_in_a_real_scrape() -> None:
    used: dict[str, list[str]] = {}
    for where, expr in expressions(load_dashboard()):
        for name in metric_names(expr):
            used.setdefault(name, []).append(where)
    samples = scrape_samples()
    served = {s.name for s in samples}
    missing = {name: wheres for name, wheres in used.items() if name not in served}
    assert not missing, f"metrics the dashboard queries that the scrape ({SCRAPE.name}) lacks: {missing}"
    listed = [
        line.strip() for line in METRICS_LIST.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert listed == sorted(used), (
        f"{METRICS_LIST.name} must list exactly the dashboard's metrics, sorted "
        f"(LocalClusterIT checks them against a live scrape):\n" + "\n".join(sorted(used))
    )
    for label, metric_part in LABELS.items():
        carriers = [s for s in samples if metric_part in s.name and s.name in used]
        assert carriers and all(label in s.labels for s in carriers), f"label {label} on the metrics using it"


def test_stage_metrics_carry_the_stage_as_a_label() -> None:
    samples = [s for s in scrape_samples() if s.name.startswith("flink_taskmanager_job_task_operator_stage_")]
    assert {s.name for s in samples} >= {
        "flink_taskmanager_job_task_operator_stage_exits",
        "flink_taskmanager_job_task_operator_stage_threshold",
        "flink_taskmanager_job_task_operator_stage_batchSize",
    }
    assert all(s.labels.get("stage", "").isdigit() for s in samples)
    assert not any(re.search(r"stage_\d", s.name) for s in scrape_samples()), "no stage index in a metric name"


def test_kubernetes_example_provisions_this_dashboard_and_a_prometheus_datasource() -> None:
    docs = [d for d in yaml.safe_load_all(K8S.read_text(encoding="utf-8")) if d]
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    dashboards = maps["exitflow-grafana-dashboards"]["data"]
    assert json.loads(dashboards["exitflow-dashboard.json"]) == load_dashboard(), (
        "deploy/k8s/monitoring.yaml carries an old copy of the dashboard: run deploy/grafana/make-k8s-configmap.sh"
    )
    provisioning = maps["exitflow-grafana-provisioning"]["data"]
    assert yaml.safe_load(provisioning["datasources.yaml"]) == yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    assert yaml.safe_load(provisioning["dashboards.yaml"]) == yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "exitflow.yaml").read_text()
    )
    datasource = yaml.safe_load(provisioning["datasources.yaml"])["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "${PROMETHEUS_URL}"
    provider = yaml.safe_load(provisioning["dashboards.yaml"])["providers"][0]
    grafana = next(d for d in docs if d["kind"] == "Deployment")
    env = {e["name"]: e["value"] for e in grafana["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PROMETHEUS_URL"].startswith("http://"), "Grafana expands ${PROMETHEUS_URL} from its environment"
    mounts = {m["name"]: m["mountPath"] for m in grafana["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v["configMap"]["name"] for v in grafana["spec"]["template"]["spec"]["volumes"]}
    by_map = {volumes[n]: path for n, path in mounts.items()}
    assert by_map["exitflow-grafana-dashboards"] == provider["options"]["path"], "the provider reads the mounted map"
    assert by_map["exitflow-grafana-provisioning"].startswith("/etc/grafana/provisioning")
    monitor = next(d for d in docs if d["kind"] == "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


def test_make_k8s_configmap_writes_what_is_committed(tmp_path: Path) -> None:
    out = tmp_path / "monitoring.yaml"
    subprocess.run(["bash", str(GRAFANA / "make-k8s-configmap.sh"), str(out)], check=True, cwd=REPO)
    assert out.read_text(encoding="utf-8") == K8S.read_text(encoding="utf-8"), (
        "deploy/k8s/monitoring.yaml is out of date: run deploy/grafana/make-k8s-configmap.sh"
    )
