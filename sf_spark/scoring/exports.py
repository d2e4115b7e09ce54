"""Alert lists for agents, per région and département, as CSV and XLSX, filtered by profile.

Every export column carries the administrations its content derives from (feature columns take
theirs from the feature catalogue). A profile names the administrations it may see; Sirene
identity (public register) and the model's scores are visible to every profile. A column whose
sources are not all visible is left out, and the explanation in words only mentions features and
topics the profile may see.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PUBLIC = frozenset({"insee", "score", "agents"})  # the agents' own tool: every profile that sees scores
LEVEL_WORDS = {"red": "rouge", "orange": "orange", "green": "vert"}
CHANGE_WORDS = {"new": "nouvelle", "up": "hausse", "down": "baisse", "same": "stable"}
NEWS_WORDS = {
    "first_alert": "première alerte",
    "level_up": "niveau en hausse",
    "rating_level_up": "niveau au-dessus de la liste notée",
    "rating_probability_up": "probabilité en forte hausse depuis la liste notée",
}
TOPIC_WORDS = {
    "social_debt": "dette sociale",
    "partial_activity": "activité partielle",
    "financial_health": "santé financière",
    "employment": "emploi",
    "payment_plans": "délais de paiement",
    "sector": "position dans le secteur",
    "identity": "caractéristiques de l'entreprise",
}
MIN_TOPIC_WEIGHT = 0.05  # log-odds below which a topic is not worth a word


@dataclass(frozen=True)
class ExportColumn:
    """One column of the lists: where it comes from, its French label and its sources."""

    name: str
    label: str
    sources: frozenset[str]


def export_columns(catalogue_sources: Mapping[str, Sequence[str]], horizons: Sequence[int]) -> list[ExportColumn]:
    """The lists' columns in order; feature columns take their sources from the catalogue."""

    def feature(name: str, label: str) -> ExportColumn:
        return ExportColumn(name, label, frozenset(catalogue_sources[name]))

    score, agents = frozenset({"score"}), frozenset({"agents"})
    return [
        ExportColumn("siren", "SIREN", frozenset({"insee"})),
        ExportColumn("name", "Raison sociale", frozenset({"insee"})),
        feature("departement", "Département"),
        feature("region", "Région"),
        feature("naf_section", "Section NAF"),
        ExportColumn("alert_level", "Niveau d'alerte", score),
        *[ExportColumn(f"probability_{h}", f"Probabilité de défaillance à {h} mois", score) for h in horizons],
        ExportColumn("first_alert", "Première alerte", score),
        ExportColumn("news_reason", "Nouveauté", score),
        ExportColumn("level_change", "Évolution depuis le mois précédent", score),
        ExportColumn("months_alerted", "Mois consécutifs en alerte", score),
        ExportColumn("explanation", "Explication", score),
        ExportColumn("factors", "Principaux facteurs", score),
        ExportColumn("followed_since", "Suivie depuis", agents),
        ExportColumn("followup_stage", "Étape du suivi", agents),
        ExportColumn("followup_measures", "Dispositifs", agents),
        ExportColumn("last_rating", "Dernier avis", agents),
        ExportColumn("last_rating_reason", "Motif du dernier avis", agents),
        ExportColumn("last_rating_list", "Liste du dernier avis", agents),
        feature("headcount", "Effectif"),
        feature("arrears_total_eur", "Dette sociale (EUR)"),
        feature("arrears_to_contribution_12m", "Dette / cotisations sur 12 mois"),
        feature("payment_plan_active", "Plan d'apurement en cours"),
        feature("ap_hours_consumed_12m", "Heures d'activité partielle consommées sur 12 mois"),
        feature("ebitda_to_turnover", "Taux d'EBE (liasse fiscale)"),
        feature("bdf_margin_rate", "Taux de marge (Banque de France)"),
    ]


def visible(columns: Sequence[ExportColumn], allowed: Sequence[str]) -> list[ExportColumn]:
    """The columns a profile allowed these administrations may receive."""
    seen = PUBLIC | set(allowed)
    return [c for c in columns if c.sources <= seen]


def topic_sources(catalogue_sources: Mapping[str, Sequence[str]], topics: Mapping[str, str]) -> dict[str, set[str]]:
    """Administrations behind each topic (the union over its features)."""
    out: dict[str, set[str]] = {}
    for feature, topic in topics.items():
        out.setdefault(topic, set()).update(catalogue_sources[feature])
    return out


def explanation_text(topic_contributions: Mapping[str, float] | None, allowed_topics: set[str]) -> str:
    """Topics pushing the risk up, then down, in words with their log-odds, only those visible."""
    if not topic_contributions:
        return ""
    shown = {t: v for t, v in topic_contributions.items() if t in allowed_topics and abs(v) >= MIN_TOPIC_WEIGHT}
    up = sorted(((t, v) for t, v in shown.items() if v > 0), key=lambda x: -x[1])
    down = sorted(((t, v) for t, v in shown.items() if v < 0), key=lambda x: x[1])
    parts = []
    if up:
        parts.append("risque accru par " + ", ".join(f"{TOPIC_WORDS.get(t, t)} ({v:+.2f})" for t, v in up))
    if down:
        parts.append("atténué par " + ", ".join(f"{TOPIC_WORDS.get(t, t)} ({v:+.2f})" for t, v in down))
    return "; ".join(parts)


def factors_text(top: Sequence[Mapping[str, object]] | None, allowed_features: set[str]) -> str:
    """Top features visible to the profile: `name = value (contribution)`."""
    if top is None:
        return ""
    out = []
    for entry in top:
        if entry["feature"] in allowed_features:
            value = entry["value"] if entry["value"] is not None else "inconnu"
            out.append(f"{entry['feature']} = {value} ({float(entry['contribution']):+.2f})")
    return "; ".join(out)


def profile_frame(
    alerts: pd.DataFrame,
    profile_sources: Sequence[str],
    columns: Sequence[ExportColumn],
    catalogue_sources: Mapping[str, Sequence[str]],
    topics: Mapping[str, str],
) -> pd.DataFrame:
    """The list one profile receives: visible columns only, French labels, highest risk first."""
    seen = PUBLIC | set(profile_sources)
    allowed_features = {f for f, s in catalogue_sources.items() if set(s) <= seen}
    allowed_topics = {t for t, s in topic_sources(catalogue_sources, topics).items() if s <= seen}
    frame = alerts.copy()
    frame["explanation"] = [explanation_text(t, allowed_topics) for t in frame["topic_contributions"]]
    frame["factors"] = [factors_text(t, allowed_features) for t in frame["top_features"]]
    frame["alert_level"] = frame["alert_level"].map(LEVEL_WORDS)
    frame["level_change"] = frame["level_change"].map(CHANGE_WORDS)
    frame["first_alert"] = frame["first_alert"].map({True: "oui", False: "non"})
    frame["news_reason"] = frame["news_reason"].map(NEWS_WORDS).fillna("")
    frame["last_rating_list"] = [
        f"{d:%Y-%m}" if d is not None and not pd.isna(d) else "" for d in frame["last_rating_list"]
    ]
    kept = visible(columns, profile_sources)
    return frame[[c.name for c in kept]].rename(columns={c.name: c.label for c in kept})


def _safe(name: object) -> str:
    text = "inconnu" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def inert(value: object) -> object:
    """A cell that no spreadsheet evaluates: text starting with `= + - @`, tab or carriage return is
    prefixed with `'` (how spreadsheet software marks text), unless it is a plain number."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of a list made inert (`inert`); numbers are left as numbers."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(inert)
    return out


def write_lists(frame: pd.DataFrame, folder: Path, file_mode: int = 0o640, folder_mode: int = 0o750) -> list[Path]:
    """One CSV (`;`, UTF-8 with BOM, as French spreadsheets expect) and one XLSX per région (a sheet per
    département) and per département; every text cell inert, files and folders with the given modes."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(folder_mode)
    frame = inert_frame(frame)
    written = []
    region_label, dep_label = "Région", "Département"
    for region, part in frame.groupby(frame[region_label].fillna("inconnue"), sort=True):
        base = folder / f"region_{_safe(region)}"
        part.to_csv(base.with_suffix(".csv"), sep=";", index=False, encoding="utf-8-sig")
        with pd.ExcelWriter(base.with_suffix(".xlsx"), engine="openpyxl") as book:
            part.to_excel(book, sheet_name="Région", index=False)
            for dep, rows in part.groupby(part[dep_label].fillna("inconnu"), sort=True):
                rows.to_excel(book, sheet_name=f"Dép. {_safe(dep)}"[:31], index=False)
        written += [base.with_suffix(".csv"), base.with_suffix(".xlsx")]
        for dep, rows in part.groupby(part[dep_label].fillna("inconnu"), sort=True):
            dep_base = folder / f"departement_{_safe(dep)}"
            rows.to_csv(dep_base.with_suffix(".csv"), sep=";", index=False, encoding="utf-8-sig")
            rows.to_excel(dep_base.with_suffix(".xlsx"), sheet_name="Alertes", index=False, engine="openpyxl")
            written += [dep_base.with_suffix(".csv"), dep_base.with_suffix(".xlsx")]
    for path in written:
        path.chmod(file_mode)
    return written


MANIFEST = "manifest.json"


def write_manifest(folder: Path, about: Mapping[str, object], file_mode: int = 0o640) -> Path:
    """`manifest.json` of a month's lists: what produced them and each file's size and sha256."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        files.append(
            {
                "file": path.relative_to(folder).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    manifest = folder / MANIFEST
    manifest.write_text(json.dumps({**about, "files": files}, indent=2, default=str), encoding="utf-8")
    manifest.chmod(file_mode)
    return manifest


def staging_folder(final: Path) -> Path:
    """A fresh hidden folder beside `final` to write a month's lists into before they are published."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.new-", dir=final.parent))


def publish(staged: Path, final: Path, folder_mode: int = 0o750) -> None:
    """Swap `staged` in as `final` whole: readers see the old lists or the new ones, never a mix,
    and nothing of the old lists (a région without alerts now, another profile) survives."""
    staged.chmod(folder_mode)
    retired = None
    if final.exists():
        retired = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, retired)
    try:
        os.replace(staged, final)
    except BaseException:
        if retired is not None:
            os.replace(retired, final)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
