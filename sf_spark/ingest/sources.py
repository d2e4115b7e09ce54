"""One declarative description per partner source of data-contract.md (adding a source = adding one).

A `Source` says which files are its deliveries (case-insensitive glob on the file name, `.gz`
allowed), how lines split into fields, and which header column becomes which typed bronze column
through which parser. Header names match case-insensitively and in any order; extra columns are
ignored. `keys` are the bronze columns that must be present on every row (business keys).
Wide headcount sources (`eff<YYYYQM>` columns) also carry a `WideColumns`, turned into long rows.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column
from pyspark.sql import functions as F

from sf_spark.administrations import ADMINISTRATIONS
from sf_spark.ingest import parsers as p
from sf_spark.ingest.parsers import Parser
from sf_spark.lake import tables

OWNERS = ADMINISTRATIONS
EARLIEST_DATE = date(1900, 1, 1)
YEARS_AFTER_DELIVERY = 10
REGISTER_EARLIEST = date(1600, 1, 1)  # Sirene dates: some firms and establishments predate 1900


@dataclass(frozen=True)
class Field:
    """Header column `header` read by `parser` into bronze column `name`.

    `required`: the header must be in the file (else the file is rejected);
    `not_blank`: the value must be present on every row (else the row is quarantined);
    `minimum`: a number below it is quarantined (0 for hours, counts and amounts that cannot be
    negative); a date outside [`earliest`, delivery date + `years_after_delivery`] is quarantined
    (sentinels such as 9999-12-31 or 1800-01-01 would otherwise expand into centuries of months).
    """

    header: str
    name: str
    parser: Parser = p.TEXT
    required: bool = True
    not_blank: bool = False
    minimum: float | None = None
    earliest: date = EARLIEST_DATE
    years_after_delivery: int = YEARS_AFTER_DELIVERY


@dataclass(frozen=True)
class RowRule:
    """A rule across fields: `broken(value)` (value: bronze column name -> typed column) is true for a row
    that breaks it, which goes to quarantine with `reason`."""

    reason: str
    broken: Callable[[Callable[[str], Column]], Column]


@dataclass(frozen=True)
class WideColumns:
    """One column per month, `<prefix><YYYYQM>`, read by `parser` into long rows (periode, `name`)."""

    prefix: str
    name: str
    parser: Parser


@dataclass(frozen=True)
class Source:
    """How one partner source is delivered and read into `bronze/<name>`."""

    name: str
    owner: str
    patterns: tuple[str, ...]
    separator: str
    quote: str | None
    fields: tuple[Field, ...]
    keys: tuple[str, ...]
    wide: WideColumns | None = None
    rules: tuple[RowRule, ...] = ()

    def __post_init__(self) -> None:
        if self.owner not in OWNERS:
            raise ValueError(f"source {self.name}: unknown owner {self.owner!r}, expected one of {OWNERS}")
        names = {f.name for f in self.fields} | ({"periode", self.wide.name} if self.wide else set())
        if missing := [k for k in self.keys if k not in names]:
            raise ValueError(f"source {self.name}: keys {missing} are not bronze columns")

    @property
    def table(self) -> str:
        return tables.bronze(self.name)

    def matches(self, file_name: str) -> bool:
        """True when `file_name` (plain or `.gz`) is a delivery of this source, case-insensitively."""
        name = file_name.lower().removesuffix(".gz")
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.patterns)

    def value_required(self, field: Field) -> bool:
        return field.not_blank or field.name in self.keys


def _urssaf(
    name: str, pattern: str, fields: tuple[Field, ...], keys: tuple[str, ...], wide: WideColumns | None = None
) -> Source:
    """A URSSAF source: `;`-separated, unquoted."""
    return Source(name, "urssaf", (pattern,), ";", None, fields, keys, wide)


OFFICE = (
    Field("Urssaf_gestion", "urssaf_office", required=False),
    Field("Dep", "departement", required=False),
)
PERIOD = (Field("periode", "period_start", p.PERIOD_START), Field("periode", "period_end", p.PERIOD_END))

SOURCES: tuple[Source, ...] = (
    _urssaf(
        "urssaf_cotisation",
        "Sigfaible_cotisdues*.csv",
        (
            *OFFICE,
            Field("Siret", "siret", p.SIRET),
            Field("Compte", "compte"),
            *PERIOD,
            Field("mer", "mer", required=False),
            Field("enc_direct", "collected_eur", p.DECIMAL),
            Field("cotis_due", "contribution_due_eur", p.DECIMAL),
        ),
        ("compte", "period_start", "period_end"),
    ),
    _urssaf(
        "urssaf_debit",
        "Sigfaible_debits*.csv",
        (
            *OFFICE,
            Field("num_cpte", "compte"),
            Field("Siren", "siren", p.SIREN, required=False),
            Field("Siret", "siret", p.SIRET),
            Field("Dt_immat", "registration_date", p.YYYYMMDD, required=False),
            Field("Etat_cpte", "account_state", p.INTEGER),
            Field("Cd_pro_col", "proceedings_code"),
            Field("Periode", "period_start", p.PERIOD_START),
            Field("Periode", "period_end", p.PERIOD_END),
            Field("Num_Ecn", "debt_number"),
            Field("Num_Hist_Ecn", "history_number", p.INTEGER),
            Field("Dt_trt_ecn", "processed_date", p.URSSAF_DATE, not_blank=True),
            Field("Mt_PO", "employee_share_eur", p.CENTS, minimum=0),
            Field("Mt_PP", "employer_share_eur", p.CENTS, minimum=0),
            Field("Cd_op_ecn", "operation_code"),
            Field("Motif_ecn", "operation_reason", required=False),
            Field("Recours_en_cours", "appeal_pending", p.FLAG, required=False),
        ),
        ("compte", "period_start", "period_end", "debt_number", "history_number"),
    ),
    _urssaf(
        "urssaf_delai",
        "Sigfaible_delais*.csv",
        (
            *OFFICE,
            Field("Siret", "siret", p.SIRET),
            Field("Numero_compte_externe", "compte"),
            Field("Numero_structure", "structure_number"),
            Field("Date_creation", "created_date", p.SLASH_DATE),
            Field("Date_echeance", "due_date", p.SLASH_DATE),
            Field("Duree_delai", "duration_days", p.INTEGER, minimum=0),
            Field("Denomination_premiere_ligne", "company_name", required=False),
            Field("Indic_6M", "over_6_months", required=False),
            Field("Annee_creation", "created_year", p.INTEGER, required=False),
            Field("Montant_global_echeancier", "plan_amount_eur", p.DECIMAL, minimum=0),
            Field("Code_externe_stade", "stage"),
            Field("Code_externe_action", "action"),
        ),
        ("compte", "structure_number", "created_date"),
    ),
    _urssaf(
        "urssaf_ccsf",
        "Sigfaible_ccsf*.csv",
        (
            *OFFICE,
            Field("Siret", "siret", p.SIRET),
            Field("Compte", "compte"),
            Field("Date_de_traitement", "processed_date", p.URSSAF_DATE),
            Field("Code_externe_stade", "stage"),
            Field("Code_externe_action", "action"),
        ),
        ("compte", "processed_date"),
    ),
    _urssaf(
        "urssaf_procol",
        "Sigfaible_pcoll*.csv",
        (
            Field("Siret", "siret", p.SIRET),
            Field("Siren", "siren", p.SIREN),
            Field("Dt_effet", "effective_date", p.DAY_MONTH_NAME_YEAR),
            Field("Cat_v2", "category", required=False),
            Field("Lib_actx_stdx", "event_label"),
            Field("Lib_actx_stdx", "procedure", p.PROCEDURE),
            Field("Lib_actx_stdx", "stage", p.STAGE),
        ),
        ("siren", "effective_date", "event_label"),
    ),
    _urssaf(
        "urssaf_effectif",
        "Sigfaible_effectif_siret*.csv",
        (Field("siret", "siret", p.SIRET), Field("compte", "compte", required=False)),
        ("siret", "periode"),
        wide=WideColumns("eff", "headcount", p.HEADCOUNT),
    ),
    _urssaf(
        "urssaf_effectif_ent",
        "Sigfaible_effectif_siren*.csv",
        (Field("siren", "siren", p.SIREN),),
        ("siren", "periode"),
        wide=WideColumns("eff", "headcount", p.HEADCOUNT),
    ),
    Source(
        "ap_demande",
        "dgefp",
        ("act_partielle_ddes*.csv",),
        ",",
        '"',
        (
            Field("ID_DA", "request_id"),
            Field("ETAB_SIRET", "siret", p.SIRET, not_blank=True),
            Field("EFF_ENT", "company_headcount", p.WHOLE_NUMBER, minimum=0),
            Field("EFF_ETAB", "establishment_headcount", p.WHOLE_NUMBER, minimum=0),
            Field("DATE_STATUT", "status_date", p.ISO_DATE),
            Field("DATE_DEB", "start_date", p.ISO_DATE, not_blank=True),
            Field("DATE_FIN", "end_date", p.ISO_DATE, not_blank=True),
            Field("HTA", "authorised_hours", p.DECIMAL, minimum=0),
            Field("MTA", "authorised_amount_eur", p.DECIMAL, minimum=0),
            Field("EFF_AUTO", "authorised_headcount", p.WHOLE_NUMBER, minimum=0),
            Field("MOTIF_RECOURS_SE", "reason_code", p.INTEGER),
            Field("PERIMETRE_AP", "scope_code", p.INTEGER, required=False),
            Field("S_HEURE_CONSOM_TOT", "consumed_hours", p.DECIMAL, required=False, minimum=0),
            Field("S_EFF_CONSOM_TOT", "consumed_headcount", p.WHOLE_NUMBER, required=False, minimum=0),
            Field("S_MONTANT_CONSOM_TOT", "consumed_amount_eur", p.DECIMAL, required=False, minimum=0),
            Field("RECOURS_ANTERIEUR", "previous_use_code", p.INTEGER, required=False),
        ),
        ("request_id",),
    ),
    Source(
        "ap_conso",
        "dgefp",
        ("act_partielle_conso*.csv",),
        ",",
        '"',
        (
            Field("ID_DA", "request_id"),
            Field("ETAB_SIRET", "siret", p.SIRET, not_blank=True),
            Field("HEURES", "consumed_hours", p.DECIMAL, minimum=0),
            Field("MONTANTS", "consumed_amount_eur", p.DECIMAL, minimum=0),
            Field("EFFECTIFS", "consumed_headcount", p.WHOLE_NUMBER, minimum=0),
            Field("MOIS", "periode", p.ISO_MONTH),
        ),
        ("request_id", "periode"),
    ),
    Source(
        "sirene_ul",
        "insee",
        ("StockUniteLegale*.csv",),
        ",",
        '"',
        (
            Field("siren", "siren", p.SIREN),
            Field("dateCreationUniteLegale", "created_date", p.ISO_DATE, earliest=REGISTER_EARLIEST),
            Field("dateDebut", "state_start_date", p.ISO_DATE, earliest=REGISTER_EARLIEST),
            Field("etatAdministratifUniteLegale", "administrative_state", not_blank=True),
            Field("categorieJuridiqueUniteLegale", "legal_category"),
            Field("activitePrincipaleUniteLegale", "activity_code"),
            Field("nomenclatureActivitePrincipaleUniteLegale", "activity_nomenclature", required=False),
            Field("denominationUniteLegale", "name"),
        ),
        ("siren",),
    ),
    Source(
        "sirene_etab",
        "insee",
        ("StockEtablissement*.csv",),
        ",",
        '"',
        (
            Field("siren", "siren", p.SIREN),
            Field("nic", "nic", p.NIC),
            Field("siret", "siret", p.SIRET),
            Field("dateCreationEtablissement", "created_date", p.ISO_DATE, earliest=REGISTER_EARLIEST),
            Field("etablissementSiege", "is_head_office", p.FLAG),
            Field("codePostalEtablissement", "postal_code"),
            Field("codeCommuneEtablissement", "commune_code"),
            Field("dateDebut", "state_start_date", p.ISO_DATE, earliest=REGISTER_EARLIEST),
            Field("etatAdministratifEtablissement", "administrative_state", not_blank=True),
            Field("activitePrincipaleEtablissement", "activity_code"),
            Field("nomenclatureActivitePrincipaleEtablissement", "activity_nomenclature", required=False),
        ),
        ("siren", "siret"),
    ),
    Source(
        "bdf_ratios",
        "bdf",
        ("bdf*.csv",),
        ";",
        None,
        (
            Field("D1", "siren", p.SIREN),
            Field("ANNEE", "year", p.INTEGER),
            Field("ARRETE_BILAN", "closing_date", p.DAY_MONTH_NAME_YEAR),
            Field("DENOM", "name", required=False),
            Field("SECTEUR", "sector", required=False),
            Field("POIDS_FRNG", "working_capital_weight", p.DECIMAL),
            Field("TX_MARGE", "margin_rate", p.DECIMAL),
            Field("DELAI_FRS", "supplier_delay_days", p.DECIMAL),
            Field("POIDS_DFISC_SOC", "tax_social_debt_weight", p.DECIMAL),
            Field("POIDS_FIN_CT", "short_term_financing_weight", p.DECIMAL),
            Field("POIDS_FRAIS_FIN", "financial_charges_weight", p.DECIMAL),
        ),
        ("siren", "closing_date"),
    ),
    Source(
        "dgfip_liasses",
        "dgfip",
        ("liasses*.csv",),
        "|",
        None,
        (
            Field("siren", "siren", p.SIREN),
            Field("date_deb_exercice", "fiscal_year_start", p.ISO_DATE),
            Field("date_fin_exercice", "fiscal_year_end", p.ISO_DATE),
            Field("mnt_af_ca", "turnover_eur", p.DECIMAL),
            Field("mnt_af_sig_ebe_ret", "ebitda_eur", p.DECIMAL),
            Field("mnt_af_sig_va_ret", "value_added_eur", p.DECIMAL),
            Field("mnt_af_endettement_net", "net_debt_eur", p.DECIMAL),
            Field("rto_6", "self_financing_capacity_eur", p.DECIMAL),
            Field("mnt_af_bfonc_bfr", "working_capital_requirement_eur", p.DECIMAL),
            Field("mnt_af_bfonc_tresorerie", "cash_eur", p.DECIMAL),
            Field("mnt_af_bfonc_actif_circ_expl", "operating_current_assets_eur", p.DECIMAL),
            Field("mnt_af_bfonc_passif_circ_expl", "operating_current_liabilities_eur", p.DECIMAL),
            Field("nbr_af_jours_reglt_fourn", "supplier_payment_days", p.DECIMAL),
            Field("nbr_af_jours_creance_cli", "client_payment_days", p.DECIMAL),
            Field("d_dvs_376_nbr_pers", "employees", p.DECIMAL, minimum=0),
            Field("d_cr_250_expl_salaire", "staff_costs_eur", p.DECIMAL),
            Field("d_actf_stk_march_net", "net_stock_eur", p.DECIMAL),
            Field("d_passf_142_k_propres", "equity_eur", p.DECIMAL),
            Field("d_passf_120_k", "share_capital_eur", p.DECIMAL),
        ),
        ("siren", "fiscal_year_end"),
    ),
    Source(
        "dgfip_jugements",
        "dgfip",
        ("jugements*.csv",),
        "|",
        None,
        (
            Field("siren", "siren", p.SIREN),
            Field("djug", "judgment_date", p.YYYYMMDD),
            Field("najug", "judgment_code"),
        ),
        ("siren", "judgment_date", "judgment_code"),
    ),
)

RATINGS = ("utile", "inutile")
USELESS_REASONS = ("deja_connue", "situation_saine", "hors_perimetre", "donnees_erronees", "autre")
USEFUL_REASONS = ("contact_pris", "accompagnement", "autre")
FOLLOWUP_STAGES = ("contact", "diagnostic", "accompagnement", "cloture")
MEASURES = ("delai_urssaf", "ccsf", "activite_partielle", "mediation_credit", "conciliation", "pret_etat", "aucun")


def _reason_fits(v: Callable[[str], Column]) -> Column:
    """A rating's reason: required and among the `inutile` reasons when not useful; among the `utile`
    reasons, or blank, when useful."""
    useless = v("rating") == "inutile"
    return F.when(useless, v("reason").isNull() | ~v("reason").isin(*USELESS_REASONS)).otherwise(
        v("reason").isNotNull() & ~v("reason").isin(*USEFUL_REASONS)
    )


AGENTS: tuple[Source, ...] = (
    Source(
        "agents_feedback",
        "agents",
        ("suivi_avis*.csv",),
        ";",
        None,
        (
            Field("siren", "siren", p.SIREN),
            Field("liste", "list_month", p.YEAR_MONTH),
            Field("date_avis", "rated_on", p.ISO_DATE, years_after_delivery=0),
            Field("avis", "rating", p.code(RATINGS), not_blank=True),
            Field("motif", "reason", p.code(tuple(dict.fromkeys(USELESS_REASONS + USEFUL_REASONS)))),
            Field("departement", "departement", required=False),
            Field("profil", "profile"),
        ),
        ("siren", "list_month", "profile", "rated_on"),
        rules=(
            RowRule("motif: does not fit avis (required when inutile)", _reason_fits),
            RowRule("date_avis: before the month of its list", lambda v: v("rated_on") < v("list_month")),
        ),
    ),
    Source(
        "agents_followup",
        "agents",
        ("suivi_accompagnement*.csv",),
        ";",
        None,
        (
            Field("siren", "siren", p.SIREN),
            Field("date_debut", "started_on", p.ISO_DATE, years_after_delivery=0),
            Field("date_fin", "ended_on", p.ISO_DATE, years_after_delivery=0),
            Field("etape", "stage", p.code(FOLLOWUP_STAGES), not_blank=True),
            Field("dispositif", "measures", p.codes(MEASURES), not_blank=True),
            Field("departement", "departement", required=False),
        ),
        ("siren", "started_on"),
        rules=(RowRule("date_fin: before date_debut", lambda v: v("ended_on") < v("started_on")),),
    ),
)
SOURCES = SOURCES + AGENTS

SOURCES_BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}


def source_of(file_name: str) -> Source | None:
    """The source whose patterns match `file_name`, or None for a file no source claims."""
    return next((s for s in SOURCES if s.matches(file_name)), None)
