#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the core modules, one module at a time with only its own tests.
#
#   benchmarks/mutation.sh                      # every core module (hours on 2 cores)
#   benchmarks/mutation.sh stats strategies/plugins/budget   # just these (paths under fer_avalanche/)
#
# For each module it copies the repository into $MUTATION_WORK/<module> (default /tmp/fer-mutation),
# narrows [tool.mutmut] of pyproject.toml there to that module and its tests, runs
# `mutmut run --max-children $MUTATION_CHILDREN` (default 1) bounded by $MUTATION_TIMEOUT seconds
# (default 1500), and prints: module, killed/tested, score, minutes, and the surviving mutants
# (`mutmut show NAME` in that folder prints one). Not part of CI. Needs: pip install -e '.[dev]'.
# See docs/testing.md for the scores measured and the surviving mutants judged equivalent.
#
# MUTATION_BEFORE=DIR (the MUTATION_WORK of an earlier full run, on the same source) re-checks only
# what that run did not kill (its survivors and the mutants it left unchecked) against the current
# tests, and scores the module as the earlier run's killed plus those killed now: "survivors
# re-checked on top of a full run", minutes instead of an hour when only tests were added.
#
# MUTANTS='GLOB ...' runs only the mutants whose names match (``fer_avalanche.stats.x_holm__mutmut_*``)
# and scores those alone (e.g. the mutants of a function whose source changed); MUTATION_TESTS='FILE ...'
# replaces the module's test files of the TESTS table below for this run.
#
# mutmut 3 never mutates a decorated function; a loader registered with @register_format(...) or a
# strategy with @register_strategy(...) is registered by a call after its def in the copy instead, so
# its body is measured too.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=${MUTATION_WORK:-/tmp/fer-mutation}
CHILDREN=${MUTATION_CHILDREN:-1}
LIMIT=${MUTATION_TIMEOUT:-1500}
BEFORE=${MUTATION_BEFORE:-}

# module (under fer_avalanche/, no .py) -> the test files that select its tests
declare -A TESTS=(
  [stats]="tests/test_stats.py tests/test_intervals.py tests/test_stats_numeric.py tests/test_stats_results.py"
  [metrics]="tests/test_metrics.py tests/test_memory_integrity_boundaries.py tests/test_metric_boundaries.py"
  [loaders]="tests/test_loaders.py tests/test_loader_rules.py"
  [strategies/plugins/budget]="tests/strategies/test_budget.py tests/strategies/test_budget_boundaries.py tests/strategies/test_budget_derived.py"
  [strategies/plugins/freeze]="tests/strategies/test_freeze.py tests/strategies/test_freeze_contract.py"
  [strategies/plugins/rehearsal]="tests/strategies/test_rehearsal.py tests/strategies/test_batch_share.py tests/strategies/test_rehearsal_contract.py"
  [strategies/plugins/validation]="tests/strategies/test_validation.py tests/strategies/test_validation_hooks.py"
  [strategies/registry]="tests/strategies/test_registry.py tests/strategies/test_batch_share.py tests/strategies/test_options_reach.py tests/strategies/test_make_strategy_wiring.py"
  [experiment/keys]="tests/experiment/test_keys.py tests/experiment/test_key_contents.py"
  [experiment/store]="tests/experiment/test_store.py tests/experiment/test_store_files.py"
  [experiment/context]="tests/experiment/test_context.py tests/experiment/test_wiring.py"
  [experiment/cell]="tests/experiment/test_cell_steps.py"
  [experiment/records]="tests/experiment/test_records.py tests/experiment/test_records_contents.py tests/test_memory_integrity_boundaries.py"
  [data/splits]="tests/data/test_splits.py tests/data/test_split_rules.py"
  [data/formats/fer2013]="tests/data/formats/test_fer2013.py tests/data/formats/test_fer2013_rules.py"
  [data/formats/jaffe]="tests/data/formats/test_jaffe.py tests/data/formats/test_jaffe_rules.py"
  [data/formats/ckplus]="tests/data/formats/test_ckplus.py tests/data/formats/test_ckplus_rules.py"
)
ORDER=(stats metrics loaders strategies/plugins/budget strategies/plugins/freeze strategies/plugins/rehearsal
  strategies/plugins/validation strategies/registry experiment/keys experiment/store experiment/context
  experiment/cell experiment/records data/splits data/formats/fer2013 data/formats/jaffe data/formats/ckplus)
MODULES=("$@")
[ ${#MODULES[@]} -eq 0 ] && MODULES=("${ORDER[@]}")

for module in "${MODULES[@]}"; do
  module=${module#fer_avalanche/}; module=${module%.py}
  tests=${MUTATION_TESTS:-${TESTS[$module]:-}}
  if [ -z "$tests" ]; then echo "unknown module $module (known: ${ORDER[*]})" >&2; exit 2; fi
  dir="$WORK/${module//\//_}"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -rL "$REPO/fer_avalanche" "$REPO/tests" "$REPO/pyproject.toml" "$dir/"  # -L: scenarios/ is a link
  find "$dir" -name __pycache__ -prune -exec rm -rf {} +
  python - "$dir/pyproject.toml" "fer_avalanche/$module.py" $tests <<'PY'
import re, sys
path, module, *tests = sys.argv[1:]
text = open(path, encoding="utf-8").read()
quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"
text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = {quoted([module])}", text)
text = re.sub(r"(?ms)^pytest_add_cli_args_test_selection = \[.*?\]$",
              f"pytest_add_cli_args_test_selection = {quoted(tests)}", text)
open(path, "w", encoding="utf-8").write(text)
PY
  # mutmut 3 never mutates a decorated function, so a loader (@register_format(...)) or a strategy
  # (@register_strategy(...)) would be left out whole; in the copy, the registration becomes a call
  # after the def (same effect)
  python - "$dir/fer_avalanche/$module.py" <<'PY'
import sys

import libcst as cst  # a dependency of mutmut 3


REGISTERING = {"register_format", "register_strategy"}


class Undecorate(cst.CSTTransformer):
    def leave_Module(self, original, updated):
        body = []
        for stmt in updated.body:
            calls = []
            if isinstance(stmt, cst.FunctionDef):
                calls = [d for d in stmt.decorators if cst.ensure_type(d, cst.Decorator)
                         and isinstance(d.decorator, cst.Call)
                         and getattr(d.decorator.func, "value", "") in REGISTERING]
            if not calls:
                body.append(stmt)
                continue
            body.append(stmt.with_changes(decorators=[d for d in stmt.decorators if d not in calls]))
            expr = cst.Name(stmt.name.value)
            for d in reversed(calls):
                expr = cst.Call(func=d.decorator, args=[cst.Arg(expr)])
            body.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(stmt.name.value))], expr)]))
        return updated.with_changes(body=body)


path = sys.argv[1]
text = open(path, encoding="utf-8").read()
if any(f"@{name}" in text for name in REGISTERING):
    open(path, "w", encoding="utf-8").write(cst.parse_module(text).visit(Undecorate()).code)
PY
  before=""
  names=()
  if [ -n "$BEFORE" ]; then
    before="$BEFORE/${module//\//_}"
    [ -d "$before/mutants" ] || { echo "no earlier run of $module in $BEFORE" >&2; exit 2; }
    mapfile -t names < <(python - "$before" <<'PY'
import json, pathlib, sys
killed_codes = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}
for meta in sorted(pathlib.Path(sys.argv[1], "mutants").rglob("*.meta")):
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if code not in killed_codes:
            print(name)
PY
    )
  fi
  if [ -n "${MUTANTS:-}" ]; then
    read -r -a names <<< "$MUTANTS"
  fi
  start=$(date +%s)
  if [ -n "$before" ] && [ ${#names[@]} -eq 0 ]; then
    status=0  # the earlier run killed everything
  else
    (cd "$dir" && OMP_NUM_THREADS=1 timeout "$LIMIT" mutmut run --max-children "$CHILDREN" "${names[@]}" \
      > mutmut.log 2>&1)
    status=$?
  fi
  minutes=$(python -c "print(round(($(date +%s) - $start) / 60, 1))")
  (cd "$dir" && python - "$module" "$minutes" "$status" "$before" <<'PY'
import fnmatch, json, os, pathlib, sys
module, minutes, status, before = sys.argv[1:]
killed_codes = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # killed, timeout, type check, crash


def codes(root):
    out = {}
    for meta in pathlib.Path(root, "mutants").rglob("*.meta"):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


now = codes(".")
results, note = now, ""
patterns = os.environ.get("MUTANTS", "").split()
if patterns:  # only the mutants asked for
    results = {k: v for k, v in now.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    note = f"  (only MUTANTS={' '.join(patterns)})"
if before:  # the earlier run's verdicts stand for what it killed; the rest are this run's
    earlier = codes(before)
    todo = {k for k, v in earlier.items() if v not in killed_codes}
    results = {**earlier, **{k: now.get(k) for k in todo}}
    note = f"  (re-checked {sum(now.get(k) is not None for k in todo)} of the {len(todo)} not killed in {before})"
counts = {"killed": 0, "survived": 0, "not checked": 0}
survivors = []
for name, code in results.items():
    if code is None:
        counts["not checked"] += 1
    elif code in killed_codes:
        counts["killed"] += 1
    else:  # 0 survived, 5/33 no test reaches it, 35 suspicious
        counts["survived"] += 1
        survivors.append(f"{name} (exit {code})")
tested = counts["killed"] + counts["survived"]
score = 100 * counts["killed"] / tested if tested else 0.0
note += "" if status == "0" else f"  [mutmut exit {status}{': time limit' if status == '124' else ''}]"
print(f"{module}: {counts['killed']}/{tested} killed = {score:.1f}%  "
      f"({counts['not checked']} not checked)  {minutes} min{note}")
for s in sorted(survivors):
    print(f"    survived: {s}")
PY
  )
done
