"""Small parsers of the delivery encodings, written from data-contract.md, independent of the generator."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pandas as pd

ENGLISH = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
FRENCH = ["JANV", "FÉVR", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOÛT", "SEPT", "OCT", "NOV", "DÉC"]

HEADERS = {
    "Sigfaible_cotisdues": "Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due",
    "Sigfaible_debits": "Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;"
    "Num_Ecn;Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours",
    "Sigfaible_delais": "Urssaf_gestion;Dep;Siret;Numero_compte_externe;Numero_structure;Date_creation;"
    "Date_echeance;Duree_delai;Denomination_premiere_ligne;Indic_6M;Annee_creation;"
    "Montant_global_echeancier;Code_externe_stade;Code_externe_action",
    "Sigfaible_ccsf": "Urssaf_gestion;Dep;Siret;Compte;Date_de_traitement;Code_externe_stade;Code_externe_action",
    "Sigfaible_pcoll": "Siret;Siren;Dt_effet;Cat_v2;Lib_actx_stdx",
    "act_partielle_ddes": '"ID_DA","ETAB_SIRET","EFF_ENT","EFF_ETAB","DATE_STATUT","DATE_DEB","DATE_FIN",'
    '"HTA","MTA","EFF_AUTO","MOTIF_RECOURS_SE","PERIMETRE_AP","S_HEURE_CONSOM_TOT","S_EFF_CONSOM_TOT",'
    '"S_MONTANT_CONSOM_TOT","RECOURS_ANTERIEUR"',
    "act_partielle_conso": '"ID_DA","ETAB_SIRET","HEURES","MONTANTS","EFFECTIFS","MOIS"',
    "bdf": "D1;ANNEE;ARRETE_BILAN;DENOM;SECTEUR;POIDS_FRNG;TX_MARGE;DELAI_FRS;POIDS_DFISC_SOC;POIDS_FIN_CT;"
    "POIDS_FRAIS_FIN",
    "liasses": "siren|date_deb_exercice|date_fin_exercice|mnt_af_ca|mnt_af_sig_ebe_ret|mnt_af_sig_va_ret|"
    "mnt_af_endettement_net|rto_6|mnt_af_bfonc_bfr|mnt_af_bfonc_tresorerie|mnt_af_bfonc_actif_circ_expl|"
    "mnt_af_bfonc_passif_circ_expl|nbr_af_jours_reglt_fourn|nbr_af_jours_creance_cli|d_dvs_376_nbr_pers|"
    "d_cr_250_expl_salaire|d_actf_stk_march_net|d_passf_142_k_propres|d_passf_120_k",
    "jugements": "siren|djug|najug",
    "suivi_avis": "siren;liste;date_avis;avis;motif;departement;profil",
    "suivi_accompagnement": "siren;date_debut;date_fin;etape;dispositif;departement",
}
SIRENE_USED = {
    "StockUniteLegale": {
        "siren",
        "dateCreationUniteLegale",
        "dateDebut",
        "etatAdministratifUniteLegale",
        "categorieJuridiqueUniteLegale",
        "activitePrincipaleUniteLegale",
        "denominationUniteLegale",
    },
    "StockEtablissement": {
        "siren",
        "nic",
        "siret",
        "dateCreationEtablissement",
        "etablissementSiege",
        "codePostalEtablissement",
        "codeCommuneEtablissement",
        "dateDebut",
        "etatAdministratifEtablissement",
        "activitePrincipaleEtablissement",
    },
}
SEPARATORS = {
    "bdf": ";",
    "liasses": "|",
    "jugements": "|",
    "act_partielle_ddes": ",",
    "act_partielle_conso": ",",
    "StockUniteLegale": ",",
    "StockEtablissement": ",",
}


def prefix_of(path: Path) -> str:
    """`Sigfaible_debits_201907.csv` -> `Sigfaible_debits`."""
    return path.name.split(".")[0].rsplit("_", 1)[0]


def read_text(path: Path) -> str:
    """File text, gunzipped, UTF-8 or else Latin-1."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_delivery(path: Path, bad_lines: set[int] = frozenset()) -> pd.DataFrame:
    """All columns as strings, blanks as NaN, without the listed 1-based malformed line numbers."""
    lines = read_text(path).splitlines()
    kept = [line for number, line in enumerate(lines, start=1) if number not in bad_lines]
    separator = SEPARATORS.get(prefix_of(path), ";")
    return pd.read_csv(io.StringIO("\n".join(kept)), sep=separator, dtype=str, keep_default_na=False, na_values=[""])


def urssaf_date(value: str) -> dt.date:
    """`1160318` -> 2016-03-18."""
    return dt.datetime.strptime(str(int(value) + 19_000_000), "%Y%m%d").date()


def urssaf_period(value: str) -> tuple[dt.date, int]:
    """`YYQM` / `YYYYQM` -> (first month, months covered)."""
    year = int(value[:-2])
    if len(value) == 4:
        year += 2000 if year < 50 else 1900
    quarter, month = int(value[-2]), int(value[-1])
    if (quarter, month) == (6, 2):
        return dt.date(year, 1, 1), 12
    if month == 0:
        return dt.date(year, 3 * quarter - 2, 1), 3
    return dt.date(year, 3 * (quarter - 1) + month, 1), 1


def comma_number(value: str) -> float:
    """`5065,79` or `5065.79` -> 5065.79."""
    return float(value.replace(",", "."))


def day_month_year(value: str) -> dt.date:
    """`26MAY2014` or `31déc2015` -> date."""
    day, rest = int(value[:2]), value[2:].upper()
    year = int(rest[-4:])
    name = rest[:-4]
    month = (ENGLISH.index(name) if name in ENGLISH else FRENCH.index(name)) + 1
    return dt.date(year, month, day)


def effectif_month(column: str) -> dt.date:
    """`eff201631` -> 2016-07-01."""
    year, quarter, month = int(column[3:7]), int(column[7]), int(column[8])
    return dt.date(year, 3 * (quarter - 1) + month, 1)


def headcount_value(value: str) -> int:
    """`089` -> 89, `1 234` -> 1234."""
    return int(value.replace(" ", ""))
