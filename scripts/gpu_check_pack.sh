#!/usr/bin/env bash
# Packs a built epochwatt for scripts/gpu_check.sh on a GPU machine that lacks the build
# dependencies (libcurl, nlohmann-json, googletest): the binaries, every shared library they need
# except glibc's own (taken from the target system), and the check's scripts.
#
#   bash scripts/gpu_check_pack.sh BUILD_DIR DEST_DIR
#   # then, on the GPU machine:  bash DEST_DIR/gpu_check.sh [OUT_DIR]
#
# BUILD_DIR must hold the targets epochwatt_cli, epochwatt_hw_tests and bench_nvml_calls. The C++
# runtime (libstdc++, libgcc_s) goes to lib/fallback and is used only where the target lacks one:
# a newer system libstdc++ must win, since the tracked job (PyTorch) may need it. The target's
# glibc must be at least the build machine's.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR DEST_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
dest=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bins=("$build/src/cli/epochwatt" "$build/tests/epochwatt_hw_tests" "$build/bench/bench_nvml_calls")
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "gpu_check_pack: $b not built" >&2; exit 1; }; done

rm -rf "$dest"
mkdir -p "$dest/bin/lib/fallback" "$dest/scripts"
cp "${bins[@]}" "$dest/bin/"
# Libraries as ldd resolves them (with the build's rpath), glibc's own left out.
ldd "${bins[@]}" | awk '/=> \// {print $1, $3}' | sort -u | while read -r name path; do
  case "$name" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libresolv.so.*|libutil.so.*) ;;
    libstdc++.so.*|libgcc_s.so.*) cp -L "$path" "$dest/bin/lib/fallback/$name" ;;
    *) cp -L "$path" "$dest/bin/lib/$name" ;;
  esac
done
strip --strip-debug "$dest/bin/epochwatt" "$dest/bin/epochwatt_hw_tests" "$dest/bin/bench_nvml_calls" \
  "$dest"/bin/lib/*.so* 2>/dev/null || true
cp "$here/gpu_check.sh" "$here/gpu_job.py" "$here/gpu_compare.py" "$dest/scripts/"
cat >"$dest/gpu_check.sh" <<'EOF'
#!/usr/bin/env bash
# Runs scripts/gpu_check.sh with the binaries packed beside it (scripts/gpu_check_pack.sh).
d=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EPOCHWATT_PREBUILT=$d/bin exec bash "$d/scripts/gpu_check.sh" "$@"
EOF
echo "packed into $dest: $(du -sh "$dest" | cut -f1)"
echo "highest glibc symbol version needed: $(objdump -T "$dest"/bin/epochwatt "$dest"/bin/lib/*.so* 2>/dev/null |
  grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)"
