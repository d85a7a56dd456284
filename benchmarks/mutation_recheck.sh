#!/usr/bin/env bash
# Re-check, against some test files, the mutants a finished benchmarks/mutation.sh run did not kill.
#
#   benchmarks/mutation_recheck.sh MODULE BEFORE_DIR TEST_FILE...
#   MUTANTS='fer_avalanche.stats.x_holm__mutmut_*' benchmarks/mutation_recheck.sh stats "" tests/test_stats.py
#
# MODULE is as for mutation.sh (``metrics``, ``strategies/plugins/rehearsal``). BEFORE_DIR is the
# module's folder of an earlier run (``$MUTATION_WORK/metrics``); every mutant it holds that was not
# killed there (survived, not reached by a test, or not checked before its time limit) is re-checked;
# with BEFORE_DIR empty, the globs in $MUTANTS are. The repository is copied to
# $RECHECK_WORK/<module> (default /tmp/fer-mutation-recheck), [tool.mutmut] is narrowed to MODULE and
# the TEST_FILEs, and `mutmut run NAMES...` runs bounded by $MUTATION_TIMEOUT seconds (default 1200).
# It prints how many of the re-checked mutants the tests killed and the ones still alive.
#
# Adding tests cannot revive a killed mutant, so when only test files were added since the earlier
# run, "killed there + killed here" is the score of the earlier run's tests plus the new ones
# (docs/testing.md). Mutants of a function whose source changed must be re-checked with every test.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
module=${1#fer_avalanche/}; module=${module%.py}; before=$2; shift 2
tests=("$@")
dir="${RECHECK_WORK:-/tmp/fer-mutation-recheck}/${module//\//_}"
names=$(python - "$before" <<'PY'
import json, os, pathlib, sys
before = sys.argv[1]
if not before:
    print(os.environ.get("MUTANTS", ""))
    raise SystemExit
killed = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # as in mutation.sh
for meta in pathlib.Path(before, "mutants").rglob("*.meta"):
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if code not in killed:
            print(name)
PY
)
if [ -z "$names" ]; then echo "nothing to re-check" >&2; exit 2; fi
rm -rf "$dir" && mkdir -p "$dir"
cp -rL "$REPO/fer_avalanche" "$REPO/tests" "$REPO/pyproject.toml" "$dir/"
find "$dir" -name __pycache__ -prune -exec rm -rf {} +
python - "$dir/pyproject.toml" "fer_avalanche/$module.py" "${tests[@]}" <<'PY'
import re, sys
path, module, *tests = sys.argv[1:]
text = open(path, encoding="utf-8").read()
quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"
text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = {quoted([module])}", text)
text = re.sub(r"(?ms)^pytest_add_cli_args_test_selection = \[.*?\]$",
              f"pytest_add_cli_args_test_selection = {quoted(tests)}", text)
open(path, "w", encoding="utf-8").write(text)
PY
echo "$names" > "$dir/recheck.txt"
start=$(date +%s)
# shellcheck disable=SC2046
(cd "$dir" && OMP_NUM_THREADS=1 timeout "${MUTATION_TIMEOUT:-1200}" mutmut run --max-children "${MUTATION_CHILDREN:-1}" \
  $(cat recheck.txt) > mutmut.log 2>&1)
status=$?
(cd "$dir" && python - "$module" "$(( ($(date +%s) - start) / 60 ))" "$status" <<'PY'
import fnmatch, json, pathlib, sys
module, minutes, status = sys.argv[1:]
patterns = pathlib.Path("recheck.txt").read_text().split()
killed = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}
for meta in pathlib.Path("mutants").rglob("*.meta"):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    names = sorted(n for n in codes if any(n == p or fnmatch.fnmatch(n, p) for p in patterns))
    alive = [n for n in names if codes[n] not in killed]
    print(f"{module}: re-checked {len(names)}, killed {len(names) - len(alive)}, alive {len(alive)}  "
          f"({minutes} min, mutmut exit {status})")
    for n in alive:
        print(f"    alive: {n} (exit {codes[n]})")
PY
)
