"""Vectorised encoders of the delivery formats (data-contract.md): numpy in, pyarrow strings out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ENGLISH_MONTHS = np.array(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])
FRENCH_MONTHS = np.array(["janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc"])


def text(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Any numpy array -> pyarrow strings; `null` marks blanks."""
    array = pa.array(values, mask=null) if null is not None else pa.array(values)
    return array if array.type == pa.string() else pc.cast(array, pa.string())


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    months = days.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def yyyymmdd_int(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> integer yyyyMMdd."""
    year, month, day = _parts(days)
    return year * 10_000 + month * 100 + day


def yyyymmdd(days: np.ndarray) -> pa.Array:
    """`20160318` (DGFiP judgments, URSSAF registration dates)."""
    return text(yyyymmdd_int(days))


def urssaf_date(days: np.ndarray) -> pa.Array:
    """URSSAF `(Y)YYMMDD` with year - 1900: 2016-03-18 -> `1160318`."""
    return text(yyyymmdd_int(days) - 19_000_000)


def iso_date(days: np.ndarray) -> pa.Array:
    """`yyyy-MM-dd`."""
    return pc.cast(pa.array(days), pa.string())


def slash_date(days: np.ndarray) -> pa.Array:
    """`dd/MM/yyyy`."""
    return pc.strftime(pa.array(days.astype("datetime64[s]")), format="%d/%m/%Y")


def day_month_year(days: np.ndarray, french: bool = False) -> pa.Array:
    """`ddMMMyyyy`: `26MAY2014`, or with French month names `31déc2015`."""
    year, month, day = _parts(days)
    names = (FRENCH_MONTHS if french else ENGLISH_MONTHS)[month - 1]
    return pc.binary_join_element_wise(pc.utf8_lpad(text(day), width=2, padding="0"), pa.array(names), text(year), "")


def urssaf_period(months: np.ndarray, span: np.ndarray, digits: int = 6) -> pa.Array:
    """URSSAF period of absolute `months` covering `span` months (1, 3 or 12): `YYYYQM` or `YYQM`.

    A 3-month span starting a quarter is `Q0`, a 12-month span starting in January is `62`.
    """
    year = months // 12
    in_year = months % 12
    quarter = in_year // 3 + 1
    qm = np.where(span == 12, 62, np.where(span == 3, quarter * 10, quarter * 10 + in_year % 3 + 1))
    code = (year if digits == 6 else year % 100) * 100 + qm
    return pc.utf8_lpad(text(code), width=digits, padding="0")


def effectif_column(month: int) -> str:
    """Wide headcount column name of an absolute month: July 2016 -> `eff201631`."""
    year, in_year = divmod(month, 12)
    return f"eff{year}{in_year // 3 + 1}{in_year % 3 + 1}"


def comma_euros(cents: np.ndarray) -> pa.Array:
    """Integer cents -> euros with a decimal comma: 506579 -> `5065,79` (negative values allowed)."""
    sign = np.where(cents < 0, "-", "")
    absolute = np.abs(cents)
    return pc.binary_join_element_wise(
        pa.array(sign),
        text(absolute // 100),
        pa.array(np.full(len(cents), ",")),
        pc.utf8_lpad(text(absolute % 100), width=2, padding="0"),
        "",
    )


def dot_decimal(values: np.ndarray, decimals: int = 2) -> pa.Array:
    """Floats rounded to `decimals`, dot decimal separator."""
    return text(np.round(values, decimals))


def lost_zeros(ids: pa.Array) -> pa.Array:
    """An identifier that went through a spreadsheet: `012345678` -> `12345678`."""
    return pc.utf8_ltrim(ids, characters="0")


def spaced_siren(sirens: pa.Array) -> pa.Array:
    """`123456789` -> `123 456 789` (Banque de France D1)."""
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(sirens, 0, 3),
        pc.utf8_slice_codeunits(sirens, 3, 6),
        pc.utf8_slice_codeunits(sirens, 6, 9),
        " ",
    )


def thousands(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers with a space thousands separator: 12345 -> `12 345`."""
    high, low = np.divmod(values, 1000)
    joined = pc.if_else(
        pa.array(high > 0),
        pc.binary_join_element_wise(text(high), pc.utf8_lpad(text(low), width=3, padding="0"), " "),
        text(values),
    )
    return joined if null is None else pc.if_else(pa.array(null), pa.scalar(None, pa.string()), joined)
