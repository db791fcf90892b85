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
