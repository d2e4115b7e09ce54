"""Synthetic national world: every partner delivery in its real format, driven by a known failure process.

`generate_world(raw_dir, truth_dir, GeneratorParams(...))` writes the deliveries of
`shared/docs/data-contract.md` under `RAW/` and the ground truth under `TRUTH/`; the same seed and
parameters give the same bytes. Firms are drawn, simulated and written in chunks of `chunk_firms`, so
memory does not grow with the number of firms.

World (`firms.py`): `firms` firms of in-scope size (10 to 20,000 employees, Pareto tail: most have 10-49)
plus `small_firm_ratio` x `firms` firms of 1-9 employees that the pipeline must filter out; 1 to 41
establishments (Luhn-valid siren and siret), NAF rev.2 code, département and region, legal category
(about 1.5 % public 7xxx, a few NAF 84/85), creation date; firms are created (`entry_rate`) and closed
over time.

Latent process (`process.py`): a monthly health state 0-7 per firm moved by a Markov chain that depends
on the firm's fragility, size band and sector risk, on its sector family's regime (good / normal /
bad, a Markov chain shared by the family: sector shocks) and on the crisis calendar (economy-wide
shock). A firm fails (first opening of proceedings) with a hazard that depends on its state, size band
and the calendar: lowered during the crisis (`crisis_hazard_factor`), raised for `catch_up_months`
after it; it may also close without proceedings. The true probabilities are exact under that model
(backward recursion over the calendar, given the firm's state and its sector regime at the month; the
crisis calendar is known, shocks are not).

How health shows in the observables, and how noise enters each source (`observe.py` unless said):
- the observables follow the health *state* (accounts and crisis partial activity a lightly smoothed
  `level`), never the future; a firm AR(1) nuisance (cash-flow trouble unrelated to failure) adds rare
  payment incidents, a little headcount noise and a few partial-activity requests;
- URSSAF contributions: +-3 % monthly noise; the worse the health when a month's contributions fall due
  (early in the next month), the more often and the larger the share left unpaid (`MISSED_PAYMENT`,
  `UNPAID_SHARE`); debts are settled only once the firm is back in good health (`urssaf.REPAY_HEALTH`),
  so arrears grow month after month in difficulty; debts incurred in poor health get a payment plan
  at times, firms in deep trouble with arrears ask the CCSF (`urssaf.py`); during the first 6 crisis
  months healthy firms defer their contributions (`crisis_deferral_share`), which creates arrears,
  payment plans and later repayment without failure;
- URSSAF headcount: the firm's size shrunk by its health state (`HEADCOUNT_EFFECT`), a firm trend and
  the nuisance; the latest month of a delivery is provisional for 20 % of rows (revised by the next
  delivery);
- partial activity (`dgefp.py`): ordinary requests far more frequent, and for more of the staff, in
  poor health and in sector downturns (regime), plus weather, supply and nuisance reasons; at the crisis
  peak about `crisis_partial_activity_share` of exposed firms request it whatever their health;
  consumption is a random share of the hours authorised;
- accounts (`accounts.py`): ratios = health over the last months of the exercise + fragility (equity,
  short-term debt, financial charges) + sector regime (turnover, margin) + small persistent firm
  effect and yearly draw; 35 to 50 % of firms file no tax return and most file nothing to Banque de
  France; firms in poor health skip filings more often; 3 % of exercises have a second, less complete
  return; delivery 7 to 13 months after closing;
- proceedings: URSSAF misses about 8 % of the firms in proceedings and DGFiP about 5 % (never both);
  about a quarter of URSSAF effective dates differ from the judgment date by -2 to +7 days.

Agents (`agents.py`): from `agents.start`, the agents receive each month's lists (a good model's view:
the true P18 with a lognormal error, red and orange by share), contact listed firms up to a capacity per
département, rate them in their tool (`suivi_avis`: the rating follows the firm's true health, with
noise, second profiles and revisions) and follow some (`suivi_accompagnement`), which lowers the
firm's failure hazard while the follow-up runs (`help_hazard_factor`). Their tool exports on day 1 of
every month, each export repeating the last `export_months` of lines with their updates.

RAW layout: `RAW/<delivery date>/<prefix>_<YYYYMM of delivery>.csv[.gz]` with the prefixes of
`sources.py`. A row is in the first delivery of its source on or after the date it becomes available,
and nothing in a delivery is dated after the delivery's folder (planned dates excepted: DATE_FIN of a
partial-activity authorisation and Date_echeance of a payment plan lie in the future by nature):
- URSSAF periods are `YYQM` in `Sigfaible_cotisdues` (quarters `YYQ0` for small quarterly payers)
  and `YYYYQM` in `Sigfaible_debits`; amounts are euros with a decimal comma in cotisdues, cents in
  debits;
- URSSAF contributions of a period: day `urssaf_delivery_day` (5) two months after the period ends;
  debt states, plans, CCSF: day 5 of the month after they are recorded; procol: day 5 two months after;
- headcount: every `effectif_every_months` (3) months on day 15, the last `effectif_window_months` (12)
  months up to the previous month (deliveries overlap; the latest wins);
- partial activity: requests on day 10 of the month after the decision (consumption totals of the
  request are those already delivered: 0), consumption on day 10 two months after the month used;
- Sirene: stock snapshots on day 1, at `start`, every `sirene_every_months` months and after `end`;
  `dateDebut` is the closing date of closed units, else the last change before the snapshot;
- bdf / liasses: every `accounts_every_months` months (days 20 / 25), accounts at least
  `accounts_min_lag_months` after their closing month; jugements: day 8 of the next month (10 % a
  month later);
- deliveries run until `delivery_tail_months` after `end`; rows available later are never delivered.

TRUTH layout:
- `probabilities/part-*.parquet`: siren (9-digit string), periode (date, first of month), p_12, p_18,
  p_24 (double, P(first opening in (periode, periode + h months])), in_scope (the generator's view of
  the scope: alive, not in proceedings, >= 10 employees within 36 months, NAF not 84/85, legal
  category not 7xxx), helped (a follow-up of the agents in force that month), hazard_without_help and
  hazard (the month's failure hazard without help and as applied); one row per firm-month alive and not
  yet failed; p_h are the probabilities without help (the agents' help from the month on is not
  counted in them);
- `failures.parquet`: siren, failure_date (judgment date of the first opening), procedure;
- `firms.parquet`: siren, naf, departement, region, legal_category, creation_date, closing_date,
  size_class, base_headcount, in_scope_sized, files_bdf, files_liasse, accounts_closing_month;
- `dirt.json`: the dirt injected on purpose, file by file (paths relative to RAW);
- `panel/part-*.parquet` when `write_panel`: siren, periode, health, headcount, due_cents, paid_cents.

Dirt injected on purpose (exact list in `TRUTH/dirt.json`, drawn from the seed):
- Latin-1: a share `latin1_file_share` of the `Sigfaible_delais`, `Sigfaible_effectif_siret` and
  `Sigfaible_effectif_siren` files (at least one), whose names carry accents;
- lost leading zeros: a share `lost_zeros_file_share` of the `Sigfaible_cotisdues`,
  `Sigfaible_effectif_*` and `Sigfaible_pcoll` files write siren / siret without leading zeros;
- malformed lines: a share `malformed_file_share` of the plain files (at least one) get
  `malformed_lines_per_file` extra lines that are truncated copies of a data line (too few fields);
  `dirt.json` gives their 1-based line numbers (header = line 1);
- duplicated file: `duplicated_files` `Sigfaible_debits` / `Sigfaible_cotisdues` files are delivered a
  second time, byte for byte and under the same name, in the source's next delivery folder (the
  copy inherits the dirt entries of its original);
- gzip: every file of `gzip_sources` (Sirene stocks by default) is `.csv.gz`;
- formats that vary by delivery: bdf `ARRETE_BILAN` with French month names (`31déc2015`) in
  `french_month_file_share` of the files and `D1` written `123 456 789` in about half of them;
  partial-activity dates quoted in about half of the files; headcount cells zero-padded to 3 digits
  (`089`) in deliveries 0, 2, 4... of each headcount source and with a space thousands separator
  (`1 234`) in deliveries 1, 3, 5....
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "GeneratorParams": "params",
    "generate_world": "world",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
