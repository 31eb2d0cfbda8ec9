"""Subdomain views: malicious labels shown under a benign parent, for training only.

Much malware puts its generated label *under* a parent it does not own: a dynamic-DNS
provider's zone (kraken under ``mooo.com``, RATs under ``duckdns.org``) or a compromised
site. Public DGA feeds hold few such names, and those sit under one or two parents; most
benign names in a resolver log, meanwhile, do have a subdomain part (``api.x.com``). Trees
fitted on that data learn "has a subdomain, so benign" and pass every generated label that
sits below an unseen parent.

A *view* takes a malicious name with no subdomain part and a generated-looking label
(``kq3vbx.net``), keeps its registered label and puts it under a benign registered
domain (``kq3vbx.shop.example``). The label's character statistics, language-model score
and n-grams are the malware's; the parent is benign. Views are added to the training rows
only (never to validation, which sets the alert threshold, nor to any test), and their
features come from the same out-of-fold extractor as the rows they were made from.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

__all__ = [
    "GENERATED_LABEL_QUANTILE",
    "SUBDOMAIN_VIEW_SHARE",
    "domain_views",
    "generated_labels",
    "subdomain_views",
]

#: Views made, as a share of the eligible malicious names without a subdomain part.
#: On the shared DGA data (registered-domain split, two seeds) 0.15 lifts ROC AUC from
#: about 0.982 to 0.994; 0.25 measured no better. See the README's domain figures.
SUBDOMAIN_VIEW_SHARE = 0.15


#: A label counts as generated when the benign-name language model finds it less likely
#: than this share of the benign labels beside it. Views are made from generated labels
#: only: an ordinary-looking malicious label (``paypal-login``) under a benign parent
#: would teach the trees to distrust ``login.example.com``. At 0.05, 91 % of the shared
#: DGA names qualify and about a third of maltrail's phishing and malware names.
GENERATED_LABEL_QUANTILE = 0.05


def generated_labels(
    label_likelihood: NDArray[np.float32], labels: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Rows whose registered label looks generated, by the language model's mean
    log-likelihood of it (``lm:label_mean``), against the benign rows' own quantile."""
    benign = np.asarray(labels) == 0
    if not benign.any():
        return np.zeros(len(label_likelihood), dtype=bool)
    threshold = np.quantile(label_likelihood[benign], GENERATED_LABEL_QUANTILE)
    return np.asarray(label_likelihood < threshold, dtype=bool)


def subdomain_views(
    names: pa.Array,
    labels: NDArray[np.int64],
    *,
    share: float,
    rng: np.random.Generator,
    eligible: NDArray[np.bool_] | None = None,
) -> pa.Array:
    """Views of some of ``names``' malicious rows under parents from its benign rows.

    ``names`` are normalized domain names (nulls allowed); only rows where ``eligible``
    is true (default: all) are sources. Returns a ``large_string`` array of new names,
    all malicious by construction; empty when there is nothing to make them from (no
    eligible malicious name without a subdomain part, or no benign names).
    """
    from vigil.features.domain import registered_domains

    empty = pa.array([], type=pa.large_string())
    if share <= 0 or len(names) == 0:
        return empty
    valid = np.asarray(names.is_valid(), dtype=bool)
    rows = np.flatnonzero(valid)
    present = names.take(pa.array(rows))
    registered = registered_domains(present)
    own = np.asarray(pc.fill_null(pc.equal(present, registered), False), dtype=bool)
    malicious = np.asarray(labels)[rows] == 1
    allowed = np.ones(len(rows), dtype=bool) if eligible is None else np.asarray(eligible)[rows]
    sources = np.flatnonzero(own & malicious & allowed)
    parents = pc.unique(registered.filter(pa.array(~malicious)))
    if len(sources) == 0 or len(parents) == 0:
        return empty
    count = round(share * len(sources))
    if count == 0:
        return empty
    chosen = rng.choice(sources, size=count, replace=False)
    source_names = present.take(pa.array(chosen))
    # a name that is its own registered domain is "label.suffix": the label is all
    # before the first dot
    source_labels = pc.list_element(pc.split_pattern(source_names, ".", max_splits=1), 0)
    parent_rows = rng.integers(0, len(parents), size=count)
    chosen_parents = pc.cast(parents.take(pa.array(parent_rows)), pa.large_string())
    dot = pa.scalar(".", type=pa.large_string())
    views = pc.binary_join_element_wise(source_labels, chosen_parents, dot)
    keep = np.asarray(pc.less_equal(pc.binary_length(views), 253), dtype=bool)
    return views.filter(pa.array(keep))


def domain_views(
    names: pa.Array,
    labels: NDArray[np.int64],
    features: NDArray[np.float32],
    rng: np.random.Generator,
    *,
    share: float,
) -> pa.Array:
    """Views of ``names`` whose domain features (same rows, same order) say their label
    looks generated; the form :func:`vigil.train.entity.fit_features` calls per fold."""
    from vigil.features.domain import FEATURE_NAMES

    likelihood = features[:, FEATURE_NAMES.index("lm:label_mean")]
    eligible = generated_labels(likelihood, labels)
    return subdomain_views(names, labels, share=share, rng=rng, eligible=eligible)
