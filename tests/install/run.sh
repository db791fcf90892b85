#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, then builds a consumer against it twice:
# through find_package(epochwatt) and through pkg-config. Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/epochwatt"
"$tmp/prefix/bin/epochwatt" --version

cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer")
echo "cmake consumer: $out"
case "$out" in *"energy_kwh 0.00158"*) ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac

libdir=$(ls -d "$tmp/prefix"/lib*/pkgconfig | head -n1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs epochwatt)
g++ "$src/tests/install/consumer/main.cpp" $flags -o "$tmp/pc-consumer"
out=$("$tmp/pc-consumer")
echo "pkg-config consumer: $out"
case "$out" in *"energy_kwh 0.00158"*) ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac

# The core layer alone: find_package(epochwatt COMPONENTS core) and pkg-config epochwatt-core.
# Neither its link line nor the program may name curl (or any library but threads and libc).
cmake -S "$src/tests/install/core_consumer" -B "$tmp/core" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/core" -- VERBOSE=1 > "$tmp/core-build.log"
out=$("$tmp/core/core_consumer")
echo "core consumer: $(echo $out)"
case "$out" in *"finished 2 epochs, 0.72 gCO2e"*"energy_kwh 0.002"*) ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac
link_line=$(grep -- "-o core_consumer" "$tmp/core-build.log")
for lib in curl nlohmann epochwatt_backends epochwatt_intensity epochwatt_report; do
  case "$link_line" in *"$lib"*) echo "the core consumer links $lib: $link_line" >&2; exit 1 ;; esac
done
if ldd "$tmp/core/core_consumer" | grep -i curl; then echo "the core consumer maps libcurl" >&2; exit 1; fi
if grep -q -a "libcurl" "$tmp/core/core_consumer"; then echo "the core consumer carries libcurl's name" >&2; exit 1; fi
core_flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs epochwatt-core)
case "$core_flags" in *curl*|*-ldl*) echo "epochwatt-core.pc names more than threads: $core_flags" >&2; exit 1 ;; esac
g++ "$src/tests/install/core_consumer/main.cpp" $core_flags -o "$tmp/pc-core-consumer"
out=$("$tmp/pc-core-consumer")
case "$out" in *"energy_kwh 0.002"*) echo "pkg-config core consumer: ok ($core_flags)" ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac

# The Python package, installed beside the rest (relative to the prefix), used from outside the
# build tree: the extension imports, a tracker measures, and `python3 -m epochwatt` runs the CLI.
if [ -n "${EPOCHWATT_PYTHON:-}" ]; then
  site=$(ls -d "$tmp/prefix"/lib/python3*/*-packages 2>/dev/null | head -n1)
  test -f "$site/epochwatt/__init__.py" && test -x "$site/epochwatt/_bin/epochwatt"
  out=$(cd "$tmp" && PYTHONPATH="$site" "$EPOCHWATT_PYTHON" -c '
import epochwatt
print(epochwatt.__file__)
with epochwatt.track("installed", sim_gpu="g", sim_gpu_watts=100, sim_gpu_util=1.0, components="gpu") as w:
    pass
print("window", w.result.joules >= 0, w.result.name)')
  echo "python consumer: $out"
  case "$out" in "$site/epochwatt/__init__.py"*"window True installed"*) ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac
  out=$(cd "$tmp" && PYTHONPATH="$site" "$EPOCHWATT_PYTHON" -m epochwatt --version)
  case "$out" in "epochwatt "*) echo "python -m epochwatt: $out" ;; *) echo "unexpected: $out" >&2; exit 1 ;; esac
fi
