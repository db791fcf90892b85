#!/usr/bin/env bash
# Installs the Debian 12 packages epochwatt needs to build, test and run its demo.
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

PACKAGES=(
  g++ make cmake pkg-config          # toolchain (C++20 with g++ 12, CMake 3.25)
  googletest libgtest-dev libgmock-dev  # tests
  libbenchmark-dev                   # bench/
  nlohmann-json3-dev                 # JSON
  libcli11-dev                       # the CLI's argument parsing (CLI11)
  libre2-dev                         # the CLI's epoch regexes (RE2: linear-time matching)
  libcurl4-openssl-dev               # HTTP for the live intensity providers
  libcpp-httplib-dev                 # local HTTP servers in the tests
  python3 python3-dev pybind11-dev   # the Python package (_epochwatt extension); tests/compat
  python3-setuptools python3-wheel python3-pip  # pip install --no-build-isolation . (setuptools backend)
  python3-pytest                     # the Python test suite (tests/python)
  python3-torch python3-sklearn      # the demo (a PyTorch CNN on scikit-learn's digits) and the DataLoader tests
  locales                            # a de_DE.UTF-8 locale for the locale-independence test
  prometheus                         # promtool and the server: the Prometheus textfile and /metrics tests
  openmpi-bin libopenmpi-dev python3-mpi4py  # multi-rank jobs: mpirun tests, the epochwatt_mpi target, mpi4py reduction
  slurm-wlm munge                    # a real single-node SLURM for the srun test (tests/cluster/slurm_srun.sh)
  chromium                           # epochwatt report --pdf, and the report's rendering test
  clang libclang-rt-14-dev llvm      # .ci/run's sanitizer builds and libFuzzer targets (clang 14, its
                                     # sanitizer and libFuzzer runtimes, llvm-symbolizer for their stacks)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The locale test needs a locale whose decimal separator is a comma.
need_locale() { ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; }

if [ ${#missing[@]} -eq 0 ] && ! need_locale; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "epochwatt setup: missing Debian packages: ${missing[*]}" >&2
    echo "run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "epochwatt setup: no de_DE.UTF-8 locale (the locale test will skip); as root: localedef -i de_DE -f UTF-8 de_DE.UTF-8" >&2
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "epochwatt setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if need_locale; then
  echo "epochwatt setup: generating the de_DE.UTF-8 locale"
  localedef -i de_DE -f UTF-8 de_DE.UTF-8
fi
