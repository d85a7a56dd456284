"""The ``fer-avalanche`` command line: a thin layer over the Python API.

Commands:
    fer-avalanche run [SCENARIO] [--out DIR] [--device auto|cpu|cuda] [--set key=value ...] [--resume]
                      [--overwrite] [--executor serial|local|dask] [--workers N] [--scheduler ADDR]
    fer-avalanche data check NAME ROOT [--json] [--label-space basic7|basic8] [--option key=value ...]
    fer-avalanche data show NAME ROOT [--out PNG] [--per-class N] [same loading options as check]
    fer-avalanche data show synthetic [DOMAIN|all] [--out PNG]
    fer-avalanche report RUN_DIR [--compare A B [--variant V [--variant-b W]]] [--json] [--n-boot N]
    fer-avalanche evaluate MODEL [NAME ROOT] [--split test|all] [--json] [--out DIR]
    fer-avalanche evaluate RUN_DIR --strategy S --target T [--seed K] [--fold F] [NAME ROOT] ...
    fer-avalanche list strategies|formats|domains|scenarios

User mistakes (a bad scenario key, a missing folder, a corrupt checkpoint) print one ``error:`` line
and exit with status 2; ``--debug`` shows the Python traceback instead.

Example:
    $ fer-avalanche run                              # the built-in synthetic demo
    $ fer-avalanche run scenarios/paper.toml --set source.root=~/data/fer2013.csv --device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_avalanche import __version__
from fer_avalanche.errors import ConfigError, FERAvalancheError

if TYPE_CHECKING:
    from fer_avalanche.config import Scenario

__all__ = ["main", "build_parser"]

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="fer-avalanche",
        description="Continual learning for cross-dataset facial expression recognition (Avalanche).",
    )
    parser.add_argument("--version", action="version", version=f"fer-avalanche {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario (default: the built-in synthetic demo)")
    run.add_argument("scenario", nargs="?", help="scenario TOML file, or the name of a bundled one (demo)")
    run.add_argument("--out", type=Path, help="run directory (default: runs/<name>-<time>)")
    run.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set adapt.epochs=5 (repeatable)",
    )
    run.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    run.add_argument("--overwrite", action="store_true", help="allow writing into an existing run directory")
    run.add_argument("--cache-dir", type=Path, help="decode cache and baseline checkpoints")
    run.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    run.add_argument(
        "--save-models",
        action="store_true",
        help="write the baselines and every adapted network to RUN_DIR/models (= --set save_models=true)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    run.add_argument(
        "--executor",
        default="serial",
        choices=("serial", "local", "dask"),
        help="serial (default: this process), local (a Dask cluster of --workers processes here), "
        "dask (the cluster at --scheduler)",
    )
    run.add_argument("--workers", type=int, help="worker processes of --executor local (default: CPU count)")
    run.add_argument("--scheduler", help="Dask scheduler address for --executor dask, e.g. tcp://host:8786")
    run.add_argument(
        "--threads", type=int, help="CPU threads per cell (default: all cores; local: cores // workers)"
    )

    data = sub.add_parser("data", help="dataset tools")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    check = data_sub.add_parser("check", help="load a dataset and report what was found")
    check.add_argument("name", help="dataset format (see `fer-avalanche list formats`)")
    check.add_argument("root", type=Path, help="the dataset's folder or file")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    _add_loading_options(check)
    show = data_sub.add_parser("show", help="draw a grid of preprocessed faces per class as a PNG")
    show.add_argument("name", help="dataset format, or 'synthetic' for the synthetic domains")
    show.add_argument("root", nargs="?", help="the dataset's folder or file (synthetic: a domain or 'all')")
    show.add_argument("--out", type=Path, help="PNG file to write (default: <name>_faces.png)")
    show.add_argument("--per-class", type=int, default=8, help="faces per class (default 8)")
    show.add_argument("--seed", type=int, default=0, help="which faces are drawn (default 0)")
    show.add_argument("--domain", help="synthetic: the domain to draw (same as ROOT)")
    _add_loading_options(show)

    report = sub.add_parser(
        "report", help="re-render tables and plots of a run directory, or compare two strategies"
    )
    report.add_argument("run_dir", type=Path)
    report.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="print the paired difference A - B per target (target acc, source acc, MI) with 95%% intervals",
    )
    report.add_argument(
        "--variant",
        metavar="V",
        help="a sweep's run: compare within this variant (its index or key=value terms, e.g. budget=steps)",
    )
    report.add_argument(
        "--variant-b",
        metavar="W",
        help="with --variant: compare A in variant V against B in variant W (A and B may be one strategy)",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    report.add_argument("--n-boot", type=int, default=1000, help="bootstrap draws (default 1000)")

    ev = sub.add_parser(
        "evaluate",
        help="score a saved model on a dataset (any format): accuracy, macro-F1, per-class recall",
        description="MODEL is a saved model (RUN_DIR/models/<strategy>__<target>__s<seed>.pt), or a run "
        "directory with --strategy and --target. NAME ROOT is a dataset format and its folder (synthetic: "
        "a domain); without them, the dataset the model was trained on last, split as in its run.",
    )
    ev.add_argument("model", help="a saved .pt file, or a run directory (then --strategy, --target)")
    ev.add_argument("name", nargs="?", help="dataset format (see `fer-avalanche list formats`), or synthetic")
    ev.add_argument("root", nargs="?", help="the dataset's folder or file (synthetic: a domain name)")
    ev.add_argument("--strategy", help="with a run directory: the strategy (baseline: the seed's baseline)")
    ev.add_argument("--target", help="with a run directory: the target (sequences: 'sequence')")
    ev.add_argument("--seed", type=int, help="with a run directory: the run seed (default: the lowest saved)")
    ev.add_argument("--fold", type=int, help="with a run directory: the fold of a k-fold target")
    ev.add_argument("--split", default="test", choices=("test", "all"), help="test (default) or all images")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--out", type=Path, help="folder for the confusion-matrix PNG")
    ev.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ev.add_argument(
        "--n-boot", type=int, default=1000, help="bootstrap draws of the intervals (default 1000)"
    )
    ev.add_argument("--cache-dir", type=Path)
    ev.add_argument("--face-crop", choices=("none", "center", "detect", "auto"), help="override the framing")
    ev.add_argument("--face-margin", type=float, help="override the face box's margin")
    ev.add_argument("--detect-fallback", choices=("center", "skip"))
    ev.add_argument("--skip-corrupt", action="store_true", help="skip unreadable files (counted)")
    ev.add_argument(
        "--option", dest="options", action="append", default=[], metavar="KEY=VALUE", help="format setting"
    )

    lister = sub.add_parser("list", help="list registered strategies, dataset formats, synthetic domains")
    lister.add_argument("what", choices=("strategies", "formats", "domains", "scenarios"))
    return parser


def _add_loading_options(parser: argparse.ArgumentParser) -> None:
    """The loader settings shared by ``data check`` and ``data show``."""
    parser.add_argument("--label-space", default="basic7", help="basic7 (default) or basic8")
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument(
        "--face-crop",
        choices=("none", "center", "detect", "auto"),
        help="how faces are framed (default: the format's own, see the README's Datasets table)",
    )
    parser.add_argument("--face-margin", type=float, help="grow (>1) or shrink (<1) the face box (default 1)")
    parser.add_argument(
        "--detect-fallback",
        choices=("center", "skip"),
        help="no face detected: centre crop (default) or skip",
    )
    parser.add_argument("--skip-corrupt", action="store_true", help="skip unreadable files (counted)")
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="format-specific setting, e.g. --option peak_frames=1 (repeatable)",
    )


def _scenario(arg: str | None, overrides: list[str]) -> Scenario:
    from fer_avalanche.config import load_scenario

    return load_scenario(arg or "demo", overrides)


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = _scenario(
        args.scenario, [*args.overrides, *(["save_models=true"] if args.save_models else [])]
    )
    from fer_avalanche.experiment import run_scenario

    run = run_scenario(
        scenario,
        out=args.out,
        device=args.device,
        resume=args.resume,
        overwrite=args.overwrite,
        cache_dir=args.cache_dir,
        progress=not args.quiet,
        tensorboard=not args.no_tensorboard,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        threads=args.threads,
    )
    table = run.run_dir / "results.md"
    if table.exists():
        print(table.read_text(encoding="utf-8"))
    print(f"Run directory: {run.run_dir}")
    if (run.run_dir / "tb").is_dir():
        print(f"TensorBoard:   tensorboard --logdir {run.run_dir / 'tb'}")
    return 0


def _parse_options(options: list[str]) -> dict[str, Any]:
    from fer_avalanche.config import parse_value

    out: dict[str, Any] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {option!r}: expected key=value")
        out[key.strip()] = parse_value(value)
    return out


def _loading_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = dict(
        label_space=args.label_space,
        image_size=args.image_size,
        skip_corrupt=args.skip_corrupt,
        **_parse_options(args.options),
    )
    for key in ("face_crop", "face_margin", "detect_fallback", "cache_dir"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    return settings


def _cmd_data_check(args: argparse.Namespace) -> int:
    from fer_avalanche.data.check import check_dataset, format_report

    report = check_dataset(args.name, args.root, **_loading_settings(args))
    print(json.dumps(report, default=str) if args.json else format_report(report))
    return 0


def _cmd_data_show(args: argparse.Namespace) -> int:
    from fer_avalanche.data.show import show_dataset

    root = args.domain if args.name == "synthetic" and args.domain else args.root
    settings = _loading_settings(args)
    if args.name == "synthetic":
        settings = {"image_size": args.image_size}
    path = show_dataset(args.name, root, out=args.out, per_class=args.per_class, seed=args.seed, **settings)
    print(path)
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    return {"check": _cmd_data_check, "show": _cmd_data_show}[args.data_command](args)


def _cmd_report(args: argparse.Namespace) -> int:
    from fer_avalanche.reporting import format_comparison, load_results, render_report

    if (args.variant or args.variant_b) and not args.compare:
        raise ConfigError("report: --variant and --variant-b go with --compare A B")
    if args.variant_b and not args.variant:
        raise ConfigError("report: --variant-b needs --variant (the variant of A)")
    if args.compare:
        from fer_avalanche.sweeps import compare_variants, find_variant

        results = load_results(args.run_dir)
        variant = find_variant(results, args.variant) if args.variant else None
        variant_b = find_variant(results, args.variant_b) if args.variant_b else None
        comparison = compare_variants(
            results, *args.compare, variant=variant, variant_b=variant_b, n_boot=args.n_boot
        )
        for warning in comparison.get("warnings") or []:
            print(f"warning: {warning}", file=sys.stderr)
        text = format_comparison(comparison)
        if comparison.get("variant") is not None:
            from fer_avalanche.config import variant_label

            where = variant_label(comparison["variant"])
            if comparison.get("variant_b") is not None:
                where += f"  vs  {variant_label(comparison['variant_b'])}"
            text = f"variant: {where}\n{text}"
        print(json.dumps(comparison) if args.json else text)
        return 0
    paths = render_report(args.run_dir, n_boot=args.n_boot)
    print(json.dumps({"written": [str(p) for p in paths]}) if args.json else "\n".join(map(str, paths)))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from fer_avalanche.evaluate import evaluate_model, format_evaluation, resolve_model_path

    path = resolve_model_path(args.model, args.strategy, args.target, args.seed, args.fold)
    settings: dict[str, Any] = dict(_parse_options(args.options))
    for key in ("face_crop", "face_margin", "detect_fallback"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.skip_corrupt:
        settings["skip_corrupt"] = True
    result = evaluate_model(
        path,
        args.name,
        args.root,
        split=args.split,
        device=args.device,
        cache_dir=args.cache_dir,
        out=args.out,
        n_boot=args.n_boot,
        **settings,
    )
    print(json.dumps(result) if args.json else format_evaluation(result))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "strategies":
        from fer_avalanche.strategies.registry import get_strategy_spec, list_strategies

        for name in list_strategies():
            print(f"{name:16s} {get_strategy_spec(name).description}")
    elif args.what == "formats":
        from fer_avalanche.data.registry import get_format, list_formats

        for name in list_formats():
            print(f"{name:12s} {get_format(name).description}")
    elif args.what == "domains":
        from fer_avalanche.data.synthetic import list_domains

        for name in list_domains():
            print(name)
    else:
        from fer_avalanche.config import bundled_scenarios

        for name, path in bundled_scenarios().items():
            print(f"{name:18s} {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fer-avalanche`` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "evaluate" and args.name is None and len(extra) <= 2:
        # NAME ROOT after the options (argparse binds optional positionals at the first one)
        if not any(e.startswith("-") for e in extra):
            args.name, args.root = (extra + [None])[:2]
            extra = []
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    if args.command == "data" and args.data_command is None:
        parser.parse_args(["data", "--help"])
    handlers = {
        "run": _cmd_run,
        "report": _cmd_report,
        "list": _cmd_list,
        "data": _cmd_data,
        "evaluate": _cmd_evaluate,
    }
    try:
        return handlers[args.command](args)
    except FERAvalancheError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted; continue with the same command plus --resume --out RUN_DIR", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
