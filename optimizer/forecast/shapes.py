"""The SPEC §7 demand shape of each forecast pair, and why (step 7 of
:mod:`optimizer.forecast.forecaster`)."""

from __future__ import annotations

import pandas as pd

COUNT_MEAN = 30.0      # promo demand below this mean is a count: negative binomial
SKEW_CV = 0.5          # relative sd from which the promo's uncertainty is skewed: lognormal
SPIKY_CATEGORY = 0.2   # a category where this share of SKUs had a spike week is spiky


def choose_shapes(audit: pd.DataFrame, kind: str | None) -> tuple[pd.Series, pd.Series]:
    """The SPEC §7 demand shape of each forecast pair, and why (in this order):

    1. ``mean < COUNT_MEAN`` — a count: ``negative_binomial`` (its sd² is above the
       mean, the forecast's Poisson part plus the lift and baseline errors; a normal
       would put probability on negative demand);
    2. a SKU with no past occurrence of the promo (new, or it missed it) — its lift is
       the category's, or read off other promos: ``lognormal``;
    3. a SKU with a spike week in its history, or in a category where SPIKY_CATEGORY of
       the SKUs had one (viral bursts, :func:`~optimizer.forecast.baseline._spike_weeks`): ``lognormal``;
    4. a relative sd of SKEW_CV or more: ``lognormal`` (a multiplicative error that
       large is skewed: a normal would have a tenth of its mass below zero);
    5. otherwise ``normal``.
    """
    mean = audit["mean"].astype(float)
    cv = audit["sd"].astype(float) / mean.where(mean > 0)
    spikes = audit.groupby("sku")["spike_weeks"].transform("sum").fillna(0)
    spiky_sku = audit.groupby("sku")["spike_weeks"].sum() > 0
    cats = audit.drop_duplicates("sku").set_index("sku")["category"].reindex(spiky_sku.index)
    share = spiky_sku.groupby(cats).mean()
    cat_share = audit["category"].map(share).fillna(0.0)
    new = audit["n_past_promos"].fillna(0) == 0
    promo = f"'{kind}'" if kind else "promo"
    dist = pd.Series("normal", index=audit.index, dtype=object)
    reason = pd.Series("", index=audit.index, dtype=object)
    rules = [
        (mean < COUNT_MEAN, "negative_binomial",
         lambda i: f"count demand: mean {mean[i]:.1f} < {COUNT_MEAN:g}, sd {audit['sd'][i]:.1f} (sd² > mean)"),
        (new, "lognormal", lambda i: f"no past {promo} for this SKU: its lift is a category estimate"),
        (spikes > 0, "lognormal", lambda i: f"{int(spikes[i])} spike week(s) in the SKU's history"),
        (cat_share >= SPIKY_CATEGORY, "lognormal",
         lambda i: f"{cat_share[i]:.0%} of the category's SKUs had a spike week"),
        (cv >= SKEW_CV, "lognormal", lambda i: f"relative sd {cv[i]:.2f} ≥ {SKEW_CV:g}: skewed"),
    ]
    left = pd.Series(True, index=audit.index)
    for hit, shape, why in rules:
        pick = left & hit.fillna(False)
        dist[pick] = shape
        reason[pick] = [why(i) for i in audit.index[pick]]
        left &= ~pick
    reason[left] = [f"relative sd {cv[i]:.2f}, no spikes, past {promo} seen" for i in audit.index[left]]
    return dist, reason
