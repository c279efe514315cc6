"""``python -m exitflow <command>``: build (train + export + verify), verify, evaluate."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from . import checkpoint
from .data import DataError, load_dataset
from .export import export_bundle, verify_bundle
from .models import DEFAULT_SIZE, MAX_STAGES, MIN_STAGES, SIZE_PRESETS, ModelConfig, ModelShape
from .registry import THRESHOLD_RULES, Method, Task

TASKS = Task.names()


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("data"), help="dataset root (holds sensor/ and features/)")
    p.add_argument("--task", choices=TASKS, required=True)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--max-train", type=int, default=0, help="train on a random subset of this size (0 = all)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (small models: 1 is fastest, and does not thrash a shared machine)",
    )
    p.add_argument(
        "--class-weights",
        choices=("auto", "off"),
        default="auto",
        help="auto: weigh the loss by class when the largest training class has over 3x the smallest",
    )
    _readings_args(p)
    _shape_args(p)


def _readings_args(p: argparse.ArgumentParser) -> None:
    """Your own recordings (readings.ReadingsConfig); a flag overrides the same setting of --dataset."""
    g = p.add_argument_group("your own recordings (instead of --data)")
    g.add_argument(
        "--readings",
        type=Path,
        default=None,
        help="CSV, TSV, Parquet or Avro file: one row per reading (or per event for --task features)",
    )
    g.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="YAML, JSON or TOML file of these settings (readings: FILE, time_column: ..., ...)",
    )
    g.add_argument(
        "--recording-column",
        default=None,
        help="recording or sensor id (default sensorId; features: none, events split one by one)",
    )
    g.add_argument("--time-column", default=None, help="timestamp: epoch number or ISO-8601 text (default eventTime)")
    g.add_argument(
        "--time-unit", choices=("ms", "s", "us", "ns"), default=None, help="unit of numeric timestamps (default ms)"
    )
    g.add_argument(
        "--channels",
        "--feature-columns",
        dest="channels",
        type=_name_list,
        default=None,
        help="channel (or feature) columns in model order, comma-separated (default: the Avro values "
        "array, else every other numeric column)",
    )
    g.add_argument("--label-column", default=None, help="class label (default label)")
    g.add_argument(
        "--split-column",
        default=None,
        help="train / val / test per recording; a missing val or test split is drawn from train",
    )
    g.add_argument(
        "--classes",
        type=_name_list,
        default=None,
        help="class order, comma-separated (default: the labels found, sorted)",
    )
    g.add_argument("--window-size", type=int, default=None, help="readings per window (default 128)")
    g.add_argument("--window-slide", type=int, default=None, help="a window every this many readings (default 32)")
    g.add_argument("--sample-period-ms", type=float, default=None, help="default: inferred from the timestamps")
    g.add_argument(
        "--max-gap-ms",
        type=float,
        default=None,
        help="a longer step restarts the window, as in the job (default: the job's, 3 x period + max(2, period / 10))",
    )
    g.add_argument(
        "--period-tolerance", type=float, default=None, help="share a step may differ from the period (default 0.5)"
    )
    g.add_argument("--val-fraction", type=float, default=None, help="recordings per class for validation (0.15)")
    g.add_argument("--test-fraction", type=float, default=None, help="recordings per class for test (0.15)")


def _name_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _method_list(text: str) -> str:
    """``--methods``: comma-separated method names, checked against the registry (returned as given)."""
    for name in _name_list(text):
        if name not in Method.names():
            raise argparse.ArgumentTypeError(f"unknown method {name!r}; use one of {Method.names()}")
    return text


def readings_config(args: argparse.Namespace):
    """The ReadingsConfig of ``--dataset`` and the readings flags (flags win)."""
    from .readings import ReadingsConfig, load_config_file

    settings = load_config_file(args.dataset) if args.dataset else {}
    if settings.get("task", args.task) != args.task:
        raise DataError(f"{args.dataset} is for task {settings['task']!r}, the command says --task {args.task}")
    settings["task"] = args.task
    settings.setdefault("seed", args.seed)
    for name in (
        "readings",
        "recording_column",
        "time_column",
        "time_unit",
        "channels",
        "label_column",
        "split_column",
        "classes",
        "window_size",
        "window_slide",
        "sample_period_ms",
        "max_gap_ms",
        "period_tolerance",
        "val_fraction",
        "test_fraction",
    ):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    if "readings" not in settings:
        raise DataError(f"{args.dataset} does not name the readings file: add 'readings: FILE' or pass --readings")
    return ReadingsConfig(**settings)


def _shape_args(p: argparse.ArgumentParser) -> None:
    """Model size and shape (models.ModelShape); unset options take the --size preset's value."""
    g = p.add_argument_group("model shape")
    g.add_argument(
        "--size",
        choices=sorted(SIZE_PRESETS["cnn"]),
        default=DEFAULT_SIZE,
        help="preset: s = models/sensor-cnn's shape (about 2.2 MFLOPs per 3x128 window), m, l = a 1D ResNet "
        "of about 100 MFLOPs per window",
    )
    g.add_argument("--stages", type=int, default=None, help=f"stage count ({MIN_STAGES}-{MAX_STAGES}; default 4)")
    g.add_argument(
        "--widths",
        type=_int_list,
        default=None,
        help="channels (cnn) or state width (mlp) per stage, comma-separated; sets the stage count",
    )
    g.add_argument("--blocks", type=int, default=None, help="residual blocks per stage")
    g.add_argument("--kernel", type=int, default=None, help="cnn: kernel size of the residual convolutions (odd)")


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _shape(args: argparse.Namespace) -> ModelShape:
    return ModelShape(size=args.size, stages=args.stages, widths=args.widths, blocks=args.blocks, kernel=args.kernel)


def _load(args: argparse.Namespace):
    if args.readings or args.dataset:
        from .readings import load_readings

        ds = load_readings(readings_config(args))
    else:
        ds = load_dataset(args.data, args.task)
    if args.max_train:
        ds.train = ds.train.subset(args.max_train, seed=args.seed)
    print(
        f"[data] {args.task} from {ds.source}: train {len(ds.train)} val {len(ds.val)} test {len(ds.test)} "
        f"input {list(ds.train.x.shape[1:])}, classes {ds.classes}",
        flush=True,
    )
    if ds.summary:
        print(f"[data] {ds.summary}", flush=True)
    return ds


def cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import build, train_config

    ds = _load(args)
    cfg = train_config(
        args.task,
        method=args.method,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        jei_lambda=args.jei_lambda,
        class_weighting=args.class_weights,
    )
    t0 = time.time()
    trained = build(ds, cfg, rule=args.rule, budget_frac=args.budget, max_drop=args.max_drop, shape=_shape(args))
    print(f"[build] trained in {time.time() - t0:.0f}s; metrics {json.dumps(trained.training['metrics'])}", flush=True)
    if args.checkpoint:
        checkpoint.save(trained, args.checkpoint)
    model_id = args.model_id or args.out.name
    manifest = export_bundle(trained, args.out, model_id, ds.val, ds.test)
    print(
        f"[export] {args.out}: {len(manifest['stages'])} stages, carry_dim {manifest['carry_dim']}, "
        f"thresholds {manifest['exit']['thresholds']}, verification {manifest['verification']}",
        flush=True,
    )
    for s in manifest["stages"]:
        print(f"  stage {s['index']}: flops {s['flops']}, us/event {s['cost_us_per_event']}", flush=True)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .export import ExportError
    from .fullgraph import FullGraphError

    failed = 0
    for b in args.bundles:
        try:
            print(f"[verify] {b}: {verify_bundle(Path(b))}", flush=True)
        except (ExportError, FullGraphError) as e:  # a bundle the runtime would refuse: say why, in one line, go on
            print(f"error: {e}", file=sys.stderr, flush=True)
            failed += 1
    return 2 if failed else 0


def cmd_full_graph(args: argparse.Namespace) -> int:
    from .fullgraph import add_to_bundle

    for b in args.bundles:
        entry = add_to_bundle(Path(b), measure=not args.no_measure)
        print(
            f"[full-graph] {b}/{entry['file']}: flops {entry['flops']}, us/event {entry['cost_us_per_event']}, "
            f"parity with the stage chain {entry['parity']}; {verify_bundle(Path(b))}",
            flush=True,
        )
    return 0


def cmd_check_stages(args: argparse.Namespace) -> int:
    from .stagecheck import StageFilesError, check_stage_files, expected_from_manifest, stage_files_in

    try:
        if len(args.paths) == 1 and args.paths[0].is_dir():
            files = stage_files_in(args.paths[0])
            expected = expected_from_manifest(args.paths[0])
        else:
            files, expected = list(args.paths), {}
    except StageFilesError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    for key in ("input_shape", "num_classes", "carry_dim"):
        if getattr(args, key) is not None:
            expected[key] = getattr(args, key)
    reports = check_stage_files(files, **expected)
    for r in reports:
        if r.ok:
            print(f"[check-stages] {r.file}: ok ({r.summary()})", flush=True)
        else:
            print(f"[check-stages] {r.file}: {len(r.problems)} problem{'s' if len(r.problems) > 1 else ''}", flush=True)
            for text in r.problems:
                print(f"  - {text}", flush=True)
    bad = sum(not r.ok for r in reports)
    if bad:
        print(
            f"error: {bad} of {len(reports)} stage files break the stage contract (docs/bundle-contract.md)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import run_evaluation

    ds = _load(args)
    args.shape = _shape(args)
    run_evaluation(ds, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exitflow", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="train one method, export the bundle and verify it with ONNX Runtime")
    _train_args(b)
    b.add_argument("--method", choices=Method.names(), default=Method.BOOST.value)
    b.add_argument(
        "--rule",
        default=THRESHOLD_RULES[0].value,
        help=f"threshold rule for joint/boost/consistent: {'|'.join(THRESHOLD_RULES)}",
    )
    b.add_argument(
        "--budget",
        type=float,
        default=0.5,
        help="cost budget as a share of full-depth FLOPs: the EENet schedule's budget, and the cost the "
        "default thresholds of a threshold rule must fit on validation",
    )
    b.add_argument(
        "--max-drop",
        type=float,
        default=0.005,
        help="default thresholds: the cheapest validation setting within this accuracy of the best one "
        "that fits the budget",
    )
    b.add_argument("--jei-lambda", type=float, default=0.2)
    b.add_argument("--out", type=Path, required=True, help="bundle directory (replaced)")
    b.add_argument("--model-id", default="")
    b.add_argument("--checkpoint", type=Path, default=None, help="also save the trained model here")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("verify", help="check bundles against their own fixtures with ONNX Runtime")
    v.add_argument("bundles", nargs="+")
    v.set_defaults(func=cmd_verify)

    f = sub.add_parser(
        "full-graph",
        help="add the whole model as one ONNX graph (full.onnx, composed from the stage "
        "files, parity-checked) to exported bundles; stage files stay as they are",
    )
    f.add_argument("bundles", nargs="+")
    f.add_argument("--no-measure", action="store_true", help="skip timing the graph (cost_us_per_event zeros)")
    f.set_defaults(func=cmd_full_graph)

    c = sub.add_parser(
        "check-stages",
        help="check stage ONNX files made outside the toolkit against the stage "
        "contract, file by file (names, types, shapes, opset, chaining)",
    )
    c.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="a folder of stage0.onnx .. stageN.onnx (a bundle's manifest, if any, gives the expected "
        "shapes), or the stage files in order",
    )
    c.add_argument(
        "--input-shape",
        type=_int_list,
        default=None,
        help="one event's shape, e.g. 3,128 (stage 0's state_in without the batch axis)",
    )
    c.add_argument("--classes", dest="num_classes", type=int, default=None, help="class count (logits width)")
    c.add_argument("--carry-dim", type=int, default=None, help="width of the carried vector")
    c.set_defaults(func=cmd_check_stages)

    e = sub.add_parser("evaluate", help="train every method and report accuracy against measured cost")
    _train_args(e)
    e.add_argument("--methods", type=_method_list, default=",".join(Method.names()))
    e.add_argument("--out", type=Path, default=Path("bench/toolkit"))
    e.add_argument("--noise", type=float, default=0.5, help="jitter sigma (normalised units) for the robustness test")
    e.add_argument("--jei-lambdas", default="0.02,0.05,0.1,0.2,0.5,1,2")
    e.set_defaults(func=cmd_evaluate)

    from .replay import add_parser as add_convert_readings

    add_convert_readings(sub, _readings_args, readings_config)

    args = ap.parse_args(argv)
    if hasattr(args, "size"):
        kind = Task(args.task).model_kind
        try:  # shape options are checked before any data is read or any training starts
            ModelConfig(kind, [1, 128], 2, **_shape(args).resolve(kind)).validate()
        except ValueError as e:
            ap.error(str(e))
    if getattr(args, "threads", 0) > 0:
        torch.set_num_threads(args.threads)
    try:
        return int(args.func(args))
    except DataError as e:  # bad input: one line that says what to fix, no traceback
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
