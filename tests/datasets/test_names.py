"""Every generator refuses a negative size or a malicious share outside [0, 1], the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vigil.datasets.domains import generate_dns_log, generate_domains
from vigil.datasets.ips import generate_ips
from vigil.datasets.powershell import generate_commands, generate_events

GENERATORS: dict[str, Callable[..., Any]] = {
    "generate_commands": generate_commands,
    "generate_events": generate_events,
    "generate_domains": generate_domains,
    "generate_ips": generate_ips,
    "generate_dns_log": lambda n, **kw: generate_dns_log(n, generate_domains(20), **kw),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_negative_size_is_refused(name: str) -> None:
    count = "n_events" if name == "generate_dns_log" else "n"
    with pytest.raises(ValueError, match=rf"^{count} must be >= 0, got -1$"):
        GENERATORS[name](-1)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(name: str, share: float) -> None:
    with pytest.raises(ValueError, match=r"malicious_share must be within \[0, 1\]"):
        GENERATORS[name](10, malicious_share=share)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_edges_are_accepted(name: str) -> None:
    for share in (0.0, 1.0):
        assert GENERATORS[name](4, malicious_share=share).num_rows == 4
