"""Static world of firms (sirens) and establishments (sirets) of one chunk: identity, sector, place, size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sf_spark.generate.calendar import day_in_month
from sf_spark.generate.process import FRAGILITY_SHARES, group_of

# NAF rev.2 code, weight, sector family (shares a regime), sector risk (0 low .. 2 high), turnover per
# employee (thousand euros / year), crisis exposure (share of partial activity at the crisis peak, relative).
SECTORS = (
    ("10.71C", 3.0, 0, 1, 90, 0.6),
    ("10.13B", 1.0, 0, 0, 220, 0.5),
    ("25.62B", 3.0, 1, 1, 120, 1.0),
    ("28.29B", 2.0, 1, 0, 200, 0.9),
    ("29.32Z", 1.0, 1, 1, 250, 1.2),
    ("41.20A", 4.0, 2, 2, 160, 0.9),
    ("43.21A", 5.0, 2, 2, 110, 0.8),
    ("43.32A", 3.0, 2, 2, 100, 0.8),
    ("45.20A", 3.0, 3, 1, 180, 1.0),
    ("46.69B", 3.0, 3, 0, 400, 0.8),
    ("47.11D", 4.0, 3, 1, 250, 0.5),
    ("47.71Z", 3.0, 3, 2, 170, 1.5),
    ("49.41A", 4.0, 4, 1, 130, 0.9),
    ("52.29A", 2.0, 4, 0, 200, 0.8),
    ("55.10Z", 2.0, 5, 2, 80, 1.8),
    ("56.10A", 6.0, 5, 2, 70, 1.8),
    ("56.30Z", 2.0, 5, 2, 60, 1.8),
    ("62.02A", 4.0, 6, 0, 130, 0.5),
    ("70.22Z", 3.0, 6, 0, 150, 0.6),
    ("71.12B", 3.0, 6, 0, 120, 0.6),
    ("73.11Z", 1.5, 6, 1, 140, 1.0),
    ("77.11A", 1.0, 7, 1, 300, 1.2),
    ("78.20Z", 2.0, 7, 1, 60, 1.0),
    ("81.21Z", 4.0, 7, 1, 40, 0.7),
    ("86.10Z", 2.0, 8, 0, 90, 0.4),
    ("87.10A", 2.0, 8, 0, 60, 0.3),
    ("88.10A", 2.0, 8, 0, 50, 0.3),
    ("93.12Z", 1.0, 9, 2, 70, 1.6),
    ("96.02A", 1.5, 9, 1, 60, 1.6),
    ("84.11Z", 0.8, 8, 0, 80, 0.1),
    ("85.31Z", 0.8, 8, 0, 70, 0.1),
)
SECTOR_FAMILIES = 10

# département, weight, region code, URSSAF management code.
PLACES = (
    ("75", 8.0, "11", "117"),
    ("92", 4.0, "11", "117"),
    ("93", 3.0, "11", "117"),
    ("94", 2.5, "11", "117"),
    ("69", 4.0, "84", "827"),
    ("38", 2.0, "84", "827"),
    ("13", 4.0, "93", "937"),
    ("06", 2.0, "93", "937"),
    ("59", 4.0, "32", "317"),
    ("62", 2.0, "32", "317"),
    ("33", 3.0, "75", "727"),
    ("31", 3.0, "76", "737"),
    ("34", 2.0, "76", "737"),
    ("44", 3.0, "52", "527"),
    ("35", 2.0, "53", "537"),
    ("67", 2.0, "44", "427"),
    ("57", 1.5, "44", "427"),
    ("76", 2.0, "28", "257"),
    ("21", 1.0, "27", "267"),
    ("45", 1.0, "24", "247"),
    ("2A", 0.3, "94", "947"),
    ("971", 0.4, "01", "917"),
    ("974", 0.6, "04", "947"),
)

# legal category, weight, allowed for firms of in-scope size.
LEGAL_CATEGORIES = (
    ("5710", 45.0),
    ("5499", 38.0),
    ("5599", 5.0),
    ("5498", 5.0),
    ("9220", 4.0),
    ("7389", 1.0),
    ("7490", 0.5),
    ("6540", 1.5),
)

NAME_FIRST = np.array(
    [
        "Boulangerie",
        "Transports",
        "Garage",
        "Société",
        "Menuiserie",
        "Atelier",
        "Cabinet",
        "Hôtel",
        "Café",
        "Bâtiment",
        "Entreprise",
        "Groupe",
        "Imprimerie",
        "Pâtisserie",
        "Électricité",
        "Agence",
        "Maçonnerie",
        "Laboratoire",
        "Restaurant",
        "Comptoir",
    ]
)
NAME_SECOND = np.array(
    [
        "Dupré",
        "Lefèvre",
        "Martin",
        "Bernard",
        "Crémieux",
        "Fabre",
        "Gauthier",
        "Hébert",
        "Léger",
        "Mercier",
        "Noël",
        "Perrin",
        "Rousseau",
        "Thévenin",
        "Vidal",
        "Moreau",
        "Boucher",
        "François",
        "Gérard",
        "Bouvier",
    ]
)
NAME_THIRD = np.array(["", " et Fils", " Frères", " Services", " Industrie", " du Centre", " de l'Ouest", " & Cie"])
ACCOUNT_CLOSING_MONTHS = (np.array([12, 6, 3, 9, 8, 10]), np.array([0.75, 0.08, 0.07, 0.06, 0.02, 0.02]))

_naf = np.array([s[0] for s in SECTORS])
_sector_weight = np.array([s[1] for s in SECTORS])
_family = np.array([s[2] for s in SECTORS])
_risk = np.array([s[3] for s in SECTORS])
_productivity = np.array([s[4] for s in SECTORS], dtype=float)
_exposure = np.array([s[5] for s in SECTORS])
_dep = np.array([p[0] for p in PLACES])
_place_weight = np.array([p[1] for p in PLACES])
_region = np.array([p[2] for p in PLACES])
_urssaf = np.array([p[3] for p in PLACES])
_legal = np.array([c[0] for c in LEGAL_CATEGORIES])
_legal_weight = np.array([c[1] for c in LEGAL_CATEGORIES])


def _luhn_digit(body: np.ndarray) -> np.ndarray:
    """Check digit making body + digit Luhn-valid; `body` is (n, d) digits, most significant first."""
    from_right = np.arange(body.shape[1])[::-1]
    doubled = np.where(from_right % 2 == 0, body * 2, body)
    total = np.where(doubled > 9, doubled - 9, doubled).sum(axis=1)
    return (10 - total % 10) % 10


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return (values[:, None] // 10 ** np.arange(width - 1, -1, -1)[None, :]) % 10


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values).cast(pa.string()), width=width, padding="0")


def siren_of(index: np.ndarray) -> np.ndarray:
    """Unique, Luhn-valid 9-digit siren of each global firm index (int64)."""
    body = (index.astype(np.int64) * 7_654_321 + 12_345_679) % 100_000_000
    return body * 10 + _luhn_digit(_digits(body, 8))


def siret_of(siren: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Luhn-valid 14-digit siret: siren, 4-digit establishment sequence, check digit (int64)."""
    body = siren * 10_000 + sequence
    return body * 10 + _luhn_digit(_digits(body, 13))


@dataclass(frozen=True)
class Firms:
    """Static attributes of a chunk of firms (one row per siren); dates are datetime64[D]."""

    index: np.ndarray
    siren: pa.Array
    small: np.ndarray
    size: np.ndarray
    size_band: np.ndarray
    group: np.ndarray
    family: np.ndarray
    naf: np.ndarray
    departement: np.ndarray
    region: np.ndarray
    urssaf_code: np.ndarray
    legal_category: np.ndarray
    name: pa.Array
    creation: np.ndarray
    change: np.ndarray
    entry_month: np.ndarray
    productivity: np.ndarray
    exposure: np.ndarray
    contribution_per_employee: np.ndarray
    closing_month: np.ndarray
    files_liasse: np.ndarray
    files_bdf: np.ndarray
    quarterly_payer: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class Establishments:
    """Establishments (sirets) of a chunk; `firm` is the row of their siren in `Firms`."""

    firm: np.ndarray
    siret: pa.Array
    nic: pa.Array
    head_office: np.ndarray
    share: np.ndarray
    account: pa.Array
    commune: pa.Array
    postcode: pa.Array


def make_firms(
    index: np.ndarray,
    small: np.ndarray,
    start_month: int,
    months: int,
    entry_rate: float,
    rng: np.random.Generator,
) -> Firms:
    """Draw the static attributes of firms `index` (global indices); `small` firms stay below 10 employees."""
    n = len(index)
    siren_int = siren_of(index)
    pareto = np.floor(10 * rng.random(n) ** (-1 / 1.25))
    size = np.where(small, 1 + np.minimum(rng.geometric(0.35, n) - 1, 8), np.minimum(pareto, 20_000)).astype(int)
    size_band = np.where(small, 0, np.where(size < 50, 1, 2))
    fragility = rng.choice(len(FRAGILITY_SHARES), n, p=FRAGILITY_SHARES)
    sector = rng.choice(len(SECTORS), n, p=_sector_weight / _sector_weight.sum())
    place = rng.choice(len(PLACES), n, p=_place_weight / _place_weight.sum())
    legal = rng.choice(len(LEGAL_CATEGORIES), n, p=_legal_weight / _legal_weight.sum())
    entrant = rng.random(n) < entry_rate * months / (1 + entry_rate * months)
    entry_month = np.where(entrant, rng.integers(1, months, n), 0)
    age_months = np.minimum(rng.exponential(150, n).astype(int) + 1, 1200)
    creation_month = np.where(entrant, start_month + entry_month, start_month - age_months)
    creation = day_in_month(creation_month, rng.integers(1, 29, n))
    change = creation + rng.integers(30, 4000, n).astype("timedelta64[D]")
    files_bdf_share = np.where(small, 0.02, np.where(size < 50, 0.25, 0.7))
    names = pc.binary_join_element_wise(
        pa.array(NAME_FIRST[rng.integers(0, len(NAME_FIRST), n)]),
        pa.array(NAME_SECOND[rng.integers(0, len(NAME_SECOND), n)]),
        " ",
    )
    names = pc.binary_join_element_wise(names, pa.array(NAME_THIRD[rng.integers(0, len(NAME_THIRD), n)]), "")
    return Firms(
        index=index,
        siren=_padded(siren_int, 9),
        small=small,
        size=size,
        size_band=size_band,
        group=group_of(fragility, size_band, _risk[sector]),
        family=_family[sector],
        naf=_naf[sector],
        departement=_dep[place],
        region=_region[place],
        urssaf_code=_urssaf[place],
        legal_category=_legal[legal],
        name=names,
        creation=creation,
        change=change,
        entry_month=entry_month,
        productivity=_productivity[sector] * 1000 * rng.lognormal(0, 0.3, n),
        exposure=_exposure[sector],
        contribution_per_employee=rng.lognormal(np.log(1100), 0.25, n),
        closing_month=rng.choice(ACCOUNT_CLOSING_MONTHS[0], n, p=ACCOUNT_CLOSING_MONTHS[1]),
        files_liasse=rng.random(n) < np.where(small, 0.5, 0.65),
        files_bdf=rng.random(n) < files_bdf_share,
        quarterly_payer=small & (rng.random(n) < 0.6),
    )


def make_establishments(firms: Firms, rng: np.random.Generator) -> Establishments:
    """One or more establishments per firm (more for larger firms); headcount shares sum to one per firm."""
    n = len(firms)
    extra = np.where(firms.small, rng.random(n) < 0.05, rng.poisson(0.25 + firms.size / 120))
    count = 1 + np.minimum(extra, 40).astype(int)
    firm = np.repeat(np.arange(n), count)
    first = np.cumsum(count) - count
    sequence = np.arange(len(firm)) - first[firm] + 1
    head_office = sequence == 1
    weight = np.where(head_office, 2.0, 1.0) * rng.gamma(2.0, 1.0, len(firm))
    share = weight / np.bincount(firm, weights=weight)[firm]
    siren_int = siren_of(firms.index)[firm]
    siret_int = siret_of(siren_int, sequence)
    siret = _padded(siret_int, 14)
    dep = firms.departement[firm]
    overseas = pa.array(np.char.str_len(dep.astype(str)) == 3)
    local = rng.integers(1, 100, len(firm))
    commune = pc.if_else(
        overseas,
        pc.binary_join_element_wise(pa.array(dep), _padded(local, 2), ""),
        pc.binary_join_element_wise(pa.array(dep), _padded(local * 3, 3), ""),
    )
    postcode = pc.if_else(
        overseas,
        pc.binary_join_element_wise(pa.array(dep), _padded(local, 2), ""),
        pc.binary_join_element_wise(pa.array(np.where(dep == "2A", "20", dep)), _padded(local * 10, 3), ""),
    )
    account = pc.binary_join_element_wise(
        pa.array(firms.urssaf_code[firm]),
        _padded((siret_int * 7_919) % 10**15, 15),
        "",
    )
    return Establishments(
        firm=firm,
        siret=siret,
        nic=pc.utf8_slice_codeunits(siret, 9, 14),
        head_office=head_office,
        share=share,
        account=account,
        commune=commune,
        postcode=postcode,
    )
