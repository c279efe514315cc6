#!/usr/bin/env bash
# Builds ExitFlow's Flink image (Dockerfile here): stages the ONNX Runtime GPU jar, the job jar and the model
# bundles into build/, then runs docker build.
# Usage: deploy/k8s/image/build.sh [IMAGE_TAG]      (default exitflow/flink-onnx:0.1.0)
# Env:   MODELS="sensor-cnn ..."  bundles under models/ to include (default: every bundle there)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
tag="${1:-exitflow/flink-onnx:0.1.0}"
build="$here/build"

command -v mvn >/dev/null || { echo "mvn is required" >&2; exit 1; }
command -v docker >/dev/null || { echo "docker is required" >&2; exit 1; }

rm -rf "$build" && mkdir -p "$build/lib" "$build/usrlib" "$build/models"

echo "== job jar (mvn package -pl jobs -am) =="
(cd "$root" && mvn -B -q package -DskipTests -pl jobs -am)
cp "$root"/jobs/target/exitflow-jobs-*-job.jar "$build/usrlib/exitflow-jobs-job.jar"

echo "== ONNX Runtime GPU jar =="
ort_version="$(cd "$root" && mvn -B -q help:evaluate -Dexpression=onnxruntime.version -DforceStdout)"
(cd "$root" && mvn -B -q dependency:copy -Dartifact="com.microsoft.onnxruntime:onnxruntime_gpu:$ort_version" \
  -DoutputDirectory="$build/lib")

echo "== model bundles =="
for m in ${MODELS:-$(cd "$root/models" && ls -d */ 2>/dev/null | tr -d /)}; do
  [[ -f "$root/models/$m/manifest.json" ]] || { echo "models/$m is not a bundle (no manifest.json)" >&2; exit 1; }
  cp -r "$root/models/$m" "$build/models/$m"
done

echo "== docker build -t $tag =="
docker build -t "$tag" "$here"
