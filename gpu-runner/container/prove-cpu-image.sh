#!/usr/bin/env bash
# Proves the runner image's CPU form: builds it (buildah, chroot isolation, from the local bases of
# make-bases.sh), starts a registry on this machine at 127.0.0.1 with no runner of its own, submits a
# real tune job through the CLI, and runs the image's entrypoint command with `buildah run --isolation
# chroot` (which shares this machine's network namespace, so the container reaches 127.0.0.1). The
# image's runner must claim the job, complete it (a published LoRA version) and exit when idle.
# Writes gpu-runner/container/RESULTS-cpu-image.md. Slow (minutes), so not part of the test suite.
#   sudo bash gpu-runner/container/prove-cpu-image.sh      (needs mmdebstrap and buildah; root)
# Where TLS to the npm registry is intercepted, CA_FILE (default $NODE_EXTRA_CA_CERTS) is lent to
# the build as a secret.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=gpu-runner/container/RESULTS-cpu-image.md
IMAGE=${IMAGE:-localhost/motion-lora-runner:cpu}
NODE_IMAGE=${NODE_IMAGE:-localhost/motion-lora-base/node:20-bookworm}
CPU_BASE=${CPU_BASE:-localhost/motion-lora-base/debian:bookworm}
CA_FILE=${CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}
CLIP=examples/clips/single-object-1.png
CAPTION="a white diamond on a striped black background"
SPATIAL=5
TEMPORAL=20
IDLE_EXIT=10

work=$(mktemp -d /tmp/motion-lora-prove.XXXXXX)
reg_pid=""
tune_pid=""
ctr=""
cleanup() {
  [ -n "$tune_pid" ] && kill "$tune_pid" 2>/dev/null || true
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ml() { node bin/motion-lora.js "$@"; }

echo "== bases and image"
NODE_IMAGE=$NODE_IMAGE DEBIAN_IMAGE=$CPU_BASE bash gpu-runner/container/make-bases.sh >"$work/bases.log" 2>&1 || { cat "$work/bases.log"; exit 1; }
secret=()
[ -n "$CA_FILE" ] && secret=(--secret "id=ca,src=$CA_FILE")
t0=$(now)
buildah bud --isolation chroot --target cpu -f gpu-runner/Containerfile "${secret[@]}" \
  --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg CPU_BASE="$CPU_BASE" -t "$IMAGE" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
build_s=$(secs "$t0" "$(now)")
image_id=$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" | cut -c1-12)
size_h=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
base_h=$(buildah images --format '{{.Size}}' "$CPU_BASE" | head -1)

echo "== what the image holds"
ctr=$(buildah from "$IMAGE")
mnt=$(buildah mount "$ctr")
du_app=$(du -sm "$mnt/app" | cut -f1)
du_nm=$(du -sm "$mnt/app/node_modules" | cut -f1)
du_model=$(du -sm "$mnt/app/gpu-runner/artifacts" | cut -f1)
du_node=$(du -sm "$mnt/usr/local/bin/node" | cut -f1)
tops=$(ls "$mnt/app" | tr '\n' ' ')
runner_parts=$(ls "$mnt/app/gpu-runner" | tr '\n' ' ')
tests=$(find "$mnt/app" -path "$mnt/app/node_modules" -prune -o -name '*.test.ts' -print | wc -l)
bench=$(cd "$mnt/app" && find gpu-runner/evaluation -type f | sort | tr '\n' ' ')
deps=$(ls "$mnt/app/node_modules" | tr '\n' ' ')
buildah umount "$ctr" >/dev/null
[ -e "$mnt/app/registry" ] && { echo "the image carries registry/" >&2; exit 1; }
user=$(buildah run --isolation chroot "$ctr" -- id -u)
entry=$(buildah inspect --format '{{.OCIv1.Config.Entrypoint}} user {{.OCIv1.Config.User}}' "$IMAGE")
env_defaults=$(buildah inspect --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$IMAGE" | grep '^MOTION_LORA_' | tr '\n' ' ')
[ "$user" = 10001 ] || { echo "the image runs as uid $user, not 10001" >&2; exit 1; }

echo "== registry on 127.0.0.1"
export MOTION_LORA_HOME="$work/registry"
export XDG_CONFIG_HOME="$work/config"
ml registry start --host 127.0.0.1 --port 0 --runner off --log json >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 1 120); do grep -q "listening on" "$work/registry.log" && break; sleep 0.5; done
url=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/registry.log" | head -1 | sed 's/listening on //')
[ -n "$url" ] || { cat "$work/registry.log"; exit 1; }
user_token=$(ml keys create --owner alice --scope read,write | head -1)
runner_token=$(ml keys create --owner runners --scope runner | head -1)

echo "== tune job submitted to $url (spatial $SPATIAL, temporal $TEMPORAL steps)"
t_submit=$(now)
MOTION_LORA_REGISTRY=$url MOTION_LORA_TOKEN=$user_token ml tune "$CLIP" --prompt "$CAPTION" --lora alice/container-proof \
  --title "Container proof" --category single-object --spatial-steps $SPATIAL --temporal-steps $TEMPORAL --seed 1 --json >"$work/tune.json" 2>"$work/tune.err" &
tune_pid=$!

echo "== the image's runner (buildah run --isolation chroot)"
t_run=$(now)
buildah run --isolation chroot \
  --env MOTION_LORA_REGISTRY="$url" --env MOTION_LORA_TOKEN="$runner_token" --env MOTION_LORA_IDLE_EXIT=$IDLE_EXIT \
  "$ctr" -- motion-lora runner start >"$work/runner.log" 2>&1 || runner_rc=$?
runner_rc=${runner_rc:-0}
t_exit=$(now)
tune_rc=0
wait "$tune_pid" || tune_rc=$?
tune_pid=""
cat "$work/runner.log"

at() { # seconds from the container's start to the first runner line matching $1
  local ts
  ts=$(grep -m1 "$1" "$work/runner.log" | sed -n 's/.*"ts":"\([^"]*\)".*/\1/p')
  [ -n "$ts" ] && secs "$t_run" "$(date -d "$ts" +%s.%N)" || echo "-"
}
started=$(at '"msg":"runner started"')
claimed=$(at '"msg":"job claimed"')
succeeded=$(at '"msg":"job succeeded"')
idle=$(at '"msg":"idle; exiting"')
job_id=$(grep -m1 '"msg":"job claimed"' "$work/runner.log" | sed -n 's/.*"job":"\([^"]*\)".*/\1/p')
version=$(node -e 'const v=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(`${v.owner}/${v.name}@${v.version} (stage ${v.stage}, engine ${v.tuning_config.engine}, temporal steps ${v.tuning_config.temporalSteps}, job ${v.job_id}, file sha256 ${v.file_sha256.slice(0,16)}…, ${v.samples.length} sample(s), preview ${v.preview_sha256 ? "yes" : "no"})`)' "$work/tune.json" 2>/dev/null || echo "none")
show=$(MOTION_LORA_REGISTRY=$url MOTION_LORA_TOKEN=$user_token ml show alice/container-proof@1 2>&1 | head -3 | tr '\n' ' ')
verdict=PASS
{ [ "$runner_rc" = 0 ] && [ "$tune_rc" = 0 ] && [ -n "$job_id" ] && [ "$version" != none ] && [ "$idle" != - ]; } || verdict=FAIL

cat >"$OUT" <<EOF
# The runner image, CPU form: a real tune job from a registry on the host

Made by \`gpu-runner/container/prove-cpu-image.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m), $(. /etc/os-release && echo "$PRETTY_NAME"); buildah $(buildah --version | awk '{print $3}')). One run (n = 1). Verdict: **$verdict**.

## The image

| | |
| --- | --- |
| image | \`$IMAGE\` ($image_id), built in ${build_s} s with \`buildah bud --isolation chroot --target cpu\` |
| size | **$size_h** (buildah's figure); of it: base \`$CPU_BASE\` $base_h, node ${du_node} MB, /app ${du_app} MB (node_modules ${du_nm} MB, model artifacts ${du_model} MB) |
| bases | \`$CPU_BASE\`: Debian bookworm by mmdebstrap (minbase); \`$NODE_IMAGE\`: the same plus this machine's node $(node --version) and npm (Debian bookworm's nodejs is $(apt-cache policy nodejs 2>/dev/null | grep -o '18\.[0-9.]*' | head -1), below the runner's 20) |
| entrypoint, user | $entry; \`id -u\` in the image: $user |
| defaults | $env_defaults |
| /app | $tops |
| /app/gpu-runner | $runner_parts |
| evaluation files (read by recipes' evidence) | $bench |
| node_modules | $deps |
| test files | $tests |

## The job

Registry: \`motion-lora registry start --host 127.0.0.1 --port 0 --runner off\` on the host ($url), so
no runner but the image's could claim. The job: \`motion-lora tune $CLIP --prompt "$CAPTION"
--spatial-steps $SPATIAL --temporal-steps $TEMPORAL --seed 1\`, submitted just before the container started.
The container: \`buildah run --isolation chroot --env MOTION_LORA_REGISTRY=$url --env MOTION_LORA_TOKEN=<runner key>
--env MOTION_LORA_IDLE_EXIT=$IDLE_EXIT <container> -- motion-lora runner start\` (the entrypoint's command;
\`buildah run\` does not apply ENTRYPOINT). The chroot shares the host's network namespace: 127.0.0.1 inside is the host's.

| seconds from the container's start | |
| --- | --- |
| runner started (model loaded) | $started |
| job claimed | $claimed |
| job succeeded | $succeeded |
| idle; exiting | $idle |
| container exited (exit code $runner_rc) | $(secs "$t_run" "$t_exit") |

Job \`$job_id\`. The CLI's \`tune\` (exit code $tune_rc, $(secs "$t_submit" "$t_exit") s from submission to the
container's exit) published: $version.
\`motion-lora show alice/container-proof@1\`: $show

The runner's log (JSON lines, from the container):

\`\`\`
$(sed "s/\x1b\[[0-9;]*m//g" "$work/runner.log" | cut -c1-300)
\`\`\`
EOF
echo "== $verdict: wrote $OUT"
[ "$verdict" = PASS ]
