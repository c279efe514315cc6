"""``python -m exitflow <command>``: build (train + export + verify), verify, evaluate."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from . import checkpoint
from .data import load_dataset
from .export import export_bundle, verify_bundle
from .models import DEFAULT_SIZE, MAX_STAGES, MIN_STAGES, SIZE_PRESETS, ModelConfig, ModelShape
from .train import METHODS

TASKS = ("sensor-window", "features")


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("data"), help="dataset root (holds sensor/ and features/)")
    p.add_argument("--task", choices=TASKS, required=True)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--max-train", type=int, default=0, help="train on a random subset of this size (0 = all)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (small models: 1 is fastest, and does not thrash a shared machine)")
    _shape_args(p)


def _shape_args(p: argparse.ArgumentParser) -> None:
    """Model size and shape (models.ModelShape); unset options take the --size preset's value."""
    g = p.add_argument_group("model shape")
    g.add_argument("--size", choices=sorted(SIZE_PRESETS["cnn"]), default=DEFAULT_SIZE,
                   help="preset: s = models/sensor-cnn's shape (about 2.2 MFLOPs per 3x128 window), m, l = a 1D ResNet "
                        "of about 100 MFLOPs per window")
    g.add_argument("--stages", type=int, default=None, help=f"stage count ({MIN_STAGES}-{MAX_STAGES}; default 4)")
    g.add_argument("--widths", type=_int_list, default=None,
                   help="channels (cnn) or state width (mlp) per stage, comma-separated; sets the stage count")
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
    ds = load_dataset(args.data, args.task)
    if args.max_train:
        ds.train = ds.train.subset(args.max_train, seed=args.seed)
    print(f"[data] {args.task} from {args.data}: train {len(ds.train)} val {len(ds.val)} test {len(ds.test)} "
          f"input {list(ds.train.x.shape[1:])}", flush=True)
    return ds


def cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import build, train_config

    ds = _load(args)
    cfg = train_config(args.task, method=args.method, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       seed=args.seed, jei_lambda=args.jei_lambda)
    t0 = time.time()
    trained = build(ds, cfg, rule=args.rule, budget_frac=args.budget, max_drop=args.max_drop, shape=_shape(args))
    print(f"[build] trained in {time.time() - t0:.0f}s; metrics {json.dumps(trained.training['metrics'])}", flush=True)
    if args.checkpoint:
        checkpoint.save(trained, args.checkpoint)
    model_id = args.model_id or args.out.name
    manifest = export_bundle(trained, args.out, model_id, ds.val, ds.test)
    print(f"[export] {args.out}: {len(manifest['stages'])} stages, carry_dim {manifest['carry_dim']}, "
          f"thresholds {manifest['exit']['thresholds']}, verification {manifest['verification']}", flush=True)
    for s in manifest["stages"]:
        print(f"  stage {s['index']}: flops {s['flops']}, us/event {s['cost_us_per_event']}", flush=True)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    for b in args.bundles:
        print(f"[verify] {b}: {verify_bundle(Path(b))}", flush=True)
    return 0


def cmd_full_graph(args: argparse.Namespace) -> int:
    from .fullgraph import add_to_bundle

    for b in args.bundles:
        entry = add_to_bundle(Path(b), measure=not args.no_measure)
        print(f"[full-graph] {b}/{entry['file']}: flops {entry['flops']}, us/event {entry['cost_us_per_event']}, "
              f"parity with the stage chain {entry['parity']}; {verify_bundle(Path(b))}", flush=True)
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
    b.add_argument("--method", choices=METHODS, default="boost")
    b.add_argument("--rule", default="maxprob", help="threshold rule for joint/boost/consistent: maxprob|entropy|margin")
    b.add_argument("--budget", type=float, default=0.5,
                   help="cost budget as a share of full-depth FLOPs: the EENet schedule's budget, and the cost the "
                        "default thresholds of a threshold rule must fit on validation")
    b.add_argument("--max-drop", type=float, default=0.005,
                   help="default thresholds: the cheapest validation setting within this accuracy of the best one "
                        "that fits the budget")
    b.add_argument("--jei-lambda", type=float, default=0.2)
    b.add_argument("--out", type=Path, required=True, help="bundle directory (replaced)")
    b.add_argument("--model-id", default="")
    b.add_argument("--checkpoint", type=Path, default=None, help="also save the trained model here")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("verify", help="check bundles against their own fixtures with ONNX Runtime")
    v.add_argument("bundles", nargs="+")
    v.set_defaults(func=cmd_verify)

    f = sub.add_parser("full-graph", help="add the whole model as one ONNX graph (full.onnx, composed from the stage "
                                          "files, parity-checked) to exported bundles; stage files stay as they are")
    f.add_argument("bundles", nargs="+")
    f.add_argument("--no-measure", action="store_true", help="skip timing the graph (cost_us_per_event zeros)")
    f.set_defaults(func=cmd_full_graph)

    e = sub.add_parser("evaluate", help="train every method and report accuracy against measured cost")
    _train_args(e)
    e.add_argument("--methods", default="joint,boost,consistent,jei,eenet")
    e.add_argument("--out", type=Path, default=Path("bench/toolkit"))
    e.add_argument("--noise", type=float, default=0.5, help="jitter sigma (normalised units) for the robustness test")
    e.add_argument("--jei-lambdas", default="0.02,0.05,0.1,0.2,0.5,1,2")
    e.set_defaults(func=cmd_evaluate)

    args = ap.parse_args(argv)
    if hasattr(args, "size"):
        kind = "cnn" if args.task == "sensor-window" else "mlp"
        try:  # shape options are checked before any data is read or any training starts
            ModelConfig(kind, [1, 128], 2, **_shape(args).resolve(kind)).validate()
        except ValueError as e:
            ap.error(str(e))
    if getattr(args, "threads", 0) > 0:
        torch.set_num_threads(args.threads)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
