"""Driver-side logic without Spark: file scans, header layouts, source matching."""

from __future__ import annotations

import gzip

import pytest

from sf_spark.ingest import SOURCES_BY_NAME, MissingColumnError, UnknownLayoutError
from sf_spark.ingest.reader import layout_of, scan_file
from sf_spark.ingest.sources import source_of

DEBIT = SOURCES_BY_NAME["urssaf_debit"]
EFFECTIF = SOURCES_BY_NAME["urssaf_effectif"]


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("Sigfaible_debits_202401.csv", "urssaf_debit"),
        ("SIGFAIBLE_DEBITS_202401.CSV", "urssaf_debit"),
        ("Sigfaible_effectif_siret_202401.csv.gz", "urssaf_effectif"),
        ("Sigfaible_effectif_siren_202401.csv", "urssaf_effectif_ent"),
        ("StockUniteLegale_utf8.csv.gz", "sirene_ul"),
        ("StockEtablissement_utf8.csv", "sirene_etab"),
        ("liasses_2023.csv", "dgfip_liasses"),
        ("notes.txt", None),
    ],
)
def test_file_names_match_their_source_case_insensitively(name, source):
    found = source_of(name)
    assert (found.name if found else None) == source


def test_header_is_matched_case_insensitively_in_any_order():
    header = ";".join(reversed(list(dict.fromkeys(f.header.upper() for f in DEBIT.fields)))) + ";EXTRA"
    layout = layout_of(DEBIT, header, "a.csv")
    assert layout.position("Siret") == header.split(";").index("SIRET")
    assert layout.extra == ("EXTRA",)


def test_missing_required_column_names_file_and_column():
    header = ";".join(dict.fromkeys(f.header for f in DEBIT.fields if f.header != "Mt_PO"))
    with pytest.raises(MissingColumnError, match=r"2024-01-05/debits\.csv.*'Mt_PO'"):
        layout_of(DEBIT, header, "2024-01-05/debits.csv")


def test_unknown_layouts_are_refused():
    with pytest.raises(UnknownLayoutError, match="does not look like a urssaf_debit"):
        layout_of(DEBIT, "a;b;c", "x.csv")
    with pytest.raises(UnknownLayoutError, match="empty file"):
        layout_of(DEBIT, "", "x.csv")
    with pytest.raises(UnknownLayoutError, match="eff201604"):
        layout_of(EFFECTIF, "siret;eff201611;eff201604", "x.csv")
    with pytest.raises(UnknownLayoutError, match="no eff"):
        layout_of(EFFECTIF, "siret;compte", "x.csv")


def test_wide_header_months():
    layout = layout_of(EFFECTIF, "compte;siret;eff201631;eff201712;base", "x.csv")
    assert [(name, str(month)) for name, _, month in layout.months] == [
        ("eff201631", "2016-07-01"),
        ("eff201712", "2017-02-01"),
    ]


def test_scan_detects_latin1_gzip_and_content_checksum(tmp_path):
    text = "Siret;Denomination\r\n1;Société\n"
    plain, latin, packed = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv.gz"
    plain.write_bytes(("\ufeff" + text).encode("utf-8"))
    latin.write_bytes(text.encode("latin-1"))
    packed.write_bytes(gzip.compress(("\ufeff" + text).encode("utf-8")))
    a, b, c = scan_file(plain), scan_file(latin), scan_file(packed)
    assert (a.encoding, a.compressed, a.header) == ("utf-8", False, "Siret;Denomination")
    assert (b.encoding, b.header) == ("latin-1", "Siret;Denomination")
    assert c.compressed and c.checksum == a.checksum != b.checksum
