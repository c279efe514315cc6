#!/usr/bin/env bash
# Every early-exit method on a real public sensor data set: the shoulder-exercise smartwatch recordings that the
# seglearn wheel ships (10 subjects, 7 exercises, 6 channels at 50 Hz; bench/datasets/shoulder_watch.py says what
# and how). One command:
#   1. data/shoulder-watch/{readings.parquet,test-readings.csv,dataset.yaml} from the installed seglearn wheel;
#   2. python -m exitflow evaluate on it (joint, boost, consistent, jei, eenet; thresholds on the validation
#      subjects, results on the test subjects) -> bench/datasets/shoulder-watch/{report-sensor.json,
#      summary-sensor.md, accuracy-vs-cost-sensor.png, evaluate.log.txt};
#   3. per-exit accuracy of every method and accuracy at 25/50/75% cost (latency and FLOPs axes)
#      -> bench/datasets/shoulder-watch/methods.md;
#   4. unless --no-bundle: the bundle the streaming demo runs, models/shoulder-watch-cnn (build --method
#      consistent, the same epochs).
# usage: bench/datasets/shoulder-watch.sh [--epochs 30] [--seed 7] [--no-bundle]
# Env: EXITFLOW_VENV (the toolkit's environment, made on first use as ./exitflow does). Runs niced; about 15 minutes
# on 2 shared cores at 30 epochs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
epochs=30
seed=7
bundle=1
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --no-bundle) bundle=""; shift ;;
    *) echo "shoulder-watch.sh: unknown option $1 (--epochs N, --seed N, --no-bundle)" >&2; exit 2 ;;
  esac
done
# shellcheck source=scripts/lib/setup.sh
source scripts/lib/setup.sh
exitflow_python_env
py=(nice -n 10 "$EXITFLOW_PYTHON")
out="$root/bench/datasets/shoulder-watch"
data="$root/data/shoulder-watch"
mkdir -p "$out"
work="$(mktemp -d)"  # evaluate and build keep checkpoints under ./runs: a private folder, not the shared one
trap 'rm -rf "$work"' EXIT

echo "[shoulder-watch] 1/4 readings from the seglearn wheel -> $data"
"${py[@]}" bench/datasets/shoulder_watch.py --out "$data"

echo "[shoulder-watch] 2/4 evaluate every method, $epochs epochs, seed $seed (progress below; log in $out/evaluate.log.txt)"
(cd "$work" && "${py[@]}" -u -m exitflow evaluate --task sensor-window --dataset "$data/dataset.yaml" \
    --epochs "$epochs" --seed "$seed" --threads 1 --out "$out") 2>&1 | tee "$out/evaluate.log.txt"

echo "[shoulder-watch] 3/4 per-exit accuracy and cost columns -> $out/methods.md"
"${py[@]}" bench/datasets/method_table.py --dataset "$data/dataset.yaml" --report "$out/report-sensor.json" \
    --runs "$work/runs" --out "$out/methods.md" >/dev/null

if [ -n "$bundle" ]; then
  echo "[shoulder-watch] 4/4 bundle for the stream: models/shoulder-watch-cnn (consistent, $epochs epochs)"
  (cd "$work" && "${py[@]}" -u -m exitflow build --task sensor-window --dataset "$data/dataset.yaml" \
      --method consistent --epochs "$epochs" --seed "$seed" --threads 1 --out "$root/models/shoulder-watch-cnn") \
      2>&1 | tee "$out/build.log.txt"
fi
echo "[shoulder-watch] done: $out/methods.md"
