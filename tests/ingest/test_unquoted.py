"""`parse_unquoted` reads files of several header layouts in one plan, exactly as `parse_lines` reads
each layout on its own: same typed values, same cells, same reasons."""

from __future__ import annotations

import datetime as dt
from functools import reduce

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame
from pyspark.sql.types import StringType, StructField, StructType

from sf_spark.ingest import SOURCES_BY_NAME
from sf_spark.ingest.reader import LINEAGE, TEXT, layout_of, layout_rows, parse_lines, parse_unquoted

AT = dt.datetime(2024, 2, 1, 8, 0)
DELIVERED = dt.date(2024, 2, 1)

DEBIT_FULL = (
    "Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;"
    "Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours"
)
# Other order, optional columns missing, one extra column.
DEBIT_SHORT = "Siret;num_cpte;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;note"

FILES = {
    "urssaf_debit": {
        "a/debits_full.csv": (
            DEBIT_FULL,
            [
                "117;75;A1;123456789;12345678900011;2010-01-01;1;;20230101-20230201;7;1;2023-02-05;100,5;20;1;;",
                "117;75;A1;123456789;12345678900011;2010-01-01;1;;20230101-20230201;7;1;2023-02-05;x;20;1;;",
                "117;75;A1;123456789;12345678900011;2010-01-01;1;;20230101-20230201;7;1;2023-02-05",  # short
                "117;75;A1;;   ;2010-01-01;1;;20230101-20230201;7;1;2023-02-05;1;2;1;;",  # blank key
            ],
        ),
        "b/debits_short.csv": (
            DEBIT_SHORT,
            [
                "12345678900011;A1;1;;20230101-20230201;7;2;2023-03-05;50;0;1;hello",
                "12345678900011;A1;1;;20230101-20230201;7;2;2023-03-05;50;0;1;a;b",  # long
                "12345678900011;A1;1;;20231301-20230201;7;2;2023-03-32;-4;0;1;",  # bad dates
            ],
        ),
    },
    "urssaf_effectif": {
        "a/effectif_1.csv": (
            "compte;siret;eff202311;eff202312",
            [
                "A1;12345678900011;12;13",
                "A1;12345678900011;12;douze",
                "A1;12345678900011;;",
            ],
        ),
        "b/effectif_2.csv": (
            "siret;eff202411;eff202412;eff202413;base",
            [
                "12345678900029;1;2;3;x",
                "12345678900029;1;2",
            ],
        ),
    },
}


def lines(spark, files: dict[str, tuple[str, list[str]]]) -> DataFrame:
    rows = [
        (path, number, AT, f"sum-{path}", DELIVERED, text)
        for path, (header, body) in files.items()
        for number, text in enumerate([header, *body, "  "], start=1)
    ]
    return spark.createDataFrame(rows, StructType([*LINEAGE.fields, StructField(TEXT, StringType())]))


@pytest.mark.parametrize("name", sorted(FILES))
def test_one_plan_for_every_layout_reads_each_file_as_its_own_layout_does(spark, name):
    source, files = SOURCES_BY_NAME[name], FILES[name]
    layouts = {path: layout_of(source, header, path) for path, (header, _) in files.items()}
    every = lines(spark, files)
    merged = every.transform(parse_unquoted(source, layout_rows(spark, source, layouts)))
    one_by_one = reduce(
        DataFrame.unionByName,
        [
            every.where(every["_source_file"] == path).transform(parse_lines(source, layout))
            for path, layout in layouts.items()
        ],
    )
    assert merged.count() == sum(len(body) for _, body in files.values())
    assert merged.where("_reason IS NOT NULL").count() >= 2  # some lines of each source above are bad
    assert_df_equality(merged, one_by_one, ignore_row_order=True, ignore_nullable=True)


def test_a_quoted_source_is_not_split_on_its_separator(spark):
    with pytest.raises(ValueError, match="quoted"):
        parse_unquoted(SOURCES_BY_NAME["sirene_ul"], spark.range(0).toDF("x"))
