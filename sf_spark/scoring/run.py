"""The monthly scoring run: champions -> `gold/scores`, strong signals, drift, agents' lists.

For the month m: firms in scope and outside proceedings are scored by the three horizons'
champion models (probabilities calibrated and monotone across horizons); every alerted
(firm, horizon) is explained; month-to-month news is read from earlier months of `gold/scores`;
the month's partition of each output table is replaced, earlier months are never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sf_spark.features import feature_catalogue, feature_topics
from sf_spark.ingest.freshness import saved_freshness, stale_sources
from sf_spark.lake import tables
from sf_spark.models import tags as TAG
from sf_spark.models.engine import model_inputs, predict
from sf_spark.models.registry import MlflowClient, connect, load_champions, model_name, model_tmpdir
from sf_spark.progress import say
from sf_spark.scoring.drift import population_stability, status
from sf_spark.scoring.explanations import TOP_FEATURE_TYPE, TOP_FEATURES, TOPIC_CONTRIBUTIONS, explained
from sf_spark.scoring.exports import (
    export_columns,
    profile_frame,
    publish,
    staging_folder,
    write_lists,
    write_manifest,
)
from sf_spark.scoring.feedback import FOLLOWUP_COLUMNS, RATING_COLUMNS, feedback_summary, with_feedback
from sf_spark.scoring.history import alerted, with_history

if TYPE_CHECKING:
    from sf_spark.config import Settings
    from sf_spark.lake import Lake

FEATURES, SCORES, STRONG, DRIFT = tables.FEATURES, tables.SCORES, tables.STRONG_SIGNALS, tables.DRIFT
PARTITION = ["periode"]


def scored_month(period: str | None, features: DataFrame) -> dt.date:
    """The month to score: `YYYY-MM`, or the panel's last month; refused when the panel lacks it."""
    last = features.agg(F.max("periode")).first()[0]
    if last is None:
        raise ValueError("gold/features is empty: run `sf-spark features` first")
    if period is None:
        return last
    month = dt.date.fromisoformat(f"{period}-01")
    if features.where(F.col("periode") == F.lit(month)).limit(1).count() == 0:
        raise ValueError(f"no row of gold/features for {period}: the panel ends {last:%Y-%m}")
    return month


def _long(
    scored: DataFrame, explanations: dict[int, DataFrame], versions: dict[int, str], data_version: int
) -> DataFrame:
    """One row per (siren, periode, horizon) with its explanation when alerted."""
    parts = []
    for h, version in versions.items():
        rows = scored.select(
            "siren",
            "periode",
            F.lit(h).alias("horizon"),
            F.col(f"probability_{h}").alias("probability"),
            F.col(f"alert_level_{h}").alias("alert_level"),
            F.col(f"model_score_{h}").alias("model_score"),
            F.lit(version).alias("model_version"),
        )
        why = explanations[h].select("siren", "log_odds", TOP_FEATURES, TOPIC_CONTRIBUTIONS)
        parts.append(rows.join(why, "siren", "left"))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.withColumn("data_version", F.lit(data_version))


def drift_reference(features: DataFrame, settings: Settings, version: str) -> tuple[DataFrame, str]:
    """Training rows of the reference champion (window read from its registry tags)."""
    h = settings.scoring.drift_reference_horizon
    tags = MlflowClient().get_model_version(model_name(settings.models, h), version).tags
    first, last = tags.get(TAG.TRAIN_START), tags.get(TAG.TRAIN_END)
    if not first or not last:
        raise ValueError(f"{model_name(settings.models, h)} v{version} has no train_start/train_end tags")
    in_window = F.col("periode").between(F.lit(f"{first}-01").cast("date"), F.lit(f"{last}-01").cast("date"))
    window = features.where(in_window & ~F.col("in_proceedings"))
    return window, f"{first}..{last}"


def score_period(
    lake: Lake, settings: Settings, period: str | None = None, allow_partial: bool = False
) -> dict[str, Any]:
    """Score one month with the champions; write scores, strong signals, drift and the agents' lists.

    The month's outputs are computed first and the lists written to a staging folder; the three
    tables are then committed (a failure restores the ones already committed to their previous
    version) and the lists swapped in whole. A source staler than `scoring.freshness` allows
    stops the step before anything is written, unless `allow_partial`.
    """
    spark = lake.spark
    ms, sc = settings.models, settings.scoring
    horizons = sorted(ms.horizons)
    for key in ("export_horizon", "drift_reference_horizon"):
        if getattr(sc, key) not in horizons:
            raise ValueError(f"scoring.{key}={getattr(sc, key)} is not among models.horizons {horizons}")
    features = lake.read(FEATURES)
    data_version = lake.version(FEATURES)
    month = scored_month(period, features)
    fresh = saved_freshness(lake)
    stale = stale_sources(fresh, month, sc.freshness)
    problems = [f"stale input: {reason}" for reason in stale]
    if stale and not allow_partial:
        for reason in problems:
            say(f"score {month:%Y-%m}: {reason}")
        stopped = (
            f"{len(stale)} source(s) too stale to score {month:%Y-%m}; nothing written (--allow-partial scores anyway)"
        )
        say(f"score: STOPPED: {stopped}")
        return {"periode": f"{month:%Y-%m}", "stopped": stopped, "problems": problems, "freshness": fresh}
    connect(settings.tracking)
    say(f"score {month:%Y-%m}: gold/features version {data_version}, the champions of {len(horizons)} horizons")
    champions = load_champions(ms, horizons, model_tmpdir(spark, settings.tracking, lake.root))
    catalogue = feature_catalogue()
    topics = feature_topics(catalogue)
    sources = {f.name: f.sources for f in catalogue}
    rows = features.where(F.col("periode") == F.lit(month))
    strong = (
        rows.where(F.col("in_proceedings"))
        .select("siren", "periode", "region", "departement", "naf_section", "headcount")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    candidates = rows.where(~F.col("in_proceedings")).persist(StorageLevel.MEMORY_AND_DISK)
    models = {h: model for h, (_, model) in champions.items()}
    versions = {h: f"{model_name(ms, h)}/{version}" for h, (version, _) in champions.items()}
    scored = predict(models, candidates).persist(StorageLevel.MEMORY_AND_DISK)
    explanations = {}
    for h, model in models.items():
        alerted_rows = candidates.join(scored.where(alerted(F.col(f"alert_level_{h}"))).select("siren"), "siren")
        explanations[h] = explained(model, alerted_rows, topics, sc.top_features)
    long = _long(scored, explanations, versions, data_version)
    earlier = lake.read(SCORES).where(F.col("periode") < F.lit(month)) if lake.exists(SCORES) else None
    ratings = lake.read(tables.AGENTS_RATINGS) if lake.exists(tables.AGENTS_RATINGS) else None
    followups = lake.read(tables.AGENTS_FOLLOWUPS) if lake.exists(tables.AGENTS_FOLLOWUPS) else None
    final = with_feedback(with_history(long, earlier), ratings, followups, earlier, month, sc.feedback)
    final = final.withColumn("scored_at", F.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    final = final.withColumn(TOP_FEATURES, F.col(TOP_FEATURES).cast(TOP_FEATURE_TYPE))
    final = final.persist(StorageLevel.MEMORY_AND_DISK)
    metadata = {"periode": f"{month:%Y-%m}", "models": json.dumps(versions), "gold_features_version": data_version}

    inputs = model_inputs(features.columns, [f.name for f in catalogue], ms)
    reference, reference_window = drift_reference(features, settings, champions[sc.drift_reference_horizon][0])
    psi = population_stability(reference, candidates, list(inputs.numeric), list(inputs.categorical))
    psi["topic"] = psi["feature"].map(topics)
    psi["status"] = [status(v, sc.drift_threshold) for v in psi["psi"]]
    psi["reference_window"] = reference_window
    psi["periode"] = month
    shifted = psi[psi["status"] == "shift"].sort_values("psi", ascending=False)

    counts = {
        (r["horizon"], r["alert_level"]): (r["rows"], r["new"], r["news"])
        for r in final.groupBy("horizon", "alert_level")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("first_alert").cast("int")).alias("new"),
            F.sum(F.col("news").cast("int")).alias("news"),
        )
        .collect()
    }
    feedback = (
        feedback_summary(ratings, earlier, features, month, sc.export_horizon, sc.feedback)
        if ratings is not None
        else None
    )
    unexplained = final.where(alerted(F.col("alert_level")) & F.col(TOP_FEATURES).isNull()).count()
    in_proceedings = strong.count()
    folder = Path(settings.paths.work_dir) / "exports" / f"{month:%Y-%m}"
    staged = staging_folder(folder)
    try:
        exports = export_lists(final, features, lake, settings, month, horizons, sources, topics, staged)
        if feedback is not None:
            exports["files"] += write_scope_review(feedback["out_of_scope"], staged, int(sc.file_mode, 8))
        write_manifest(
            staged,
            {
                "periode": f"{month:%Y-%m}",
                "models": versions,
                "gold_features_version": data_version,
                "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            int(sc.file_mode, 8),
        )
        written = commit_all(
            lake,
            [
                (SCORES, final),
                (STRONG, strong),
                (DRIFT, spark.createDataFrame(psi)),
            ],
            metadata,
        )
        publish(staged, folder, int(sc.folder_mode, 8))
    finally:
        shutil.rmtree(staged, ignore_errors=True)
        for df in (candidates, scored, final, strong):
            df.unpersist()
    share = alert_share(lake.read(SCORES), month, sc.export_horizon)
    exports["folder"] = str(folder)

    none = (0, 0, 0)
    firms = sum(counts.get((horizons[0], level), none)[0] for level in ("red", "orange", "green"))
    say(f"score {month:%Y-%m}: {firms} firms scored, {in_proceedings} already in proceedings (listed apart)")
    for h in horizons:
        red, orange = counts.get((h, "red"), none), counts.get((h, "orange"), none)
        say(
            f"  h={h}: red {red[0]} ({red[0] / max(firms, 1):.1%}, {red[1]} first alerts, {red[2]} news), "
            f"orange {orange[0]} ({orange[0] / max(firms, 1):.1%}, {orange[1]} first alerts, {orange[2]} news); "
            f"model {versions[h]}"
        )
    if feedback is not None:
        for line in feedback_lines(feedback):
            say(f"  {line}")
    if len(shifted):
        top = ", ".join(f"{r.feature} {r.psi:.2f}" for r in shifted.head(5).itertuples())
        say(
            f"  WARNING drift: {len(shifted)} features with PSI >= {sc.drift_threshold} against the training "
            f"window {reference_window}: {top}"
        )
        problems.append(f"drift: {len(shifted)} features with PSI >= {sc.drift_threshold}: {top}")
    else:
        say(f"  drift: no feature with PSI >= {sc.drift_threshold} against the training window {reference_window}")
    if unexplained:
        problems.append(f"{unexplained} alerts without an explanation")
    say(
        f"  alerted share at {sc.export_horizon} months, last months: "
        + ", ".join(f"{p} {s:.1%}" for p, s in share[-6:])
    )
    say(f"  lists: {exports['folder']} ({exports['files']} files)")
    for problem in problems:
        say(f"  PROBLEM {problem}")
    return {
        "periode": f"{month:%Y-%m}",
        "firms": firms,
        "strong_signals": in_proceedings,
        "alerts": {f"{h}_{level}": counts.get((h, level), none)[0] for h in horizons for level in ("red", "orange")},
        "new_alerts": {h: counts.get((h, "red"), none)[1] + counts.get((h, "orange"), none)[1] for h in horizons},
        "news": {h: counts.get((h, "red"), none)[2] + counts.get((h, "orange"), none)[2] for h in horizons},
        "agents": None if feedback is None else agents_summary(feedback),
        "unexplained_alerts": unexplained,
        "drift_warnings": shifted["feature"].tolist(),
        "versions": written,
        "models": versions,
        "alert_share": share,
        "exports": exports,
        "freshness": fresh,
        "problems": problems,
    }


SCOPE_REVIEW = "hors_perimetre.csv"


def write_scope_review(out_of_scope, folder: Path, file_mode: int) -> int:
    """`hors_perimetre.csv` beside the lists: the ratings `hors_perimetre` by NAF section and size band
    (counts only), for the review of the scope rules; returns the files written (0 or 1)."""
    if out_of_scope.empty:
        return 0
    path = folder / SCOPE_REVIEW
    out_of_scope.rename(
        columns={
            "naf_section": "Section NAF",
            "size_band": "Tranche d'effectif",
            "rated": "Avis",
            "out_of_scope": "Avis hors périmètre",
        }
    ).to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    path.chmod(file_mode)
    return 1


def agents_summary(feedback: dict) -> dict[str, Any]:
    """The ratings' summary for `--json`: the counts of `hors_perimetre` ratings instead of their table."""
    counts = {k: v for k, v in feedback.items() if k != "out_of_scope"}
    return counts | {"out_of_scope": int(feedback["out_of_scope"]["out_of_scope"].sum())}


def feedback_lines(feedback: dict) -> list[str]:
    """The agents' ratings in the monthly summary."""
    if not feedback["rated"]:
        return [f"agents: no rating known of the lists {feedback['lists']}"]
    levels = ", ".join(
        f"{level} {v['useful'] / v['rated']:.0%} of {v['rated']}" for level, v in sorted(feedback["by_level"].items())
    )
    reasons = ", ".join(f"{reason} {n}" for reason, n in feedback["useless_reasons"].items()) or "none"
    out_of_scope = agents_summary(feedback)["out_of_scope"]
    return [
        f"agents: {feedback['rated']} ratings of the lists {feedback['lists']}, "
        f"{feedback['useful_share']:.0%} useful (by level of the list: {levels})",
        f"  reasons of 'inutile': {reasons}; {out_of_scope} 'hors_perimetre' ({SCOPE_REVIEW} for the scope's review)",
    ]


def commit_all(lake: Lake, writes: list[tuple[str, DataFrame]], metadata: dict[str, Any]) -> dict[str, int]:
    """Replace the month's partition of every table, all or none: on a failure, the tables already
    committed by this call are restored to their previous version (or removed if it created them)."""
    done: list[tuple[str, int | None]] = []
    versions = {}
    try:
        for table, df in writes:
            before = lake.version(table) if lake.exists(table) else None
            versions[table] = lake.overwrite_partitions(df, table, PARTITION, metadata=metadata)
            done.append((table, before))
    except BaseException:
        for table, before in reversed(done):
            lake.restore(table, before)
        raise
    return versions


def alert_share(scores: DataFrame, month: dt.date, horizon: int = 18, months: int = 24) -> list[tuple[str, float]]:
    """Share of scored firms alerted (red or orange) at one horizon over the last `months` months."""
    rows = (
        scores.where(
            (F.col("horizon") == horizon)
            & (F.col("periode") > F.add_months(F.lit(month), -months))
            & (F.col("periode") <= F.lit(month))
        )
        .groupBy("periode")
        .agg(F.avg(alerted(F.col("alert_level")).cast("double")).alias("share"))
        .orderBy("periode")
        .collect()
    )
    return [(f"{r['periode']:%Y-%m}", r["share"]) for r in rows]


def export_lists(
    scores: DataFrame,
    features: DataFrame,
    lake: Lake,
    settings: Settings,
    month: dt.date,
    horizons: list[int],
    sources: dict[str, tuple[str, ...]],
    topics: dict[str, str],
    folder: Path,
) -> dict[str, Any]:
    """CSV and XLSX lists per profile, région and département, for the firms alerted at the export horizon."""
    sc = settings.scoring
    wide = scores.groupBy("siren").pivot("horizon", horizons).agg(F.first("probability"))
    wide = wide.select("siren", *[F.col(str(h)).alias(f"probability_{h}") for h in horizons])
    listed = scores.where((F.col("horizon") == sc.export_horizon) & alerted(F.col("alert_level"))).select(
        "siren",
        "alert_level",
        "first_alert",
        "news",
        "news_reason",
        "level_change",
        "months_alerted",
        *RATING_COLUMNS,
        *FOLLOWUP_COLUMNS,
        TOP_FEATURES,
        TOPIC_CONTRIBUTIONS,
    )
    columns = export_columns(sources, horizons)
    feature_columns = [c.name for c in columns if c.name in sources]
    month_features = features.where(F.col("periode") == F.lit(month)).select("siren", *feature_columns)
    if lake.exists(tables.FIRMS):
        names = lake.read(tables.FIRMS).select("siren", "name")
    else:  # a lake built before gold/firms: the lists show the SIREN only
        names = month_features.select("siren", F.lit(None).cast("string").alias("name"))
    frame = (
        listed.join(wide, "siren")
        .join(month_features, "siren")
        .join(names, "siren", "left")
        .orderBy(F.col(f"probability_{sc.export_horizon}").desc(), "siren")
        .toPandas()
    )
    frame[TOPIC_CONTRIBUTIONS] = [dict(m) if m is not None else None for m in frame[TOPIC_CONTRIBUTIONS]]
    frame[TOP_FEATURES] = [
        [r if isinstance(r, dict) else r.asDict() for r in t] if t is not None else None for t in frame[TOP_FEATURES]
    ]
    files = 0
    for profile in sc.export_profiles:
        if profile not in sc.profiles:
            raise ValueError(f"export profile {profile!r} is not defined under scoring.profiles")
        lists = profile_frame(frame, sc.profiles[profile], columns, sources, topics)
        files += len(write_lists(lists, folder / profile, int(sc.file_mode, 8), int(sc.folder_mode, 8)))
    return {"folder": str(folder), "files": files, "firms": len(frame)}
