"""The partner sources the generator writes: file name, separator, header, quoting, cadence (one place).

`record_dates` names the columns that date a row's content (and so must never be after the delivery
date) with their encoding; planned dates (end of an authorisation, a plan's due date) are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpec:
    """How one partner source is delivered."""

    name: str
    prefix: str
    separator: str
    columns: tuple[str, ...]
    quote_strings: bool = False
    urssaf: bool = False
    record_dates: tuple[tuple[str, str], ...] = ()

    def file_name(self, stamp: str, gzip: bool) -> str:
        """File name of one delivery, `stamp` = YYYYMM of the delivery."""
        return f"{self.prefix}_{stamp}.csv" + (".gz" if gzip else "")


def _cols(header: str, separator: str) -> tuple[str, ...]:
    return tuple(header.split(separator))


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec(
            "urssaf_cotisation",
            "Sigfaible_cotisdues",
            ";",
            _cols("Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due", ";"),
            urssaf=True,
        ),
        SourceSpec(
            "urssaf_debit",
            "Sigfaible_debits",
            ";",
            _cols(
                "Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;"
                "Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours",
                ";",
            ),
            urssaf=True,
            record_dates=(("Dt_trt_ecn", "urssaf"), ("Dt_immat", "yyyymmdd")),
        ),
        SourceSpec(
            "urssaf_delai",
            "Sigfaible_delais",
            ";",
            _cols(
                "Urssaf_gestion;Dep;Siret;Numero_compte_externe;Numero_structure;Date_creation;Date_echeance;"
                "Duree_delai;Denomination_premiere_ligne;Indic_6M;Annee_creation;Montant_global_echeancier;"
                "Code_externe_stade;Code_externe_action",
                ";",
            ),
            urssaf=True,
            record_dates=(("Date_creation", "dd/MM/yyyy"),),
        ),
        SourceSpec(
            "urssaf_ccsf",
            "Sigfaible_ccsf",
            ";",
            _cols(
                "Urssaf_gestion;Dep;Siret;Compte;Date_de_traitement;Code_externe_stade;Code_externe_action",
                ";",
            ),
            urssaf=True,
            record_dates=(("Date_de_traitement", "urssaf"),),
        ),
        SourceSpec(
            "urssaf_procol",
            "Sigfaible_pcoll",
            ";",
            _cols("Siret;Siren;Dt_effet;Cat_v2;Lib_actx_stdx", ";"),
            urssaf=True,
            record_dates=(("Dt_effet", "ddMMMyyyy"),),
        ),
        SourceSpec(
            "urssaf_effectif",
            "Sigfaible_effectif_siret",
            ";",
            ("compte", "siret", "rais_soc", "ape_ins", "dep", "eff*", "base", "UR_EMET"),
            urssaf=True,
        ),
        SourceSpec(
            "urssaf_effectif_ent",
            "Sigfaible_effectif_siren",
            ";",
            ("siren", "eff*", "rais_soc"),
            urssaf=True,
        ),
        SourceSpec(
            "ap_demande",
            "act_partielle_ddes",
            ",",
            _cols(
                "ID_DA,ETAB_SIRET,EFF_ENT,EFF_ETAB,DATE_STATUT,DATE_DEB,DATE_FIN,HTA,MTA,EFF_AUTO,"
                "MOTIF_RECOURS_SE,PERIMETRE_AP,S_HEURE_CONSOM_TOT,S_EFF_CONSOM_TOT,S_MONTANT_CONSOM_TOT,"
                "RECOURS_ANTERIEUR",
                ",",
            ),
            quote_strings=True,
            record_dates=(("DATE_STATUT", "yyyy-MM-dd"),),
        ),
        SourceSpec(
            "ap_conso",
            "act_partielle_conso",
            ",",
            _cols("ID_DA,ETAB_SIRET,HEURES,MONTANTS,EFFECTIFS,MOIS", ","),
            quote_strings=True,
            record_dates=(("MOIS", "yyyy-MM-dd"),),
        ),
        SourceSpec(
            "sirene_ul",
            "StockUniteLegale",
            ",",
            (
                "siren",
                "statutDiffusionUniteLegale",
                "dateCreationUniteLegale",
                "trancheEffectifsUniteLegale",
                "dateDebut",
                "etatAdministratifUniteLegale",
                "denominationUniteLegale",
                "categorieJuridiqueUniteLegale",
                "activitePrincipaleUniteLegale",
                "nomenclatureActivitePrincipaleUniteLegale",
            ),
            record_dates=(("dateCreationUniteLegale", "yyyy-MM-dd"), ("dateDebut", "yyyy-MM-dd")),
        ),
        SourceSpec(
            "sirene_etab",
            "StockEtablissement",
            ",",
            (
                "siren",
                "nic",
                "siret",
                "statutDiffusionEtablissement",
                "dateCreationEtablissement",
                "trancheEffectifsEtablissement",
                "etablissementSiege",
                "codePostalEtablissement",
                "libelleCommuneEtablissement",
                "codeCommuneEtablissement",
                "dateDebut",
                "etatAdministratifEtablissement",
                "activitePrincipaleEtablissement",
                "nomenclatureActivitePrincipaleEtablissement",
            ),
            record_dates=(("dateCreationEtablissement", "yyyy-MM-dd"), ("dateDebut", "yyyy-MM-dd")),
        ),
        SourceSpec(
            "bdf_ratios",
            "bdf",
            ";",
            _cols(
                "D1;ANNEE;ARRETE_BILAN;DENOM;SECTEUR;POIDS_FRNG;TX_MARGE;DELAI_FRS;POIDS_DFISC_SOC;"
                "POIDS_FIN_CT;POIDS_FRAIS_FIN",
                ";",
            ),
            record_dates=(("ARRETE_BILAN", "ddMMMyyyy"),),
        ),
        SourceSpec(
            "dgfip_liasses",
            "liasses",
            "|",
            _cols(
                "siren|date_deb_exercice|date_fin_exercice|mnt_af_ca|mnt_af_sig_ebe_ret|mnt_af_sig_va_ret|"
                "mnt_af_endettement_net|rto_6|mnt_af_bfonc_bfr|mnt_af_bfonc_tresorerie|"
                "mnt_af_bfonc_actif_circ_expl|mnt_af_bfonc_passif_circ_expl|nbr_af_jours_reglt_fourn|"
                "nbr_af_jours_creance_cli|d_dvs_376_nbr_pers|d_cr_250_expl_salaire|d_actf_stk_march_net|"
                "d_passf_142_k_propres|d_passf_120_k",
                "|",
            ),
            record_dates=(("date_fin_exercice", "yyyy-MM-dd"),),
        ),
        SourceSpec(
            "dgfip_jugements",
            "jugements",
            "|",
            ("siren", "djug", "najug"),
            record_dates=(("djug", "yyyymmdd"),),
        ),
        SourceSpec(
            "agents_feedback",
            "suivi_avis",
            ";",
            _cols("siren;liste;date_avis;avis;motif;departement;profil", ";"),
            record_dates=(("date_avis", "yyyy-MM-dd"),),
        ),
        SourceSpec(
            "agents_followup",
            "suivi_accompagnement",
            ";",
            _cols("siren;date_debut;date_fin;etape;dispositif;departement", ";"),
            record_dates=(("date_debut", "yyyy-MM-dd"), ("date_fin", "yyyy-MM-dd")),
        ),
    )
}
