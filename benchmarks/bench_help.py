"""Naive against help-aware training, on generated worlds where the agents act on the lists.

    .venv/bin/python -m benchmarks.bench_help --dir /tmp/help --seeds 42 7 11 --help-factors 0.5 0.3 1.0

For each world (a seed and a help factor: the failure hazard's multiplier while a follow-up runs), the
generator writes five years of deliveries (2019-01 .. 2023-12, 10,000 firms by default, the agents acting
from 2020-01), which are ingested and built once. Every policy of `models.followup` then trains the
production models of the three horizons into its own MLflow store, and those models score every firm's
months of the world's last year (outside proceedings). The scores are compared with the generator's
probabilities *without help* (`TRUTH/probabilities` `p_h`: what the firm risks if nobody helps it), on the
same rows: average precision and ROC AUC with the true probability as a soft label (each row a failure with
weight p and a survivor with weight 1 - p), and sum of p / sum of true p overall, in the model's top decile,
among the alerted rows and among the rows under follow-up. Intervals of each policy's difference with
`naive` resample firms (Poisson bootstrap, one weight per firm, 90 %).

A help factor of 1.0 is the paired control: the same seed gives the same firms, states and draws, the agents
act the same, but their help changes nothing, so the labels are the unhelped outcomes. The generator's
truth carries every world's own level error (e.g. after the crisis' catch-up); against the control, each
policy's sum of p is divided by the control's naive sum of p on the same rows (`*_to_control`): 1 means
the help left the training unbiased, below 1 the help taught it that the signals it answered were harmless.

Results go to `<dir>/help-<seed>-<factor>.json` and are printed as a table; a world already generated,
ingested or trained under `<dir>` is reused. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

POLICIES = ("naive", "censor", "exclude", "weight")
HORIZONS = (12, 18, 24)
REPLICATES = 200


def soft_average_precision(score: np.ndarray, p: np.ndarray) -> float:
    """Average precision of `score` where each row is a positive with weight p (the true probability)."""
    order = np.argsort(-score, kind="stable")
    p = p[order]
    precision = np.cumsum(p) / np.arange(1, len(p) + 1)
    return float((p * precision).sum() / p.sum())


def soft_roc_auc(score: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC of `score` with positive weight p and negative weight 1 - p per row, over pairs of distinct
    rows (a row is not compared with itself; no ties expected)."""
    order = np.argsort(score, kind="stable")
    p = p[order]
    negatives_below = np.cumsum(1 - p) - (1 - p)
    pairs = p.sum() * (1 - p).sum() - (p * (1 - p)).sum()
    return float((p * negatives_below).sum() / pairs)


def figures(frame: pd.DataFrame, horizon: int) -> dict[str, float]:
    """One policy's figures at one horizon on scored rows (`p_h`, `true_h`, `level_h`, `helped`)."""
    score, true = frame[f"p_{horizon}"].to_numpy(), frame[f"true_{horizon}"].to_numpy()
    top = score >= np.quantile(score, 0.9)
    alerted = frame[f"level_{horizon}"].isin(["red", "orange"]).to_numpy()
    helped = frame["helped"].to_numpy(dtype=bool)

    def ratio(mask: np.ndarray) -> float:
        return float(score[mask].sum() / true[mask].sum()) if mask.any() else float("nan")

    return {
        "soft_aucpr": soft_average_precision(score, true),
        "soft_roc_auc": soft_roc_auc(score, true),
        "p_to_true": ratio(np.ones(len(score), dtype=bool)),
        "top_decile_p_to_true": ratio(top),
        "alerted_p_to_true": ratio(alerted),
        "helped_p_to_true": ratio(helped),
        "alerted": int(alerted.sum()),
    }


def compare(frames: dict[str, pd.DataFrame], horizon: int, seed: int = 0, replicates: int = REPLICATES) -> dict:
    """Each policy's figures and the firm-clustered 90 % interval of its difference with the first policy's.
    Every frame holds the same rows in the same order (siren, periode)."""
    names = list(frames)
    base = frames[names[0]]
    for name, frame in frames.items():
        if not (frame[["siren", "periode"]].to_numpy() == base[["siren", "periode"]].to_numpy()).all():
            raise ValueError(f"policy {name} was not scored on the same rows")
    firm = base["siren"].astype("category").cat.codes.to_numpy()
    rng = np.random.default_rng(seed)
    exact = {name: figures(frame, horizon) for name, frame in frames.items()}
    draws: dict[str, list[dict[str, float]]] = {name: [] for name in names[1:]}
    for _ in range(replicates):
        index = np.repeat(np.arange(len(base)), rng.poisson(1.0, firm.max() + 1)[firm])
        replicate = {name: figures(frame.iloc[index], horizon) for name, frame in frames.items()}
        for name in names[1:]:
            draws[name].append({k: replicate[name][k] - replicate[names[0]][k] for k in replicate[name]})
    out = {}
    for name in names:
        out[name] = dict(exact[name])
        if name in draws:
            table = pd.DataFrame(draws[name])
            for key in ("soft_aucpr", "soft_roc_auc", "p_to_true", "top_decile_p_to_true", "alerted_p_to_true"):
                low, high = np.nanquantile(table[key], [0.05, 0.95])
                out[name][f"{key}_diff"] = exact[name][key] - exact[names[0]][key]
                out[name][f"{key}_diff_low"], out[name][f"{key}_diff_high"] = float(low), float(high)
    return out


RATIOS = ("p_to_true", "top_decile_p_to_true", "alerted_p_to_true", "helped_p_to_true")


def against_control(result: dict[str, dict], control: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Each policy's sums of p relative to the paired control world's naive training on the same rows:
    `<ratio>_to_control` = ratio(policy, world) / ratio(naive, control) (the true p are the same)."""
    reference = control["naive"]
    return {
        policy: {f"{key}_to_control": figures[key] / reference[key] for key in RATIOS}
        for policy, figures in result.items()
    }


def _settings(world: Path, policy: str):
    from sf_spark.config import load_config

    return load_config(
        Path(__file__).resolve().parents[1] / "conf" / "local.yaml",
        overrides={
            "lake.root": str(world / "lake"),
            "tracking.tracking_uri": f"sqlite:///{world}/mlflow_{policy}.db",
            "tracking.artifact_location": str(world / f"mlruns_{policy}"),
            "paths.work_dir": str(world),
            "paths.raw": str(world / "raw"),
            "paths.truth": str(world / "truth"),
            "paths.reports": str(world / f"reports_{policy}"),
            "models.followup.policy": policy,
            "spark.log_level": "ERROR",
        },
    )


def run_world(
    world: Path, seed: int, factor: float, firms: int, policies: list[str]
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Generate, ingest and build one world (unless done), train and score every policy (unless done); the
    scored rows per policy, and the share of help-censored rows and the seconds of each stage run."""
    from pyspark.sql import functions as F

    from sf_spark.features import build_features
    from sf_spark.generate import GeneratorParams, generate_world
    from sf_spark.ingest import ingest_raw
    from sf_spark.lake import Lake
    from sf_spark.models.engine import predict
    from sf_spark.models.registry import connect, load_champions, model_tmpdir
    from sf_spark.models.run import train_models
    from sf_spark.months import add_months
    from sf_spark.session import get_spark

    seconds = {}
    if not (world / "raw").exists():
        began = time.perf_counter()
        params = GeneratorParams(
            firms=firms, start="2019-01", end="2023-12", seed=seed, agents={"help_hazard_factor": factor}
        )
        generate_world(world / "raw", world / "truth", params)
        seconds["generate"] = time.perf_counter() - began
    base = _settings(world, "naive")
    spark = get_spark(base.spark)
    lake = Lake(spark, base.lake.root, base.lake.writer)
    if not lake.exists("gold/features"):
        began = time.perf_counter()
        ingest_raw(lake, str(world / "raw"), base)
        build_features(lake, base)
        seconds["ingest_and_features"] = time.perf_counter() - began
    features = lake.read("gold/features")
    last = features.agg(F.max("periode")).first()[0]
    rows = features.where((F.col("periode") >= F.lit(add_months(last, -11))) & ~F.col("in_proceedings"))
    truth = spark.read.parquet(str(world / "truth" / "probabilities")).select(
        "siren", "periode", *[F.col(f"p_{h}").alias(f"true_{h}") for h in HORIZONS], "helped"
    )
    frames = {}
    for policy in policies:
        path = world / f"scored_{policy}.parquet"
        if not path.exists():
            settings = _settings(world, policy)
            began = time.perf_counter()
            train_models(lake, settings, promote=True)
            seconds[f"train_{policy}"] = time.perf_counter() - began
            connect(settings.tracking)
            tmpdir = model_tmpdir(spark, settings.tracking, lake.root)
            models = {h: m for h, (_, m) in load_champions(settings.models, list(HORIZONS), tmpdir).items()}
            scored = predict(models, rows).select(
                "siren",
                "periode",
                *[F.col(f"probability_{h}").alias(f"p_{h}") for h in HORIZONS],
                *[F.col(f"alert_level_{h}").alias(f"level_{h}") for h in HORIZONS],
            )
            scored.join(truth, ["siren", "periode"]).toPandas().to_parquet(path)
        frames[policy] = pd.read_parquet(path).sort_values(["siren", "periode"], ignore_index=True)
    censored = features.agg(*[F.avg(F.col(f"help_censored_{h}").cast("double")).alias(str(h)) for h in HORIZONS])
    extra = {"help_censored_share": censored.first().asDict(), "seconds": seconds}
    spark.stop()
    return frames, extra


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="folder of the worlds and results")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    parser.add_argument("--help-factors", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument("--horizon", type=int, default=18, choices=HORIZONS)
    args = parser.parse_args(argv)
    for seed in args.seeds:
        results = {}
        for factor in args.help_factors:
            world = Path(args.dir) / f"world-{seed}-{factor}"
            # the control serves as the reference of naive training, and shows what censoring costs without help
            policies = [p for p in args.policies if factor != 1.0 or p in ("naive", "censor")]
            frames, extra = run_world(world, seed, factor, args.firms, policies)
            result = {h: compare(frames, h) for h in HORIZONS}
            results[factor] = result
            rows = frames["naive"]
            summary = {
                "seed": seed,
                "help_factor": factor,
                "firms": args.firms,
                "rows": len(rows),
                "helped_rows": float(rows["helped"].mean()),
                **extra,
                "figures": result,
            }
            out = Path(args.dir) / f"help-{seed}-{factor}.json"
            out.write_text(json.dumps(summary, indent=2, default=float))
            table = pd.DataFrame(result[args.horizon]).T
            shown = ["soft_aucpr", "soft_roc_auc", "p_to_true", "top_decile_p_to_true", "alerted_p_to_true"]
            print(
                f"seed {seed}, help factor {factor}: {len(rows)} rows, helped {rows['helped'].mean():.2%}, "
                f"h={args.horizon}"
            )
            print(
                table[[c for c in table.columns if c in shown or c.endswith("_diff_low") or c.endswith("_diff_high")]]
                .round(4)
                .to_string()
            )
            print(f"written {out}")
        if 1.0 in results:
            for factor, result in results.items():
                if factor != 1.0:
                    relative = against_control(result[args.horizon], results[1.0][args.horizon])
                    print(f"seed {seed}, help factor {factor} against its control (help factor 1.0), h={args.horizon}")
                    print(pd.DataFrame(relative).T.round(4).to_string())


if __name__ == "__main__":
    main()
