"""INSEE Sirene stock snapshots of legal units and establishments, one per Sirene delivery date."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sf_spark.generate import encodings as enc
from sf_spark.generate.chunk import Chunk
from sf_spark.generate.firms import NAME_SECOND

HEADCOUNT_BANDS = (
    (0, "00"),
    (1, "01"),
    (3, "02"),
    (6, "03"),
    (10, "11"),
    (20, "12"),
    (50, "21"),
    (100, "22"),
    (200, "31"),
    (250, "32"),
    (500, "41"),
    (1000, "42"),
    (2000, "51"),
    (5000, "52"),
    (10_000, "53"),
)
_band_floor = np.array([b[0] for b in HEADCOUNT_BANDS])
_band_code = np.array([b[1] for b in HEADCOUNT_BANDS])


def write_sirene(chunk: Chunk) -> None:
    """Each snapshot lists the units created by its date, in their state at that date."""
    firms, est, panel = chunk.firms, chunk.establishments, chunk.panel
    band = _band_code[np.searchsorted(_band_floor, firms.size, side="right") - 1]
    for source in ("sirene_ul", "sirene_etab"):
        for index, target in enumerate(chunk.writer.schedules[source].deliveries):
            date = target.date
            closed = panel.closing_date <= date
            changed = np.where(firms.change <= date, firms.change, firms.creation)
            debut = np.where(closed, panel.closing_date, changed)
            firm = np.flatnonzero(firms.creation <= date)
            if source == "sirene_ul":
                table = pa.table(
                    {
                        "siren": firms.siren.take(firm),
                        "statutDiffusionUniteLegale": pa.array(np.full(len(firm), "O")),
                        "dateCreationUniteLegale": enc.iso_date(firms.creation[firm]),
                        "trancheEffectifsUniteLegale": pa.array(band[firm]),
                        "dateDebut": enc.iso_date(debut[firm]),
                        "etatAdministratifUniteLegale": pa.array(np.where(closed[firm], "C", "A")),
                        "denominationUniteLegale": firms.name.take(firm),
                        "categorieJuridiqueUniteLegale": pa.array(firms.legal_category[firm]),
                        "activitePrincipaleUniteLegale": pa.array(firms.naf[firm]),
                        "nomenclatureActivitePrincipaleUniteLegale": pa.array(np.full(len(firm), "NAFRev2")),
                    }
                )
            else:
                rows = np.flatnonzero(firms.creation[est.firm] <= date)
                owner = est.firm[rows]
                table = pa.table(
                    {
                        "siren": firms.siren.take(owner),
                        "nic": est.nic.take(rows),
                        "siret": est.siret.take(rows),
                        "statutDiffusionEtablissement": pa.array(np.full(len(rows), "O")),
                        "dateCreationEtablissement": enc.iso_date(firms.creation[owner]),
                        "trancheEffectifsEtablissement": pa.array(np.full(len(rows), "NN")),
                        "etablissementSiege": pa.array(np.where(est.head_office[rows], "true", "false")),
                        "codePostalEtablissement": est.postcode.take(rows),
                        "libelleCommuneEtablissement": pa.array(np.char.upper(NAME_SECOND[owner % len(NAME_SECOND)])),
                        "codeCommuneEtablissement": est.commune.take(rows),
                        "dateDebut": enc.iso_date(debut[owner]),
                        "etatAdministratifEtablissement": pa.array(np.where(closed[owner], "F", "A")),
                        "activitePrincipaleEtablissement": pa.array(firms.naf[owner]),
                        "nomenclatureActivitePrincipaleEtablissement": pa.array(np.full(len(rows), "NAFRev2")),
                    }
                )
            chunk.writer.write_table(source, index, table)
