#!/usr/bin/env bash
# Writes the shared sensor dataset (Avro container files) with the project's Java generator.
# usage: scripts/make-dataset.sh [--small] [--seed N] [OUT_DIR]   (OUT_DIR defaults to data/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/data"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --small) args+=(--small); shift ;;
    --seed) args+=(--seed "$2"); shift 2 ;;
    -h|--help) sed -n 2,3p "$0"; exit 0 ;;
    *) out="$1"; shift ;;
  esac
done
target="${EXITFLOW_TARGET:-target}"
cd "$root"
jar="schemas/$target/exitflow-schemas-0.1.0-SNAPSHOT.jar"
cp_file="schemas/$target/runtime-classpath.txt"
if [ ! -f "$jar" ] || [ ! -f "$cp_file" ] || [ -n "$(find schemas/src -newer "$jar" -type f | head -1)" ]; then
  echo "building schemas module ..." >&2
  mvn -q -B -Dexitflow.target="$target" -pl schemas install -DskipTests
  mvn -q -B -Dexitflow.target="$target" -pl schemas dependency:build-classpath \
      -Dmdep.outputFile="$target/runtime-classpath.txt" -Dmdep.includeScope=runtime
fi
java -cp "$jar:$(cat "$cp_file")" io.exitflow.data.DatasetWriter --out "$out" "${args[@]}"
