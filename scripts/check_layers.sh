#!/usr/bin/env bash
# Layer check: a lower layer must not include a higher one.
#
#   scripts/check_layers.sh [ROOT]     check the tree at ROOT (default: this repository)
#   scripts/check_layers.sh --self-test
#
# Prints one line per violation, "file:line: rule", and exits 1 if there is any (0 if none, 2 on
# a usage error). Every `#include "..."` and `#include <...>` line of the C++ files under the
# layers below is read; a quoted include is looked up next to the including file first (as the
# compiler does), then taken as relative to src/ or include/ (the include roots).
set -euo pipefail

# ----------------------------------------------------------------------------------------------
# The rules, lowest layer first. One row per layer:
#   folder | the project layers it may include (besides itself) | external headers it may not include
# A layer is a folder of src/ (core, meters, ...) or "public" (include/epochwatt, which every
# layer may include). An external pattern is a prefix of the <...> or "..." name: "nlohmann/"
# matches <nlohmann/json.hpp>, "fstream" only <fstream> (a pattern without "/" is whole-name).
RULES=(
  "src/core          | public                                          | curl/ nlohmann/ fstream"
  "src/meters        | public core                                     | curl/"
  "src/intensity     | public core                                     |"
  "src/report        | public core intensity                           | curl/"
  "src/defaults      | public core meters intensity report             |"
  "src/cli           | public core meters intensity report defaults    |"
  "src/python        | public core meters intensity report defaults    |"
  "src/mpi           | public core meters intensity report defaults    |"
  "include/epochwatt | public                                          | curl/ nlohmann/"
)
# Folders of src/ that are layers: an include naming one of these (e.g. "report/x.hpp") belongs
# to it. Anything else (the standard library, system and third-party headers, generated files) is
# checked only against the external patterns.
LAYERS=(core meters intensity report defaults cli python mpi)
# ----------------------------------------------------------------------------------------------

INCLUDE_RE='^[[:space:]]*#[[:space:]]*include[[:space:]]*(["<])([^">]+)[">]'

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

is_layer() {
  local l
  for l in "${LAYERS[@]}"; do [[ "$1" == "$l" ]] && return 0; done
  return 1
}

# The functions below answer in REPLY (no subshell per include line).

# REPLY: the layer (core, ..., public) a path relative to ROOT lies in, or "" if none.
layer_of_path() {
  local p="$1" rest first
  REPLY=""
  case "$p" in
    include/epochwatt/*) REPLY=public ;;
    src/*/*)
      rest="${p#src/}"
      first="${rest%%/*}"
      if is_layer "$first"; then REPLY="$first"; fi ;;
  esac
}

# REPLY: a relative path normalised (a/b/../c -> a/c), or "" if it climbs above the root.
normalise() {
  local IFS=/ part out=()
  for part in $1; do
    case "$part" in
      "" | .) ;;
      ..) if ((${#out[@]} == 0)); then REPLY=""; return; fi; unset 'out[${#out[@]}-1]' ;;
      *) out+=("$part") ;;
    esac
  done
  REPLY="${out[*]}"
}

# REPLY: the layer a header named in an include belongs to ("" for external ones).
layer_of_include() {
  local root="$1" file="$2" kind="$3" name="$4" n first
  if [[ "$kind" == '"' ]]; then
    normalise "${file%/*}/$name"
    # Next to the including file (the compiler's first place to look), or written as a path
    # relative to it (./x, ../x): the layer of where it lies.
    if [[ -n "$REPLY" && (-e "$root/$REPLY" || "$name" == ./* || "$name" == ../*) ]]; then
      layer_of_path "$REPLY"
      return
    fi
  fi
  n="$name"
  case "$n" in
    include/epochwatt/*) n="${n#include/}" ;;
    src/*) n="${n#src/}" ;;
  esac
  REPLY=""
  first="${n%%/*}"
  if [[ "$n" == epochwatt/* ]]; then
    REPLY=public
  elif [[ "$n" == */* ]] && is_layer "$first"; then
    REPLY="$first"
  fi
}

check() {
  local root="$1" violations=0 row folder allowed forbidden
  [[ -d "$root" ]] || { echo "check_layers: no such folder: $root" >&2; return 2; }
  for row in "${RULES[@]}"; do
    IFS='|' read -r folder allowed forbidden <<<"$row"
    folder="$(trim "$folder")"
    allowed="$(trim "$allowed")"
    forbidden="$(trim "$forbidden")"
    [[ -d "$root/$folder" ]] || continue
    layer_of_path "$folder/x"
    local self="$REPLY"
    local file
    while IFS= read -r -d '' file; do
      local rel="${file#"$root"/}" lineno=0 line
      while IFS= read -r line || [[ -n "$line" ]]; do
        lineno=$((lineno + 1))
        [[ "$line" =~ $INCLUDE_RE ]] || continue
        local kind="${BASH_REMATCH[1]}" name="${BASH_REMATCH[2]}"
        local shown="\"$name\""
        [[ "$kind" == "<" ]] && shown="<$name>"
        layer_of_include "$root" "$rel" "$kind" "$name"
        local target="$REPLY"
        if [[ -n "$target" && "$target" != "$self" && " $allowed " != *" $target "* ]]; then
          local where="src/$target"
          [[ "$target" == public ]] && where="include/epochwatt"
          echo "$rel:$lineno: $folder may not include $shown from $where (it may include: itself${allowed:+, ${allowed// /, }})"
          violations=$((violations + 1))
          continue
        fi
        if [[ -z "$target" && -n "$forbidden" ]]; then
          local pat
          for pat in $forbidden; do
            if [[ "$pat" == */ && "$name" == "$pat"* ]] || [[ "$pat" != */ && "$name" == "$pat" ]]; then
              echo "$rel:$lineno: $folder may not include $shown (forbidden there: $forbidden)"
              violations=$((violations + 1))
              break
            fi
          done
        fi
      done <"$file"
    done < <(find "$root/$folder" -type f \( -name '*.hpp' -o -name '*.h' -o -name '*.cpp' -o -name '*.cc' \
                -o -name '*.inc' -o -name '*.hpp.in' \) -print0 | sort -z)
  done
  if ((violations > 0)); then
    echo "check_layers: $violations violation(s)" >&2
    return 1
  fi
  return 0
}

self_test() {
  local tmp status=0 out
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/src/core" "$tmp/src/report" "$tmp/src/meters/rapl" "$tmp/src/cli" "$tmp/include/epochwatt"
  printf '#include "epochwatt/meter.hpp"\n#include "core/format.hpp"\n#include <string>\n' >"$tmp/src/core/format.cpp"
  printf '#pragma once\n' >"$tmp/src/core/format.hpp"
  printf '#include "core/format.hpp"\n#include "intensity/plan.hpp"\n' >"$tmp/src/report/r.cpp"
  printf '#include "rapl.hpp"\n#include "core/format.hpp"\n' >"$tmp/src/meters/rapl/rapl.cpp"
  printf '#pragma once\n' >"$tmp/src/meters/rapl/rapl.hpp"
  printf '#include "report/r.hpp"\n#include "meters/rapl/rapl.hpp"\n#include <nlohmann/json.hpp>\n' >"$tmp/src/cli/main.cpp"
  printf '#pragma once\n#include <string>\n#include "epochwatt/clock.hpp"\n' >"$tmp/include/epochwatt/meter.hpp"
  if ! out="$(check "$tmp" 2>&1)"; then
    echo "self-test: a clean tree failed:"; echo "$out"; status=1
  fi
  # Violations: core -> report, core -> <fstream>, core -> nlohmann, meters -> intensity (via a
  # relative path), public -> src/core and curl.
  printf '#include "report/r.hpp"\n  #  include <fstream>\n// #include "cli/x.hpp" (a comment)\n#include <nlohmann/json_fwd.hpp>\n' \
    >>"$tmp/src/core/format.cpp"
  printf '#include "../../intensity/plan.hpp"\n' >>"$tmp/src/meters/rapl/rapl.cpp"
  printf '#include "core/format.hpp"\n#include <curl/curl.h>\n' >>"$tmp/include/epochwatt/meter.hpp"
  local rc=0
  out="$(check "$tmp" 2>/dev/null)" || rc=$?
  local want=(
    "src/core/format.cpp:4: src/core may not include \"report/r.hpp\" from src/report"
    "src/core/format.cpp:5: src/core may not include <fstream>"
    "src/core/format.cpp:7: src/core may not include <nlohmann/json_fwd.hpp>"
    "src/meters/rapl/rapl.cpp:3: src/meters may not include \"../../intensity/plan.hpp\" from src/intensity"
    "include/epochwatt/meter.hpp:4: include/epochwatt may not include \"core/format.hpp\" from src/core"
    "include/epochwatt/meter.hpp:5: include/epochwatt may not include <curl/curl.h>"
  )
  if ((rc != 1)); then echo "self-test: a tree with violations exited $rc, not 1"; status=1; fi
  local w
  for w in "${want[@]}"; do
    grep -qF -- "$w" <<<"$out" || { echo "self-test: missing: $w"; status=1; }
  done
  if (($(grep -c . <<<"$out") != ${#want[@]})); then
    echo "self-test: expected ${#want[@]} lines, got:"; echo "$out"; status=1
  fi
  ((status == 0)) && echo "check_layers self-test: ok"
  return $status
}

case "${1:-}" in
  --self-test) self_test ;;
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
  -*) echo "usage: $0 [ROOT] | --self-test" >&2; exit 2 ;;
  *) check "$(cd "${1:-$(dirname "$0")/..}" && pwd)" ;;
esac
