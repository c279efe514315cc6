#!/usr/bin/env bash
# Submits a job JAR to the local Flink session cluster over REST (/jars/upload, then /jars/:id/run) and
# waits until the job runs. Prints "JOB_ID=<id>" on success.
# Usage: submit.sh [--jar PATH] [--parallelism N] [--no-wait] MAIN_CLASS [PROGRAM_ARGS...]
source "$(dirname "$0")/lib.sh"

jar="$EXITFLOW_HOME/jobs/target/exitflow-jobs-0.1.0-SNAPSHOT-job.jar"
parallelism=""
wait_running=1
while (($#)); do
  case "$1" in
    --jar) jar="${2:?--jar needs a path}"; shift 2 ;;
    --parallelism) parallelism="${2:?--parallelism needs a number}"; shift 2 ;;
    --no-wait) wait_running=0; shift ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
(($#)) || die "no main class given. Usage: submit.sh [--jar PATH] [--parallelism N] [--no-wait] MAIN_CLASS [PROGRAM_ARGS...]"
main_class="$1"; shift
[[ -f "$jar" ]] || die "job jar $jar not found: build it with 'mvn -B package -DskipTests -pl jobs -am' (or pass --jar)"
curl -fsS -o /dev/null "$(rest_url /overview)" 2>/dev/null \
  || die "no Flink REST endpoint at $(rest_url /); run deploy/local/start-flink.sh first"

json_string() {  # JSON string literal of $1
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\n'/\\n}"; s="${s//$'\t'/\\t}"
  printf '"%s"' "$s"
}

# Flink's error answers are JSON strings holding Java stack traces: keep the messages, drop the frames.
without_stack_frames() {
  sed 's/\\n/\n/g; s/\\t/\t/g' | grep -Ev '^[[:space:]]*(at |\.\.\. [0-9]+ more)' | head -n 40
}

log "uploading $jar"
upload="$(curl -sS -X POST -H "Expect:" -F "jarfile=@$jar" "$(rest_url /jars/upload)")" \
  || die "upload to $(rest_url /jars/upload) failed"
jar_path="$(printf '%s' "$upload" | sed -n 's/.*"filename":"\([^"]*\)".*/\1/p')"
[[ -n "$jar_path" ]] || die "upload rejected: $upload"
jar_id="$(basename "$jar_path")"

args_json=""
for a in "$@"; do args_json+="${args_json:+,}$(json_string "$a")"; done
body="{\"entryClass\":$(json_string "$main_class"),\"programArgsList\":[${args_json}]"
[[ -n "$parallelism" ]] && body+=",\"parallelism\":$parallelism"
body+="}"

log "running $main_class $*"
response="$(curl -sS -X POST -H 'Content-Type: application/json' -d "$body" "$(rest_url "/jars/$jar_id/run")")" \
  || die "request to $(rest_url "/jars/$jar_id/run") failed"
# The cluster keeps the job's own copy (blob store); the upload is no longer needed.
curl -sS -o /dev/null -X DELETE "$(rest_url "/jars/$jar_id")" || true
job_id="$(printf '%s' "$response" | sed -n 's/.*"jobid":"\([0-9a-f]*\)".*/\1/p')"
if [[ -z "$job_id" ]]; then
  printf '%s\n' "$response" | without_stack_frames >&2
  die "Flink refused the job (its answer above)"
fi

if ((wait_running)); then
  job_state() { curl -fsS "$(rest_url "/jobs/$job_id")" 2>/dev/null | sed -n 's/^{[^{]*"state":"\([A-Z]*\)".*/\1/p'; }
  deadline=$((SECONDS + STARTUP_TIMEOUT))
  while :; do
    state="$(job_state)"
    case "$state" in
      RUNNING|FINISHED) break ;;
      FAILED|CANCELED)
        curl -fsS "$(rest_url "/jobs/$job_id/exceptions")" 2>/dev/null | without_stack_frames >&2 || true
        die "job $job_id is $state (root exception above)" ;;
    esac
    ((SECONDS < deadline)) || die "job $job_id did not reach RUNNING within ${STARTUP_TIMEOUT}s (state: ${state:-unknown})"
    sleep 0.5
  done
  log "job $job_id is $state"
fi
echo "JOB_ID=$job_id"
