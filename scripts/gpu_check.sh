#!/usr/bin/env bash
# The check on a machine with a real NVIDIA GPU (docs/performance.md, "On a real H100"):
#   1. builds epochwatt (or takes prebuilt binaries, below);
#   2. prints the machine, the GPU and the driver, `epochwatt devices` and `epochwatt devices --json`;
#   3. runs the hardware tests (tests/hw, label hw) and bench_nvml_calls (what the real NVML calls
#      cost, how often their values change);
#   4. runs a short tracked GPU job through the CLI, scripts/gpu_job.py (PyTorch matrix products on
#      CUDA in 5 epochs of varying load, about 30 s), which reads NVML's energy counter itself at
#      each epoch boundary;
#   5. compares each epoch's GPU energy in epochwatt's JSON summary with the job's counter
#      differences (scripts/gpu_compare.py);
#   6. runs and compares the same job again with --devices-by-pid (the GPU gated by the job's
#      process tree, spec D9).
#
#   bash scripts/gpu_check.sh [OUT_DIR]          (default build-gpu-check/out)
#
# Environment:
#   EPOCHWATT_PREBUILT=DIR   use DIR/epochwatt, DIR/epochwatt_hw_tests, DIR/bench_nvml_calls and
#                            the libraries in DIR/lib instead of building (for a GPU machine without
#                            the build dependencies of scripts/setup.sh). DIR/lib is put on
#                            LD_LIBRARY_PATH for epochwatt's own binaries only, never for the job.
#   GPU_CHECK_EPOCHS=N       epochs of the job (default 5)
#   GPU_CHECK_SKIP_HW=1      skip step 3 (hardware tests and NVML call costs)
#   PYTHON=python3           the Python that has torch (with CUDA) and nvidia-ml-py
#
# Without a GPU, torch or pynvml the GPU steps are skipped with a one-line reason; the script still
# prints what epochwatt finds. Exit status: 0 when every step that ran passed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build-gpu-check/out}
epochs=${GPU_CHECK_EPOCHS:-5}
python=${PYTHON:-python3}
mkdir -p "$out" || { echo "gpu_check: cannot create $out" >&2; exit 1; }
out=$(cd "$out" && pwd)

failed=()
step() { echo; echo "=== $* ==="; }
fail() { echo "gpu_check: FAILED: $*"; failed+=("$*"); }

# --- 1. binaries --------------------------------------------------------------------------------
orig_ld=${LD_LIBRARY_PATH-__unset__}
if [ -n "${EPOCHWATT_PREBUILT:-}" ]; then
  bin=$(cd "$EPOCHWATT_PREBUILT" && pwd) || { echo "gpu_check: no directory $EPOCHWATT_PREBUILT" >&2; exit 1; }
  cli=$bin/epochwatt hw=$bin/epochwatt_hw_tests calls=$bin/bench_nvml_calls
  ew_env=(env "LD_LIBRARY_PATH=$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  # A system without a C++ runtime (rare): the one shipped in lib/fallback, if any.
  if [ -d "$bin/lib/fallback" ] && "${ew_env[@]}" ldd "$cli" 2>/dev/null | grep -q 'not found'; then
    ew_env=(env "LD_LIBRARY_PATH=$bin/lib:$bin/lib/fallback${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  fi
  step "prebuilt binaries in $bin"
  "${ew_env[@]}" ldd "$cli" | grep -E 'not found|libepochwatt|libcurl|libstdc' || true
else
  build=$root/build-gpu-check
  step "build ($build)"
  if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEPOCHWATT_BUILD_EXAMPLES=OFF &&
         cmake --build "$build" -j"$(nproc)" --target epochwatt_cli epochwatt_hw_tests bench_nvml_calls; }; then
    echo "gpu_check: the build failed (dependencies: bash scripts/setup.sh)" >&2
    exit 1
  fi
  cli=$build/src/cli/epochwatt hw=$build/tests/epochwatt_hw_tests calls=$build/bench/bench_nvml_calls
  ew_env=(env)
fi
# The job runs with the environment this script was started with.
if [ "$orig_ld" = __unset__ ]; then job_env=(env -u LD_LIBRARY_PATH); else job_env=(env "LD_LIBRARY_PATH=$orig_ld"); fi

# --- 2. machine, GPU, devices --------------------------------------------------------------------
step "machine"
date -u '+%Y-%m-%d %H:%M:%S UTC'
uname -srm
grep -m1 'model name' /proc/cpuinfo || true
echo "nproc: $(nproc)"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=index,name,driver_version,power.limit,power.draw,temperature.gpu,clocks.sm \
    --format=csv 2>&1 || true
else
  echo "nvidia-smi: not found"
fi

step "epochwatt --version"
"${ew_env[@]}" "$cli" --version || fail "epochwatt --version"
step "epochwatt devices"
"${ew_env[@]}" "$cli" devices || fail "epochwatt devices"
step "epochwatt devices --json"
if "${ew_env[@]}" "$cli" devices --json >"$out/devices.json"; then cat "$out/devices.json"; else fail "epochwatt devices --json"; fi

# --- 3. hardware tests, NVML call costs ----------------------------------------------------------
step "hardware tests (tests/hw)"
if [ -n "${GPU_CHECK_SKIP_HW:-}" ]; then
  echo "skipped: GPU_CHECK_SKIP_HW is set"
elif [ -x "$hw" ]; then
  "${ew_env[@]}" "$hw" || fail "hardware tests"
else
  echo "skipped: no $hw"
fi
step "bench_nvml_calls (real NVML: cost per call, update periods; GPU idle)"
if [ -n "${GPU_CHECK_SKIP_HW:-}" ]; then
  echo "skipped: GPU_CHECK_SKIP_HW is set"
elif [ -x "$calls" ]; then
  "${ew_env[@]}" "$calls" 300 3 || fail "bench_nvml_calls"
else
  echo "skipped: no $calls"
fi

# --- 4. a tracked GPU job --------------------------------------------------------------------------
step "tracked GPU job: $epochs epochs of scripts/gpu_job.py"
if ! "${job_env[@]}" "$python" -c 'import torch, pynvml, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "skipped: $python cannot import torch and pynvml, or torch sees no CUDA device"
else
  rm -rf "$out/logs"
  cmd=("${ew_env[@]}" "$cli" --epochs "$epochs" --epoch-regex '^gpu_job epoch [0-9]+ end'
       --components gpu --log-dir "$out/logs" --json "$out/run.json"
       -- "${job_env[@]}" "$python" -u "$here/gpu_job.py" --epochs "$epochs")
  printf '%q ' "${cmd[@]}"; echo
  # The job's stdout (its epoch lines) to job_stdout.txt, epochwatt's console and the job's stderr
  # to epochwatt_stderr.txt; both shown as they come.
  timeout 300 "${cmd[@]}" > >(tee "$out/job_stdout.txt") 2> >(tee "$out/epochwatt_stderr.txt" >&2)
  rc=$?
  sleep 0.2  # let the two tee processes finish writing
  echo "exit status: $rc"
  [ "$rc" -eq 0 ] || fail "tracked job (exit status $rc)"

  # --- 5. comparison -----------------------------------------------------------------------------
  step "epochwatt against the job's own NVML counter reads"
  "$python" "$here/gpu_compare.py" "$out/job_stdout.txt" "$out/run.json" || fail "comparison"

  # --- 6. the same job with --devices-by-pid (spec D9) -------------------------------------------
  # The GPU counts only while a process of epochwatt's tree runs on it: the job's process appears
  # in NVML's list once CUDA is initialised. Where NVML reports PIDs of another namespace (a
  # container without the host's PID namespace) the GPU counts 0 J, and this step says so.
  step "tracked GPU job with --devices-by-pid"
  rm -rf "$out/logs_by_pid"
  cmd=("${ew_env[@]}" "$cli" --devices-by-pid --epochs "$epochs" --epoch-regex '^gpu_job epoch [0-9]+ end'
       --components gpu --log-dir "$out/logs_by_pid" --json "$out/run_by_pid.json"
       -- "${job_env[@]}" "$python" -u "$here/gpu_job.py" --epochs "$epochs")
  printf '%q ' "${cmd[@]}"; echo
  timeout 300 "${cmd[@]}" > >(tee "$out/job_stdout_by_pid.txt") 2> >(tee "$out/epochwatt_stderr_by_pid.txt" >&2)
  rc=$?
  sleep 0.2
  echo "exit status: $rc"
  [ "$rc" -eq 0 ] || fail "tracked job with --devices-by-pid (exit status $rc)"
  "$python" "$here/gpu_compare.py" "$out/job_stdout_by_pid.txt" "$out/run_by_pid.json" ||
    fail "comparison with --devices-by-pid"
fi

step "summary"
if [ ${#failed[@]} -eq 0 ]; then
  echo "gpu_check: every step that ran passed (outputs in $out)"
  exit 0
fi
printf 'gpu_check: failed: %s\n' "${failed[@]}"
exit 1
