"""The agents of the synthetic world: they act on the lists they would have received, rate and follow firms.

Each month t from `agents.start`, the list of t is what a good model would publish: every eligible firm
(in-scope size, NAF and legal category, alive) is ranked by its true 18-month probability times a
lognormal error (`list_noise`), the top `red_share` red and the next `orange_share` orange. The list of t
is received when its data are (month t + 2): listed firms still alive and not contacted in the last
`recontact_months` are contacted with chance `contact_red` / `contact_orange`, red first, up to a monthly
capacity per département (`capacity_per_1000` contacts per 1,000 eligible firms). Each contact is rated
(`utile` far more often when the firm's true health is poor, with reasons that follow its state), now and
then by a second profile, and some ratings are revised a few months later. A share of the firms rated
`utile` is followed (stages contact, diagnostic, accompagnement, cloture; one or two measures) for 4 to 18
months, during which the firm's failure hazard is multiplied by `help_hazard_factor`.

The truth's probabilities stay those without help; it records, per firm-month, whether help was in force
and the failure hazard with and without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from pydantic import Field

from sf_spark.generate.calendar import day_in_month, month_number, month_of, month_start
from sf_spark.strict import StrictModel

if TYPE_CHECKING:
    from sf_spark.generate.chunk import Chunk

FEEDBACK_SOURCE, FOLLOWUP_SOURCE = "agents_feedback", "agents_followup"
LIST_LAG_MONTHS = 2  # the list of month t is received with its data, early in t + 2
PROFILES = np.array(["crp", "urssaf", "dgfip", "banque_de_france", "dreets"])
PROFILE_SHARES = np.array([0.4, 0.25, 0.15, 0.1, 0.1])
USELESS_REASONS = np.array(["deja_connue", "situation_saine", "hors_perimetre", "donnees_erronees", "autre"])
# reasons of an `inutile` rating, for a firm truly in difficulty (health <= 2), in between, or sound (>= 5)
USELESS_SHARES = np.array(
    [
        [0.6, 0.05, 0.12, 0.13, 0.1],
        [0.35, 0.3, 0.15, 0.1, 0.1],
        [0.15, 0.55, 0.15, 0.08, 0.07],
    ]
)
USEFUL_REASONS = np.array(["contact_pris", "autre", ""])
USEFUL_SHARES = np.array([0.65, 0.1, 0.25])
MEASURES = np.array(
    ["delai_urssaf", "ccsf", "activite_partielle", "mediation_credit", "conciliation", "pret_etat", "aucun"]
)
MEASURE_SHARES = np.array([0.35, 0.15, 0.1, 0.12, 0.1, 0.08, 0.1])
STAGES = ("contact", "diagnostic", "accompagnement", "cloture")


class AgentParams(StrictModel):
    """How the synthetic world's agents use the lists (YAML `generator.agents:`)."""

    enabled: bool = Field(True, description="the agents act on the lists and their tool's exports are delivered")
    start: str = Field("2020-01", pattern=r"^\d{4}-\d{2}$", description="first list month the agents act on")
    red_share: float = Field(0.02, ge=0, le=1, description="share of eligible firms on the red list")
    orange_share: float = Field(0.04, ge=0, le=1, description="share of eligible firms on the orange list")
    list_noise: float = Field(0.6, ge=0, description="sd of the log error of the lists' model on the true P18")
    contact_red: float = Field(0.6, ge=0, le=1, description="chance a red firm is contacted")
    contact_orange: float = Field(0.2, ge=0, le=1, description="chance an orange firm is contacted")
    capacity_per_1000: float = Field(
        4.0, ge=0, description="contacts a month per 1,000 eligible firms of a département"
    )
    recontact_months: int = Field(12, ge=1, description="months before a contacted firm can be contacted again")
    useful_difficulty: float = Field(0.85, ge=0, le=1, description="chance of `utile` for a firm in difficulty")
    useful_middle: float = Field(0.5, ge=0, le=1, description="chance of `utile` for a firm in between")
    useful_sound: float = Field(0.2, ge=0, le=1, description="chance of `utile` for a sound firm")
    second_profile_share: float = Field(0.2, ge=0, le=1, description="contacts rated by a second profile too")
    revision_share: float = Field(0.1, ge=0, le=1, description="ratings revised 1 to 3 months later")
    followup_share: float = Field(0.6, ge=0, le=1, description="firms rated `utile` that are followed")
    followup_months: tuple[int, int] = Field((4, 18), description="shortest and longest follow-up, months")
    help_hazard_factor: float = Field(
        0.5, gt=0, le=1, description="failure hazard multiplier while a follow-up is in force"
    )
    export_months: int = Field(12, ge=1, description="months of earlier lines each export repeats")


@dataclass
class AgentRecords:
    """Everything the agents did in one chunk (month indices from the world's start)."""

    helped: np.ndarray  # (firm, month): a follow-up in force that month
    ratings: dict[str, list] = field(default_factory=dict)
    followups: dict[str, list] = field(default_factory=dict)


class Agents:
    """The agents' monthly loop over one chunk, called by `simulate_chunk` after each month's events."""

    def __init__(
        self,
        params: AgentParams,
        start_month: int,
        months: int,
        eligible: np.ndarray,
        departement: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.p, self.start_month, self.months, self.rng = params, start_month, months, rng
        self.first = max(month_number(params.start) - start_month, 0)
        self.eligible = eligible
        _, self.departement = np.unique(departement, return_inverse=True)
        self.eligible_by_departement = np.bincount(self.departement, weights=eligible)
        n = len(eligible)
        self.help_from = np.full(n, months + 1)
        self.help_until = np.full(n, -1)
        self.contactable_from = np.zeros(n, dtype=np.int64)
        self.latest_followup = np.full(n, -1)  # index of the firm's latest follow-up in `ended`
        self.ended: list[int] = []  # each follow-up's last month: planned, or the month its firm failed
        self.pending: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
        self.records = AgentRecords(np.zeros((n, months), dtype=bool))
        for key in ("firm", "list_month", "month", "day", "useful", "reason", "profile"):
            self.records.ratings[key] = []
        for key in ("firm", "month", "day", "measures"):
            self.records.followups[key] = []

    def hazard_factor(self, t: int) -> np.ndarray:
        helped = (self.help_from <= t) & (t <= self.help_until)
        self.records.helped[:, t] = helped
        return np.where(helped, self.p.help_hazard_factor, 1.0)

    def month(self, t: int, alive: np.ndarray, health: np.ndarray, p18: np.ndarray, failed: np.ndarray) -> None:
        """After month t's events: follow-ups of failed firms end, contacts of the list of t - 2 happen, the
        list of t is drawn."""
        ending = np.flatnonzero(failed & (self.help_from <= t) & (self.help_until >= t))
        self.help_until[ending] = t
        for index in self.latest_followup[ending]:
            self.ended[index] = t
        if t in self.pending:
            self._contact(t, alive, health, *self.pending.pop(t))
        if t >= self.first and t + LIST_LAG_MONTHS < self.months:
            self._list(t, alive & self.eligible, p18)

    def _list(self, t: int, eligible: np.ndarray, p18: np.ndarray) -> None:
        firms = np.flatnonzero(eligible)
        if not len(firms):
            return
        score = p18[firms] * np.exp(self.p.list_noise * self.rng.standard_normal(len(firms)))
        order = np.argsort(-score, kind="stable")
        red = round(self.p.red_share * len(firms))
        orange = round(self.p.orange_share * len(firms))
        listed = firms[order[: red + orange]]
        level = np.where(np.arange(red + orange) < red, 2, 1)
        self.pending[t + LIST_LAG_MONTHS] = (listed, level, t)

    def _contact(self, c: int, alive: np.ndarray, health: np.ndarray, listed, level, list_month: int) -> None:
        p, rng = self.p, self.rng
        chance = np.where(level == 2, p.contact_red, p.contact_orange)
        keep = alive[listed] & (self.contactable_from[listed] <= c) & (rng.random(len(listed)) < chance)
        listed, level = listed[keep], level[keep]
        if not len(listed):
            return
        dept = self.departement[listed]
        capacity = np.floor(
            p.capacity_per_1000 * self.eligible_by_departement / 1000 + rng.random(len(self.eligible_by_departement))
        )
        order = np.lexsort((rng.random(len(listed)), -level, dept))
        ranks = np.empty(len(listed), dtype=np.int64)
        sorted_dept = dept[order]
        starts = np.searchsorted(sorted_dept, sorted_dept, side="left")
        ranks[order] = np.arange(len(listed)) - starts
        chosen = listed[ranks < capacity[dept]]
        if not len(chosen):
            return
        self.contactable_from[chosen] = c + p.recontact_months
        state = np.digitize(health[chosen], [3, 5])  # 0: difficulty (<= 2), 1: in between, 2: sound (>= 5)
        useful = rng.random(len(chosen)) < np.array([p.useful_difficulty, p.useful_middle, p.useful_sound])[state]
        followed = useful & (rng.random(len(chosen)) < p.followup_share)
        day = rng.integers(1, 29, len(chosen))
        reason = self._reasons(useful, followed, state)
        profile = rng.choice(len(PROFILES), len(chosen), p=PROFILE_SHARES)
        self._rate(chosen, list_month, c, day, useful, reason, profile)
        second = rng.random(len(chosen)) < p.second_profile_share
        if second.any():
            other = (profile[second] + rng.integers(1, len(PROFILES), second.sum())) % len(PROFILES)
            agree = rng.random(second.sum()) < 0.8
            useful2 = np.where(agree, useful[second], ~useful[second])
            reason2 = self._reasons(useful2, followed[second] & useful2, state[second])
            self._rate(chosen[second], list_month, c, np.minimum(day[second] + 2, 28), useful2, reason2, other)
        revised = rng.random(len(chosen)) < p.revision_share
        if revised.any():
            later = c + rng.integers(1, 4, revised.sum())
            flip = ~followed[revised] & (rng.random(revised.sum()) < 0.5)
            useful3 = np.where(flip, ~useful[revised], useful[revised])
            reason3 = self._reasons(useful3, followed[revised] & useful3, state[revised])
            inside = later < self.months
            self._rate(
                chosen[revised][inside],
                list_month,
                later[inside],
                rng.integers(1, 29, inside.sum()),
                useful3[inside],
                reason3[inside],
                profile[revised][inside],
            )
        self._follow(chosen[followed], c, day[followed])

    def _reasons(self, useful: np.ndarray, followed: np.ndarray, state: np.ndarray) -> np.ndarray:
        rng = self.rng
        cumulative = USELESS_SHARES.cumsum(axis=1)[state]
        useless = USELESS_REASONS[(rng.random(len(state))[:, None] > cumulative).sum(axis=1).clip(0, 4)]
        kind = USEFUL_REASONS[rng.choice(len(USEFUL_REASONS), len(state), p=USEFUL_SHARES)]
        return np.where(useful, np.where(followed, "accompagnement", kind), useless)

    def _rate(self, firms, list_month, month, day, useful, reason, profile) -> None:
        r = self.records.ratings
        r["firm"].append(firms)
        r["list_month"].append(np.full(len(firms), list_month))
        r["month"].append(np.broadcast_to(month, firms.shape).copy())
        r["day"].append(np.asarray(day))
        r["useful"].append(np.asarray(useful))
        r["reason"].append(np.asarray(reason, dtype=object))
        r["profile"].append(np.asarray(profile))

    def _follow(self, firms: np.ndarray, c: int, day: np.ndarray) -> None:
        if not len(firms):
            return
        rng, (shortest, longest) = self.rng, self.p.followup_months
        duration = rng.integers(shortest, longest + 1, len(firms))
        self.help_from[firms] = c + 1
        self.help_until[firms] = c + duration
        self.latest_followup[firms] = len(self.ended) + np.arange(len(firms))
        self.ended.extend((c + duration).tolist())
        self.contactable_from[firms] = np.maximum(self.contactable_from[firms], c + duration + 1)
        first = rng.choice(len(MEASURES), len(firms), p=MEASURE_SHARES)
        second = np.where(
            (MEASURES[first] != "aucun") & (rng.random(len(firms)) < 0.3),
            rng.choice(len(MEASURES) - 1, len(firms)),
            -1,
        )
        measures = np.array(
            [
                MEASURES[a] if b < 0 or b == a else ",".join(MEASURES[sorted((a, b))])
                for a, b in zip(first, second, strict=True)
            ],
            dtype=object,
        )
        f = self.records.followups
        f["firm"].append(firms)
        f["month"].append(np.full(len(firms), c))
        f["day"].append(np.minimum(day + rng.integers(0, 10, len(firms)), 28))
        f["measures"].append(measures)

    def finish(self) -> AgentRecords:
        """The chunk's records, each follow-up with its last month (`ended_month`)."""
        r, f = self.records.ratings, self.records.followups
        for key in r:
            r[key] = np.concatenate(r[key]) if r[key] else np.array([], dtype=object if key == "reason" else np.int64)
        for key in f:
            f[key] = np.concatenate(f[key]) if f[key] else np.array([], dtype=object if key == "measures" else np.int64)
        f["ended_month"] = np.array(self.ended, dtype=np.int64)
        return self.records


def _stage(elapsed: np.ndarray, ended: np.ndarray) -> np.ndarray:
    return np.where(ended, STAGES[3], np.where(elapsed >= 2, STAGES[2], np.where(elapsed >= 1, STAGES[1], STAGES[0])))


def feedback_export(
    records: AgentRecords, siren: pa.Array, departement: np.ndarray, start_month: int, month: int, export_months: int
) -> pa.Table:
    """The ratings export of the first day of absolute month `month`: every rating of the lists of the
    last `export_months` months given before that day, the latest per (siren, list, profile)."""
    r = records.ratings
    given = start_month + r["month"] < month
    recent = start_month + r["list_month"] >= month - export_months
    rows = np.flatnonzero(given & recent)
    if not len(rows):
        return _feedback_table(siren, departement, r, start_month, rows)
    when = r["month"][rows] * 31 + r["day"][rows]
    key = (r["firm"][rows] * 10_000 + r["list_month"][rows]) * 10 + r["profile"][rows]
    order = np.lexsort((when, key))
    last = np.append(key[order][1:] != key[order][:-1], True)
    return _feedback_table(siren, departement, r, start_month, np.sort(rows[order[last]]))


def _feedback_table(siren, departement, r, start_month: int, rows: np.ndarray) -> pa.Table:
    firm = r["firm"][rows]
    return pa.table(
        {
            "siren": siren.take(pa.array(firm, type=pa.int64())),
            "liste": pa.array([str(m)[:7] for m in month_start(start_month + r["list_month"][rows])], pa.string()),
            "date_avis": pa.array(
                day_in_month(start_month + r["month"][rows], r["day"][rows]).astype(str), pa.string()
            ),
            "avis": pa.array(np.where(r["useful"][rows], "utile", "inutile").astype(str), pa.string()),
            "motif": pa.array(r["reason"][rows].astype(str), pa.string()),
            "departement": pa.array(departement[firm].astype(str), pa.string()),
            "profil": pa.array(PROFILES[r["profile"][rows]].astype(str), pa.string()),
        }
    )


def followup_export(
    records: AgentRecords, siren: pa.Array, departement: np.ndarray, start_month: int, month: int, export_months: int
) -> pa.Table:
    """The follow-ups export of the first day of absolute month `month`: every follow-up started before
    that day and not ended more than `export_months` before it, at its stage of that day."""
    f = records.followups
    started = start_month + f["month"] < month
    ended_month = start_month + f["ended_month"]
    rows = np.flatnonzero(started & (ended_month >= month - export_months))
    firm = f["firm"][rows]
    ended = ended_month[rows] < month
    elapsed = month - (start_month + f["month"][rows]) - 1
    begin = day_in_month(start_month + f["month"][rows], f["day"][rows])
    end = day_in_month(ended_month[rows], f["day"][rows])
    return pa.table(
        {
            "siren": siren.take(pa.array(firm, type=pa.int64())),
            "date_debut": pa.array(begin.astype(str), pa.string()),
            "date_fin": pa.array(np.where(ended, end.astype(str), "").astype(str), pa.string()),
            "etape": pa.array(_stage(elapsed, ended).astype(str), pa.string()),
            "dispositif": pa.array(f["measures"][rows].astype(str), pa.string()),
            "departement": pa.array(departement[firm].astype(str), pa.string()),
        }
    )


def write_agents(chunk: Chunk, records: AgentRecords) -> None:
    """Both exports of the agents' tool, one per delivery, each repeating the recent lines with their updates."""
    params = chunk.params.agents
    for source, export in ((FEEDBACK_SOURCE, feedback_export), (FOLLOWUP_SOURCE, followup_export)):
        schedule = chunk.writer.schedules[source]
        for index, delivery in enumerate(schedule.deliveries):
            month = int(month_of(np.array([delivery.date]))[0])
            table = export(
                records, chunk.firms.siren, chunk.firms.departement, chunk.start_month, month, params.export_months
            )
            chunk.writer.write_table(source, index, table)
