"""Parsers of the partners' encodings (data-contract.md), as Spark column expressions.

Every parser takes a *cleaned* string column (trimmed, blank -> NULL, see `clean`) and returns
the typed value, or NULL when the text cannot be read: the reader turns "non-blank in, NULL out"
into a quarantine reason naming the column and the parser's `kind`. No parser raises on bad
input (Spark runs in ANSI mode: only `try_*` functions and regex-guarded casts are used).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DataType, DateType, DoubleType, IntegerType, StringType

from sf_spark.months import add_months

# Month names of `ddMMMyyyy` dates: English (`MAY`) and French (`déc`, `févr`), any case, with the
# unaccented spellings that Latin-1 round trips produce.
MONTH_NUMBERS: dict[str, int] = {
    "jan": 1,
    "janv": 1,
    "feb": 2,
    "fev": 2,
    "fevr": 2,
    "févr": 2,
    "fév": 2,
    "mar": 3,
    "mars": 3,
    "apr": 4,
    "avr": 4,
    "may": 5,
    "mai": 5,
    "jun": 6,
    "juin": 6,
    "jul": 7,
    "juil": 7,
    "aug": 8,
    "aou": 8,
    "aout": 8,
    "août": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "déc": 12,
}

SPACES = "[\\s\\u00a0\\u202f]"
URSSAF_PERIOD_PATTERN = r"^(\d{2}|\d{4})(\d)(\d)$"
PERIOD_YEARS = (1900, 2099)  # a four-digit period year outside these is a sentinel or a typo


def clean(raw: Column) -> Column:
    """Trimmed text, NULL when blank: the input every parser expects."""
    return F.nullif(F.trim(raw), F.lit(""))


def text(c: Column) -> Column:
    """Text kept as delivered (already cleaned)."""
    return c


def digits_padded(width: int) -> Callable[[Column], Column]:
    """An identifier of `width` digits, left-padded with the zeros a delivery lost; spaces dropped.

    `12345678` -> `012345678` (siren, width 9); NULL for non-digits or more than `width` digits.
    """

    def parse(c: Column) -> Column:
        compact = F.regexp_replace(c, SPACES, "")
        return F.when(compact.rlike(rf"^\d{{1,{width}}}$"), F.lpad(compact, width, "0"))

    return parse


def urssaf_date(c: Column) -> Column:
    """URSSAF `(Y)YYMMDD`, year stored as YYYY - 1900: `1160318` -> 2016-03-18, `990612` -> 1999-06-12."""
    shifted = F.when(c.rlike(r"^\d{6,7}$"), c.cast("int") + F.lit(19_000_000))
    return F.try_to_date(shifted.cast("string"), "yyyyMMdd")


def yyyymmdd(c: Column) -> Column:
    """`20150708` -> 2015-07-08."""
    return F.try_to_date(F.when(c.rlike(r"^\d{8}$"), c), "yyyyMMdd")


def iso_date(c: Column) -> Column:
    """`2007-04-20` -> 2007-04-20."""
    return F.try_to_date(F.when(c.rlike(r"^\d{4}-\d{2}-\d{2}$"), c), "yyyy-MM-dd")


def iso_month(c: Column) -> Column:
    """`2020-12-30` -> 2020-12-01: the first day of the month of an ISO date."""
    return F.trunc(iso_date(c), "month")


def year_month(c: Column) -> Column:
    """`2023-06` -> 2023-06-01."""
    return F.try_to_date(F.when(c.rlike(r"^\d{4}-\d{2}$"), F.concat(c, F.lit("-01"))), "yyyy-MM-dd")


def code_of(allowed: tuple[str, ...]) -> Callable[[Column], Column]:
    """One code among `allowed` (any case) -> the code in lower case; anything else -> NULL."""

    def parse(c: Column) -> Column:
        lowered = F.lower(c)
        return F.when(lowered.isin(*allowed), lowered)

    return parse


def codes_of(allowed: tuple[str, ...]) -> Callable[[Column], Column]:
    """Codes among `allowed` separated by `,` (spaces and case ignored) -> sorted, `,`-joined, lower case;
    NULL when any is unknown."""

    def parse(c: Column) -> Column:
        tokens = F.array_distinct(F.split(F.regexp_replace(F.lower(c), r"\s", ""), ","))
        known = F.forall(tokens, lambda t: t.isin(*allowed))
        return F.when(known, F.array_join(F.array_sort(tokens), ","))

    return parse


def slash_date(c: Column) -> Column:
    """`dd/MM/yyyy` (one-digit day or month accepted): `04/01/2001` -> 2001-01-04."""
    return F.try_to_date(F.when(c.rlike(r"^\d{1,2}/\d{1,2}/\d{4}$"), c), "d/M/yyyy")


def day_month_name_year(c: Column) -> Column:
    """`ddMMMyyyy` with an English or French month name, any case: `26MAY2014`, `31déc2015`."""
    pattern = r"^(\d{1,2})\s*([^\d\s.]+)\.?\s*(\d{4})$"
    lowered = F.lower(c)
    names = F.create_map(*[F.lit(x) for pair in MONTH_NUMBERS.items() for x in pair])
    month = F.try_element_at(names, F.regexp_extract(lowered, pattern, 2))
    day, year = F.regexp_extract(lowered, pattern, 1), F.regexp_extract(lowered, pattern, 3)
    return F.try_to_date(F.concat_ws("-", year, month.cast("string"), day), "yyyy-M-d")


def _period_parts(c: Column) -> tuple[Column, Column, Column]:
    """(first month 1-12, months covered, valid flag) of a URSSAF period `YYQM`/`YYYYQM`."""
    code = F.when(F.length(c) == 3, F.lpad(c, 4, "0")).otherwise(c)
    year_text = F.regexp_extract(code, URSSAF_PERIOD_PATTERN, 1)
    quarter = F.regexp_extract(code, URSSAF_PERIOD_PATTERN, 2).try_cast("int")
    month = F.regexp_extract(code, URSSAF_PERIOD_PATTERN, 3).try_cast("int")
    short_year = year_text.try_cast("int")
    year = (
        F.when(F.length(year_text) == 4, short_year)
        .when(short_year < 50, short_year + 2000)
        .otherwise(short_year + 1900)
    )
    whole_year = (quarter == 6) & (month == 2)
    valid = (
        code.rlike(URSSAF_PERIOD_PATTERN)
        & year.between(*PERIOD_YEARS)
        & (whole_year | (quarter.between(1, 4) & month.between(0, 3)))
    )
    first = F.when(whole_year, 1).when(month == 0, quarter * 3 - 2).otherwise(quarter * 3 - 3 + month)
    span = F.when(whole_year, 12).when(month == 0, 3).otherwise(1)
    start = F.when(valid, F.make_date(year, first, F.lit(1)))
    return start, span, valid


def urssaf_period_start(c: Column) -> Column:
    """First month of a URSSAF period: `201712` -> 2017-02-01, `201630` -> 2016-07-01, `201662` -> 2016-01."""
    start, _, _ = _period_parts(c)
    return start


def urssaf_period_end(c: Column) -> Column:
    """Month after the period (exclusive bound): `201712` -> 2017-03-01, `201662` -> 2017-01-01."""
    start, span, _ = _period_parts(c)
    return F.add_months(start, span)


def urssaf_period_bounds(code: str) -> tuple[date, date] | None:
    """`[start, end)` months of a URSSAF period on the driver (wide headcount headers), None if invalid."""
    match = re.fullmatch(URSSAF_PERIOD_PATTERN, code.zfill(4) if len(code) == 3 else code)
    if match is None:
        return None
    year, quarter, month = int(match[1]), int(match[2]), int(match[3])
    if len(match[1]) == 2:
        year += 2000 if year < 50 else 1900
    if not PERIOD_YEARS[0] <= year <= PERIOD_YEARS[1]:
        return None
    if (quarter, month) == (6, 2):
        first, span = 1, 12
    elif 1 <= quarter <= 4 and 0 <= month <= 3:
        first, span = (quarter * 3 - 2, 3) if month == 0 else (quarter * 3 - 3 + month, 1)
    else:
        return None
    start = date(year, first, 1)
    return start, add_months(start, span)


def decimal_number(c: Column) -> Column:
    """A decimal with a comma or a dot, spaces ignored: `5065,79` -> 5065.79, `-1 234.5` -> -1234.5."""
    compact = F.regexp_replace(c, SPACES, "")
    number = F.when(compact.rlike(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$"), F.regexp_replace(compact, ",", "."))
    return number.try_cast("double")


def cents_to_euros(c: Column) -> Column:
    """Integer cents to euros: `195907` -> 1959.07."""
    return F.when(c.rlike(r"^[+-]?\d{1,18}$"), c.cast("long") / F.lit(100.0))


def integer(c: Column) -> Column:
    """A whole number, sign allowed: `-12` -> -12; NULL for decimals or out of INT range."""
    return F.when(c.rlike(r"^[+-]?\d+$"), c).try_cast("int")


def whole_number(c: Column) -> Column:
    """A count delivered as a decimal: `559.0` -> 559, `8` -> 8; NULL when not whole."""
    number = decimal_number(c)
    return F.when(number == F.floor(number), number).try_cast("int")


def headcount(c: Column) -> Column:
    """A headcount: leading zeros (`089` -> 89) and thousands separators (`1 234` -> 1234) allowed; >= 0."""
    grouped = c.rlike(r"^\d{1,3}([ .,'\u00a0\u202f]\d{3})+$")
    plain = F.when(grouped, F.regexp_replace(c, r"\D", "")).otherwise(c)
    return F.when(plain.rlike(r"^\d+$"), plain).try_cast("int")


def flag(c: Column) -> Column:
    """`1`/`0` (or `true`/`false`, any case) -> boolean."""
    lowered = F.lower(c)
    return F.when(lowered.isin("1", "true"), F.lit(True)).when(lowered.isin("0", "false"), F.lit(False))


PROCEDURES = ("liquidation", "redressement", "sauvegarde")


def procol_procedure(c: Column) -> Column:
    """`Solde_procedure_redressement` -> `redressement` (the procedure token; NULL when none)."""
    tokens = F.split(F.lower(c), "_")
    return F.try_element_at(F.filter(tokens, lambda t: t.isin(*PROCEDURES)), F.lit(1))


def procol_stage(c: Column) -> Column:
    """`Solde_procedure_redressement` -> `solde_procedure` (the label without its procedure token)."""
    tokens = F.split(F.lower(c), "_")
    return F.nullif(F.array_join(F.filter(tokens, lambda t: ~t.isin(*PROCEDURES)), "_"), F.lit(""))


@dataclass(frozen=True)
class Parser:
    """A parser with the type it returns and the name of the encoding used in quarantine reasons.

    `lenient`: a NULL result from non-blank text is a legitimate value (a derived column), not an error.
    """

    kind: str
    parse: Callable[[Column], Column]
    data_type: DataType
    lenient: bool = False

    def __call__(self, c: Column) -> Column:
        return self.parse(c).cast(self.data_type)


def code(allowed: tuple[str, ...]) -> Parser:
    """A parser of one code among `allowed`."""
    return Parser(f"one of {', '.join(allowed)}", code_of(allowed), StringType())


def codes(allowed: tuple[str, ...]) -> Parser:
    """A parser of `,`-separated codes among `allowed`."""
    return Parser(f"codes among {', '.join(allowed)}", codes_of(allowed), StringType())


TEXT = Parser("text", text, StringType())
SIREN = Parser("siren (up to 9 digits)", digits_padded(9), StringType())
SIRET = Parser("siret (up to 14 digits)", digits_padded(14), StringType())
NIC = Parser("nic (up to 5 digits)", digits_padded(5), StringType())
URSSAF_DATE = Parser("URSSAF date (Y)YYMMDD", urssaf_date, DateType())
YYYYMMDD = Parser("date yyyyMMdd", yyyymmdd, DateType())
ISO_DATE = Parser("date yyyy-MM-dd", iso_date, DateType())
ISO_MONTH = Parser("date yyyy-MM-dd", iso_month, DateType())
SLASH_DATE = Parser("date dd/MM/yyyy", slash_date, DateType())
DAY_MONTH_NAME_YEAR = Parser("date ddMMMyyyy", day_month_name_year, DateType())
PERIOD_START = Parser("URSSAF period (YY)YYQM", urssaf_period_start, DateType())
PERIOD_END = Parser("URSSAF period (YY)YYQM", urssaf_period_end, DateType())
DECIMAL = Parser("decimal number", decimal_number, DoubleType())
CENTS = Parser("amount in cents", cents_to_euros, DoubleType())
INTEGER = Parser("integer", integer, IntegerType())
WHOLE_NUMBER = Parser("whole number", whole_number, IntegerType())
HEADCOUNT = Parser("headcount (integer >= 0)", headcount, IntegerType())
FLAG = Parser("flag 0/1", flag, BooleanType())
PROCEDURE = Parser("procedure", procol_procedure, StringType(), lenient=True)
YEAR_MONTH = Parser("month yyyy-MM", year_month, DateType())
STAGE = Parser("stage", procol_stage, StringType(), lenient=True)
