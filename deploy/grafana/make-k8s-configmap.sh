#!/usr/bin/env bash
# Writes deploy/k8s/monitoring.yaml (or the file given) from this folder: the dashboard JSON and the provisioning
# files go into ConfigMaps, so the Kubernetes example serves the same dashboard. Run it after editing any of them;
# tests/python/test_grafana_dashboard.py fails while the committed file is out of date.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../k8s/monitoring.yaml}"
indent() { sed 's/^/    /' "$1"; }
{
  cat <<'YAML'
# Monitoring for the ExitFlow job (written by deploy/grafana/make-k8s-configmap.sh from deploy/grafana/; do not edit):
#   * PodMonitor exitflow-flink: the Prometheus Operator scrapes Flink's Prometheus reporter (port "metrics", 9249)
#     on every pod labelled app: exitflow-anomaly (JobManager, GPU and CPU TaskManagers; flink-anomaly.yaml).
#   * Grafana with the ExitFlow dashboard and a Prometheus datasource, provisioned from the two ConfigMaps below.
#     Set PROMETHEUS_URL to your Prometheus (prometheus-operated is the service the Prometheus Operator creates).
# Without the Prometheus Operator drop the PodMonitor and scrape the pods' port 9249 your own way.
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: exitflow-flink
  namespace: exitflow
spec:
  selector:
    matchLabels:
      app: exitflow-anomaly
  podMetricsEndpoints:
    - port: metrics
      path: /metrics
      interval: 15s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: exitflow-grafana-dashboards
  namespace: exitflow
  labels:
    grafana_dashboard: "1"          # picked up by the kube-prometheus-stack Grafana's dashboard sidecar, too
data:
  exitflow-dashboard.json: |
YAML
  indent "$here/exitflow-dashboard.json"
  cat <<'YAML'
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: exitflow-grafana-provisioning
  namespace: exitflow
data:
  datasources.yaml: |
YAML
  indent "$here/provisioning/datasources/prometheus.yaml"
  echo "  dashboards.yaml: |"
  indent "$here/provisioning/dashboards/exitflow.yaml"
  cat <<'YAML'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: exitflow-grafana
  namespace: exitflow
  labels:
    app: exitflow-grafana
spec:
  replicas: 1
  selector:
    matchLabels:
      app: exitflow-grafana
  template:
    metadata:
      labels:
        app: exitflow-grafana
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:11.4.0
          env:
            - name: PROMETHEUS_URL
              value: http://prometheus-operated.monitoring.svc:9090
          ports:
            - name: http
              containerPort: 3000
          volumeMounts:
            - name: provisioning
              mountPath: /etc/grafana/provisioning/datasources/exitflow.yaml
              subPath: datasources.yaml
            - name: provisioning-dashboards
              mountPath: /etc/grafana/provisioning/dashboards/exitflow.yaml
              subPath: dashboards.yaml
            - name: dashboards
              mountPath: /var/lib/grafana/dashboards/exitflow
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
            limits:
              memory: 512Mi
      volumes:
        - name: provisioning
          configMap:
            name: exitflow-grafana-provisioning
        - name: provisioning-dashboards
          configMap:
            name: exitflow-grafana-provisioning
        - name: dashboards
          configMap:
            name: exitflow-grafana-dashboards
---
apiVersion: v1
kind: Service
metadata:
  name: exitflow-grafana
  namespace: exitflow
spec:
  selector:
    app: exitflow-grafana
  ports:
    - name: http
      port: 3000
      targetPort: http
YAML
} >"$out"
echo "wrote $out"
