"""The administrations whose data the pipeline crosses, named once.

Every bronze source has one owner among them, every feature its sources, and an export profile the
ones whose data it may see. Sirene (INSEE) is public: identity and scores are in every profile, so a
profile lists only the restricted ones. The agents' own tool (`agents`: their ratings and follow-ups)
is seen by every profile that sees scores.
"""

from __future__ import annotations

from typing import Literal

ADMINISTRATIONS = ("urssaf", "dgefp", "insee", "bdf", "dgfip", "agents")
RESTRICTED = ("urssaf", "dgefp", "bdf", "dgfip")
Restricted = Literal["urssaf", "dgefp", "bdf", "dgfip"]
