"""Everything known about one chunk of firms while its deliveries are written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sf_spark.generate.delivery import DeliveryWriter
from sf_spark.generate.firms import Establishments, Firms
from sf_spark.generate.observe import Panel
from sf_spark.generate.params import GeneratorParams
from sf_spark.generate.process import LatentChunk


@dataclass
class Chunk:
    """A chunk of firms: static world, latent path, observable panel.

    Month index 0 is `start_month`; `crisis` flags the crisis months.
    """

    params: GeneratorParams
    start_month: int
    months: int
    crisis: np.ndarray
    firms: Firms
    establishments: Establishments
    latent: LatentChunk
    panel: Panel
    writer: DeliveryWriter
    rng: np.random.Generator
