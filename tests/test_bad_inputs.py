"""User mistakes: one clear message naming the file/row/key, exit status 2, no traceback, nothing damaged.

Every case runs the real command line (``fer_avalanche.cli.main``). Every ``run`` case that fails
before training writes into a folder that already holds a finished run, with ``--overwrite``: a mistake
must be reported before the old run is replaced, so after each case the finished run's files must be
byte-identical. (Cases that need their own run folder, such as a damaged checkpoint, keep it.)
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "formats"))
from fixtures import fer2013_rows, write_corrupt_image, write_csv, write_fer2013_csv, write_image  # noqa: E402

from fer_avalanche.cli import main  # noqa: E402
from fer_avalanche.config import Scenario, scenario_to_toml  # noqa: E402

TINY = [
    "source.n=140",
    "targets.lab-a.n=70",
    "targets.lab-b.n=70",
    "model.width=4",
    "train.epochs=1",
    "adapt.epochs=1",
    "strategies.names=['ft-fc']",
    "strategies.options={}",
]


def _scenario_file(tmp: Path, text: str | None = None, name: str = "s.toml") -> Path:
    path = tmp / name
    path.write_text(text if text is not None else scenario_to_toml(Scenario.demo().with_overrides(TINY)))
    return path


def _edit(tmp: Path, old: str, new: str) -> Path:
    text = _scenario_file(tmp).read_text()
    assert old in text, old
    return _scenario_file(tmp, text.replace(old, new, 1))


def _run(tmp: Path, scenario: Path, *extra: str) -> list[str]:
    return [
        "run",
        str(scenario),
        "--out",
        str(tmp / "out"),
        "--cache-dir",
        str(tmp / "cache"),
        "--quiet",
        "--device",
        "cpu",
        "--no-tensorboard",
        *extra,
    ]


def _fer_csv(tmp: Path, bad_row: Callable[[list], None] | None = None) -> Path:
    rows = fer2013_rows()
    if bad_row:
        bad_row(rows)
    return write_fer2013_csv(tmp / "fer2013.csv", rows)


def _baseline_checkpoint(tmp: Path, scenario: Path) -> Path:
    from fer_avalanche.config import load_scenario
    from fer_avalanche.experiment.context import ExperimentContext

    path = ExperimentContext(load_scenario(scenario), "cpu", tmp / "cache").baseline_path(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _corrupt_checkpoint(tmp: Path) -> list[str]:
    scenario = _scenario_file(tmp)
    _baseline_checkpoint(tmp, scenario).write_bytes(b"not a checkpoint")
    return _run(tmp, scenario)


def _mismatched_checkpoint(tmp: Path) -> list[str]:
    from fer_avalanche.models import make_model

    scenario = _scenario_file(tmp)
    torch.save({"model": make_model(width=8).state_dict()}, _baseline_checkpoint(tmp, scenario))
    return _run(tmp, scenario)


def _pickled_checkpoint(tmp: Path) -> list[str]:
    scenario = _scenario_file(tmp)
    from fractions import Fraction

    torch.save({"model": Fraction(1, 2)}, _baseline_checkpoint(tmp, scenario))  # not loadable weights-only
    return _run(tmp, scenario)


def _corrupt_step_checkpoint(tmp: Path) -> list[str]:
    """An interrupted sequential run whose step checkpoint was damaged, resumed."""
    scenario = _edit(tmp, 'mode = "pairwise"', 'mode = "sequential"')
    out = tmp / "out"
    (out / "checkpoints").mkdir(parents=True)
    (out / "scenario.toml").write_text(scenario.read_text())
    (out / "checkpoints" / "ft-fc__sequence__s0.pt").write_bytes(b"\x80\x02 truncated")
    return _run(tmp, scenario, "--resume")


def _jaffe(
    tmp: Path, corrupt: str | None = None, names: tuple[str, ...] = ("KA.AN1.39.tiff", "KL.HA2.40.tiff")
):
    root = tmp / "jaffe"
    for name in names:
        write_image(root / name, size=(64, 64))
    if corrupt:
        write_corrupt_image(root / corrupt)
    return root


# (case id, argv maker, substrings the one-line message must contain)
CASES: list[tuple[str, Callable[[Path], list[str]], list[str]]] = [
    # --- scenario files
    (
        "unknown-top-level-key",
        lambda t: _run(t, _edit(t, 'mode = "pairwise"', 'mdoe = "pairwise"')),
        ["s.toml", "'mdoe'", "did you mean 'mode'"],
    ),
    ("unknown-nested-key", lambda t: _run(t, _edit(t, "width = 4", "widht = 4")), ["s.toml", "model.widht"]),
    (
        "wrong-type",
        lambda t: _run(t, _edit(t, "epochs = 1\nlr = 0.001", 'epochs = "one"\nlr = 0.001')),
        ["s.toml", "adapt.epochs must be int"],
    ),
    ("out-of-range", lambda t: _run(t, _edit(t, "lr = 0.001", "lr = -0.5")), ["s.toml", "adapt.lr"]),
    ("bad-mode", lambda t: _run(t, _edit(t, 'mode = "pairwise"', 'mode = "parallel"')), ["s.toml", "mode"]),
    ("unknown-strategy", lambda t: _run(t, _edit(t, '"ft-fc"', '"ft-fcc"')), ["s.toml", "ft-fcc", "ft-fc"]),
    (
        "unknown-strategy-option",
        lambda t: _run(t, _scenario_file(t), "--set", "strategies.options.ft-fc.alpha=1"),
        ["strategies.options.ft-fc.alpha"],
    ),
    ("toml-syntax", lambda t: _run(t, _scenario_file(t, "name = \n")), ["s.toml", "not valid TOML"]),
    ("missing-scenario-file", lambda t: _run(t, t / "nope.toml"), ["nope.toml", "not found"]),
    ("duplicate-dataset-names", lambda t: _run(t, _edit(t, 'name = "lab-b"', 'name = "lab-a"')), ["unique"]),
    (
        "bad-split-fractions",
        lambda t: _run(t, _scenario_file(t), "--set", "targets.lab-a.split.fractions=[0.5,0.6,0.1]"),
        ["targets.0.split.fractions"],
    ),
    (
        "unknown-format",
        lambda t: _run(
            t, _scenario_file(t), "--set", "source.format='fer2014'", "--set", f"source.root='{t}'"
        ),
        ["fer2014", "did you mean 'fer2013'"],
    ),
    (
        "missing-data-root-setting",
        lambda t: _run(t, _scenario_file(t), "--set", "source.format='jaffe'"),
        ["source.root"],
    ),
    (
        "data-root-does-not-exist",
        lambda t: _run(
            t, _scenario_file(t), "--set", "source.format='jaffe'", "--set", f"source.root='{t}/absent'"
        ),
        ["absent", "not found"],
    ),
    # --- command-line arguments
    (
        "set-without-equals",
        lambda t: _run(t, _scenario_file(t), "--set", "adapt.epochs"),
        ["adapt.epochs", "key=value"],
    ),
    (
        "set-unknown-target",
        lambda t: _run(t, _scenario_file(t), "--set", "targets.ckplus.root=/x"),
        ["'ckplus'"],
    ),
    ("bad-device", lambda t: _run(t, _scenario_file(t), "--device", "tpu"), ["device", "'tpu'"]),
    pytest.param(
        "cuda-absent",
        lambda t: _run(t, _scenario_file(t), "--device", "cuda"),
        ["cuda", "not available"],
        marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        id="cuda-absent",
    ),
    ("resume-nothing", lambda t: _run(t, _scenario_file(t), "--resume"), ["out", "nothing to resume"]),
    ("report-without-results", lambda t: ["report", str(t)], ["results.json"]),
    ("check-unknown-format", lambda t: ["data", "check", "jafe", str(t)], ["jafe", "did you mean 'jaffe'"]),
    (
        "check-bad-option",
        lambda t: ["data", "check", "fer2013", str(_fer_csv(t)), "--option", "bogus=1"],
        ["bogus"],
    ),
    # --- dataset files and folders
    ("missing-folder", lambda t: ["data", "check", "jaffe", str(t / "nowhere")], ["nowhere", "not found"]),
    ("file-instead-of-folder", lambda t: ["data", "check", "jaffe", str(_fer_csv(t))], ["fer2013.csv"]),
    (
        "layout-mismatch",
        lambda t: ["data", "check", "jaffe", str(_jaffe(t, names=("photo.png",)))],
        ["jaffe"],
    ),
    (
        "corrupt-image",
        lambda t: ["data", "check", "jaffe", str(_jaffe(t, corrupt="KM.SU1.41.tiff"))],
        ["KM.SU1.41.tiff"],
    ),
    (
        "fer2013-wrong-pixel-count",
        lambda t: [
            "data",
            "check",
            "fer2013",
            str(_fer_csv(t, lambda rows: rows.__setitem__(3, (rows[3][0], "1 2 3", rows[3][2])))),
        ],
        ["fer2013.csv", "line 5:"],
    ),
    (
        "fer2013-bad-emotion",
        lambda t: [
            "data",
            "check",
            "fer2013",
            str(_fer_csv(t, lambda rows: rows.__setitem__(2, (9, rows[2][1], rows[2][2])))),
        ],
        ["fer2013.csv", "line 4:"],
    ),
    (
        "csv-unknown-label",
        lambda t: [
            "data",
            "check",
            "csv",
            str(
                write_csv(
                    t / "list.csv",
                    ["path", "label"],
                    [(str(write_image(t / "a.png")), "happy"), (str(write_image(t / "b.png")), "bored")],
                )
            ),
        ],
        ["list.csv", "bored"],
    ),
    # --- checkpoints
    ("corrupt-checkpoint", _corrupt_checkpoint, [".pt", "cannot load"]),
    ("mismatched-checkpoint", _mismatched_checkpoint, [".pt", "does not match the model"]),
    ("pickled-object-checkpoint", _pickled_checkpoint, [".pt", "cannot load"]),
    ("corrupt-step-checkpoint", _corrupt_step_checkpoint, ["ft-fc__sequence__s0.pt", "cannot load"]),
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A folder holding a finished run's files, and their digests."""
    run = tmp_path_factory.mktemp("finished")
    (run / "scenario.toml").write_text(scenario_to_toml(Scenario.demo()))
    (run / "results.json").write_text('{"rows": []}\n')
    (run / "results.md").write_text("| strategy |\n")
    return run, {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()}


#: Cases that need a run folder of their own (they fail after a run folder was opened).
OWN_RUN_FOLDER = {
    "resume-nothing",
    "corrupt-checkpoint",
    "mismatched-checkpoint",
    "pickled-object-checkpoint",
    "corrupt-step-checkpoint",
}


def _case_id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


def test_suite_has_at_least_25_distinct_cases():
    assert len({_case_id(c) for c in CASES}) == len(CASES) >= 25


def _pointed_at(argv: list[str], run: Path) -> list[str]:
    """``argv`` writing into the finished run, with ``--overwrite``."""
    argv = list(argv)
    argv[argv.index("--out") + 1] = str(run)
    return [*argv, "--overwrite"]


@pytest.mark.parametrize(("case_id", "make_argv", "expected"), CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input_gives_one_clear_error(tmp_path, capsys, finished_run, case_id, make_argv, expected):
    argv = make_argv(tmp_path)
    if argv[0] == "run" and case_id not in OWN_RUN_FOLDER:
        argv = _pointed_at(argv, finished_run[0])
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, (case_id, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    message = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(message) == 1, err
    for text in expected:
        assert text in message[0], (text, message[0])
    run, digests = finished_run
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()} == digests


def test_finished_run_is_not_overwritten(finished_run, capsys):
    run, digests = finished_run
    status = main(["run", "--out", str(run), "--quiet"])
    assert status == 2 and "already exists" in capsys.readouterr().err
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()} == digests


def test_debug_flag_shows_the_traceback(tmp_path, capsys):
    assert main(["--debug", "report", str(tmp_path)]) == 2
    assert "Traceback" in capsys.readouterr().err
