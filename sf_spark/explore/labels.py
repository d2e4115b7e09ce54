"""Readable names of the codes notebooks plot: INSEE regions, NAF sections, explanation topics."""

from __future__ import annotations

# INSEE codes of the 2016 regions (the codes of `sf_spark.features.geography.REGIONS`).
REGION_NAMES: dict[str, str] = {
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
}

# NAF rev.2 sections, shortened.
NAF_SECTION_NAMES: dict[str, str] = {
    "A": "Agriculture, forestry, fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam",
    "E": "Water, sewerage, waste",
    "F": "Construction",
    "G": "Wholesale and retail trade",
    "H": "Transport and storage",
    "I": "Accommodation and food",
    "J": "Information and communication",
    "K": "Finance and insurance",
    "L": "Real estate",
    "M": "Professional, scientific, technical",
    "N": "Administrative and support",
    "O": "Public administration",
    "P": "Education",
    "Q": "Health and social work",
    "R": "Arts, entertainment, recreation",
    "S": "Other services",
    "T": "Households as employers",
    "U": "Extraterritorial bodies",
}

# The topics of `sf_spark.features.catalogue.TOPICS`, in words.
TOPIC_LABELS: dict[str, str] = {
    "social_debt": "social debt (URSSAF arrears)",
    "partial_activity": "partial activity",
    "financial_health": "financial health (accounts)",
    "employment": "employment",
    "payment_plans": "payment delays and plans",
    "sector": "position within its sector",
    "identity": "identity (age, sector, location)",
}
