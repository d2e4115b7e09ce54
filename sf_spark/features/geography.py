"""Reference tables of public facts: NAF rev.2 divisions to sections, départements to regions."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# NAF rev.2 (= NACE rev.2) sections by their first and last division.
NAF_SECTIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 3),
    ("B", 5, 9),
    ("C", 10, 33),
    ("D", 35, 35),
    ("E", 36, 39),
    ("F", 41, 43),
    ("G", 45, 47),
    ("H", 49, 53),
    ("I", 55, 56),
    ("J", 58, 63),
    ("K", 64, 66),
    ("L", 68, 68),
    ("M", 69, 75),
    ("N", 77, 82),
    ("O", 84, 84),
    ("P", 85, 85),
    ("Q", 86, 88),
    ("R", 90, 93),
    ("S", 94, 96),
    ("T", 97, 98),
    ("U", 99, 99),
)

# INSEE region codes (2016 regions) and their départements.
REGIONS: dict[str, tuple[str, ...]] = {
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "53": ("22", "29", "35", "56"),
    "24": ("18", "28", "36", "37", "41", "45"),
    "94": ("2A", "2B"),
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "32": ("02", "59", "60", "62", "80"),
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "28": ("14", "27", "50", "61", "76"),
    "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "76": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "52": ("44", "49", "53", "72", "85"),
    "93": ("04", "05", "06", "13", "83", "84"),
    "01": ("971",),
    "02": ("972",),
    "03": ("973",),
    "04": ("974",),
    "06": ("976",),
}


def naf_division(naf: Column) -> Column:
    """The two-digit division of a NAF code like `52.21Z` (integer; NULL when not two digits, e.g. `ZZ.ZZZ`)."""
    return F.substring(F.regexp_replace(naf, r"[^0-9A-Za-z]", ""), 1, 2).try_cast("int")


def naf_section(naf: Column) -> Column:
    """The section letter (A-U) of a NAF code, from its division."""
    division = naf_division(naf)
    expr = F.lit(None).cast("string")
    for section, first, last in reversed(NAF_SECTIONS):
        expr = F.when(division.between(first, last), F.lit(section)).otherwise(expr)
    return expr


def departement(commune_code: Column) -> Column:
    """Département of an INSEE commune code: 2 characters, 3 for overseas (97x)."""
    return F.when(commune_code.startswith("97"), F.substring(commune_code, 1, 3)).otherwise(
        F.substring(commune_code, 1, 2)
    )


def region(departement_code: Column) -> Column:
    """INSEE region code of a département code."""
    mapping = F.create_map(
        *[F.lit(x) for dep_region in ((d, r) for r, deps in REGIONS.items() for d in deps) for x in dep_region]
    )
    return mapping[departement_code]
