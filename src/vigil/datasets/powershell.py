"""Labelled PowerShell command lines and SIEM-like process events, generated so demos need no logs.

Benign rows carry the tokens admins really use (``-ExecutionPolicy Bypass``, ``-NoProfile``,
``-EncodedCommand`` launches from deployment tools, downloads from internal artifact servers,
``Add-Type``, ``schtasks /create``); malicious rows come plain as well as obfuscated. A model
trained on them has to weigh tokens together rather than key on one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from random import Random
from typing import Literal, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.datasets import _vocab as v
from vigil.datasets._benign import BENIGN_FAMILIES
from vigil.datasets._malicious import MALICIOUS_FAMILIES
from vigil.datasets._names import check_sizes
from vigil.datasets.obfuscation import (
    OBFUSCATIONS,
    abbreviate_flags,
    encode_command,
    launcher_flags,
    random_case,
    split_launcher,
)

__all__ = [
    "BENIGN_FAMILIES",
    "MALICIOUS_FAMILIES",
    "Sample",
    "content_key",
    "fleet_hosts",
    "generate_commands",
    "generate_events",
    "sample_command",
    "split_by_content",
]

Family = Callable[[Random], str]

#: Share of benign rows re-launched with -EncodedCommand, as configuration-management agents,
#: SCCM and Ansible do.
BENIGN_ENCODED_SHARE = 0.12
#: Share of benign rows whose launch flags are written short (``-nop``, ``-ep bypass``).
BENIGN_ABBREVIATED_SHARE = 0.10
#: Share of benign rows typed in odd case.
BENIGN_RANDOM_CASE_SHARE = 0.03
#: How often each transform is picked for a malicious row chosen for obfuscation.
MALICIOUS_TRANSFORM_RATES = {
    "split_strings": 0.35,
    "insert_ticks": 0.35,
    "random_case": 0.35,
    "frombase64_wrap": 0.12,
    "encode_command": 0.30,
    "abbreviate_flags": 0.30,
    "insert_carets": 0.12,
}
#: Share of benign events drawn from the fleet's recurring command lines (scheduled tasks).
RECURRING_SHARE = 0.6
#: Days an event table spans.
EVENT_SPAN_DAYS = 7
#: Hosts in the generated fleet.
FLEET_SIZE = 500
DEFAULT_START = datetime(2024, 6, 3, tzinfo=UTC)

_POWERSHELL = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
_POWERSHELL_WOW64 = "C:\\Windows\\SysWOW64\\WindowsPowerShell\\v1.0\\powershell.exe"
_PWSH = "C:\\Program Files\\PowerShell\\7\\pwsh.exe"
_SCHEDULED_PARENTS = (
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\CCM\\CcmExec.exe",
    "C:\\Program Files (x86)\\Microsoft Intune Management Extension\\"
    "Microsoft.Management.Services.IntuneWindowsAgent.exe",
    "C:\\Windows\\System32\\wsmprovhost.exe",
    "C:\\Program Files\\Puppet Labs\\Puppet\\puppet\\bin\\ruby.exe",
    "C:\\WindowsAzure\\GuestAgent\\WaAppAgent.exe",
)
_INTERACTIVE_PARENTS = (
    "C:\\Windows\\explorer.exe",
    "C:\\Windows\\System32\\cmd.exe",
    "C:\\Program Files\\WindowsApps\\Microsoft.WindowsTerminal\\WindowsTerminal.exe",
    "C:\\Users\\Public\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\CCM\\CcmExec.exe",
    "C:\\Windows\\System32\\wsmprovhost.exe",
    "C:\\Program Files\\Jenkins\\jenkins.exe",
)
_MALICIOUS_PARENTS = (
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
    "C:\\Windows\\System32\\mshta.exe",
    "C:\\Windows\\System32\\wscript.exe",
    "C:\\Windows\\System32\\cscript.exe",
    "C:\\Windows\\System32\\cmd.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\Windows\\System32\\rundll32.exe",
    "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
    "C:\\Windows\\System32\\services.exe",
    "C:\\Windows\\System32\\svchost.exe",
)
#: How the launching line names the executable; pwsh is about one in eight.
_LAUNCH_EXES = (
    *("powershell.exe",) * 6,
    *("powershell", "PowerShell.exe", _POWERSHELL) * 2,
    "pwsh",
    "pwsh.exe",
)
_SYSTEM_USERS = ("NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\NETWORK SERVICE")

_BENIGN_NAMES = tuple(BENIGN_FAMILIES)
_MALICIOUS_NAMES = tuple(MALICIOUS_FAMILIES)


class Sample(NamedTuple):
    """One generated row: the text, its label, the template family and the transforms applied."""

    command_line: str
    label: int
    family: str
    obfuscations: tuple[str, ...]


def sample_command(
    rng: Random,
    *,
    malicious: bool,
    family: str | None = None,
    obfuscation_rate: float = 0.5,
    benign_transforms: bool = True,
) -> Sample:
    """Generate one command line or script block.

    Args:
        rng: Source of all randomness.
        malicious: Which class to draw from.
        family: A key of ``BENIGN_FAMILIES`` / ``MALICIOUS_FAMILIES``; random when ``None``.
        obfuscation_rate: Share of malicious rows that get at least one obfuscation.
        benign_transforms: Whether benign rows get the admins' own transforms (encoded
            launches, short flags, odd case) at their fixed rates.

    Raises:
        KeyError: ``family`` is not a family of the requested class.
    """
    families = MALICIOUS_FAMILIES if malicious else BENIGN_FAMILIES
    name = (
        family
        if family is not None
        else rng.choice(_MALICIOUS_NAMES if malicious else _BENIGN_NAMES)
    )
    text = _present(families[name](rng), rng, malicious)
    if malicious:
        text, applied = _obfuscate_malicious(text, rng, obfuscation_rate)
    elif benign_transforms:
        text, applied = _obfuscate_benign(text, rng)
    else:
        applied = ()
    return Sample(text, int(malicious), name, applied)


def _present(script: str, rng: Random, malicious: bool) -> str:
    """Half the time a bare script block, otherwise a ``powershell.exe ... -Command`` line."""
    head, _, _ = split_launcher(script)
    if head or "\n" in script or rng.random() < 0.5:
        return script
    return _command_launch(script, rng, malicious)


def _command_launch(script: str, rng: Random, malicious: bool) -> str:
    """``powershell.exe [flags] -Command "script"``; each class mostly uses its own flag style."""
    attacker_style_share = 0.7 if malicious else 0.15
    style: Literal["attacker", "admin"] = (
        "attacker" if rng.random() < attacker_style_share else "admin"
    )
    flags = launcher_flags(rng, style) if malicious or rng.random() < 0.75 else ""
    exe = rng.choice(_LAUNCH_EXES)
    command = rng.choice(("-Command", "-Command", "-command", "-c", "-C"))
    if '"' in script:
        body = '"' + script.replace('"', '\\"') + '"'
    elif rng.random() < 0.85:
        body = f'"{script}"'
    else:
        body = script
    return " ".join(part for part in (exe, flags, command, body) if part)


def _obfuscate_benign(text: str, rng: Random) -> tuple[str, tuple[str, ...]]:
    applied: list[str] = []
    if rng.random() < BENIGN_RANDOM_CASE_SHARE:
        text = _apply("random_case", random_case, text, rng, applied)
    if rng.random() < BENIGN_ENCODED_SHARE:
        text = encode_command(text, rng, style="admin")
        applied.append("encode_command")
    if rng.random() < BENIGN_ABBREVIATED_SHARE:
        text = _apply("abbreviate_flags", abbreviate_flags, text, rng, applied)
    return text, tuple(applied)


def _obfuscate_malicious(text: str, rng: Random, rate: float) -> tuple[str, tuple[str, ...]]:
    if rng.random() >= rate:
        return text, ()
    chosen = [name for name, p in MALICIOUS_TRANSFORM_RATES.items() if rng.random() < p]
    if not chosen:
        chosen = [rng.choice(tuple(MALICIOUS_TRANSFORM_RATES))]
    applied: list[str] = []
    for name in OBFUSCATIONS:  # registry order: script first, then wrapping, then launcher
        if name in chosen:
            text = _apply(name, _MALICIOUS_TRANSFORMS[name], text, rng, applied)
    fallbacks = list(MALICIOUS_TRANSFORM_RATES)
    rng.shuffle(fallbacks)
    while not applied:  # none of the chosen had anything to work on; encode_command always does
        name = fallbacks.pop()
        text = _apply(name, _MALICIOUS_TRANSFORMS[name], text, rng, applied)
    return text, tuple(applied)


def _attacker_encode(text: str, rng: Random) -> str:
    return encode_command(text, rng, style="attacker" if rng.random() < 0.75 else "admin")


_MALICIOUS_TRANSFORMS = {**OBFUSCATIONS, "encode_command": _attacker_encode}


def _apply(
    name: str, transform: Callable[[str, Random], str], text: str, rng: Random, applied: list[str]
) -> str:
    """Apply one transform; record it in ``applied`` only if it changed the text."""
    out = transform(text, rng)
    if out != text:
        applied.append(name)
    return out


def generate_commands(
    n: int, *, malicious_share: float = 0.1, seed: int = 0, obfuscation_rate: float = 0.5
) -> pa.Table:
    """A labelled table of ``n`` generated command lines; the same seed gives the same table.

    Args:
        n: Rows.
        malicious_share: Share of rows labelled 1, exactly ``round(n * malicious_share)``.
        seed: Seed for every random choice.
        obfuscation_rate: Share of malicious rows that get at least one obfuscation.

    Returns:
        Columns ``command_line`` (large_string), ``label`` (int8: 1 malicious, 0 benign),
        ``family`` (template family) and ``obfuscations`` (comma-joined transform names, ``''``
        when none changed the text).
    """
    rng = Random(seed)
    is_malicious = _labels(n, malicious_share, rng)
    texts: list[str] = []
    families: list[str] = []
    applied: list[str] = []
    for malicious in is_malicious:  # per row: each row is its own template draw
        sample = sample_command(rng, malicious=malicious, obfuscation_rate=obfuscation_rate)
        texts.append(sample.command_line)
        families.append(sample.family)
        applied.append(",".join(sample.obfuscations))
    return pa.table(
        {
            "command_line": pa.array(texts, type=pa.large_string()),
            "label": pa.array(np.asarray(is_malicious, dtype=np.int8)),
            "family": pa.array(families, type=pa.string()),
            "obfuscations": pa.array(applied, type=pa.string()),
        }
    )


def _labels(n: int, share: float, rng: Random) -> list[bool]:
    check_sizes("n", n, share)
    labels = [False] * n
    for i in rng.sample(range(n), round(n * share)):
        labels[i] = True
    return labels


def fleet_hosts(size: int = FLEET_SIZE) -> list[str]:
    """The generated fleet's host names: the same for every seed, so event tables join up."""
    rng = Random(20240603)
    hosts: dict[str, None] = {}
    while len(hosts) < size:
        role = rng.choices(
            v.ROLES, weights=[3 if r in ("ws", "lt", "vdi") else 1 for r in v.ROLES]
        )[0]
        hosts[f"{role}-{rng.choice(v.SITES)}-{rng.randint(1, 250):03d}"] = None
    return list(hosts)


def _fleet_users(rng: Random, size: int = 300) -> list[str]:
    users = {
        f"{rng.choice(v.NETBIOS[:2])}\\{rng.choice(v.FIRST)}.{rng.choice(v.LAST)}": None
        for _ in range(size)
    }
    return list(users) + [f"CORP\\{a}" for a in v.SERVICE_ACCOUNTS]


def generate_events(
    n: int,
    *,
    malicious_share: float = 0.002,
    seed: int = 0,
    start: datetime | None = None,
    first_id: int = 1,
) -> pa.Table:
    """Process-creation events for PowerShell, as a SIEM would hold them, with ground truth.

    About 60 % of benign events repeat the fleet's recurring command lines (scheduled tasks,
    agents), the rest are fresh; every ``cmd`` is a full process command line.

    Args:
        n: Events.
        malicious_share: Share of malicious events, exactly ``round(n * malicious_share)``.
        seed: Seed for every random choice.
        start: Time of the first event; the table spans about seven days from it.
        first_id: ``event_id`` of the first row, so chunks generated apart can be concatenated.

    Returns:
        Columns ``event_id`` (int64), ``ts`` (timestamp[us, UTC], strictly increasing),
        ``host``, ``user``, ``parent_image``, ``image``, ``cmd`` (large_string) and ``label``
        (int8, for evaluation only).
    """
    rng = Random(seed)
    is_malicious = _labels(n, malicious_share, rng)
    hosts = fleet_hosts()
    host_weights = [
        4 if h.startswith(("srv", "dc", "fs", "sccm", "build", "exch", "hv")) else 1 for h in hosts
    ]
    event_hosts = rng.choices(hosts, weights=host_weights, k=n)
    users = _fleet_users(rng)

    pool_size = min(2000, max(20, n // 100))
    pool = [_recurring_entry(rng) for _ in range(pool_size)]
    n_recurring = sum(1 for m in is_malicious if not m and rng.random() < RECURRING_SHARE)
    recurring = iter(rng.choices(pool, cum_weights=_zipf_cumulative(pool_size), k=n_recurring))
    recurring_left = n_recurring
    n_benign = n - sum(is_malicious)

    cmds: list[str] = []
    parents: list[str] = []
    images: list[str] = []
    event_users: list[str] = []
    benign_seen = 0
    for malicious in is_malicious:  # per event: each draws its own template
        if malicious:
            sample = sample_command(rng, malicious=True, obfuscation_rate=0.5)
            cmd = _as_process_command_line(sample.command_line, rng, True)
            parent = rng.choice(_MALICIOUS_PARENTS)
            user = rng.choice(users) if rng.random() < 0.7 else _SYSTEM_USERS[0]
        else:
            benign_left = n_benign - benign_seen
            benign_seen += 1
            if recurring_left and rng.random() < recurring_left / benign_left:
                recurring_left -= 1
                cmd, parent, user = next(recurring)
            else:
                sample = sample_command(rng, malicious=False)
                cmd = _as_process_command_line(sample.command_line, rng, False)
                parent = rng.choice(_INTERACTIVE_PARENTS)
                user = rng.choice(users)
        cmds.append(cmd)
        parents.append(parent)
        event_users.append(user)
        images.append(_image_of(cmd))

    start = start or DEFAULT_START
    span_us = EVENT_SPAN_DAYS * 86_400 * 1_000_000
    offsets = np.sort(
        np.random.default_rng(rng.getrandbits(64)).integers(0, max(span_us - n, 1), size=n)
    )
    ts_us = int(start.timestamp() * 1_000_000) + offsets + np.arange(n, dtype=np.int64)
    return pa.table(
        {
            "event_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "ts": pa.array(ts_us, type=pa.timestamp("us", tz="UTC")),
            "host": pa.array(event_hosts, type=pa.string()),
            "user": pa.array(event_users, type=pa.string()),
            "parent_image": pa.array(parents, type=pa.string()),
            "image": pa.array(images, type=pa.string()),
            "cmd": pa.array(cmds, type=pa.large_string()),
            "label": pa.array(np.asarray(is_malicious, dtype=np.int8)),
        }
    )


def _recurring_entry(rng: Random) -> tuple[str, str, str]:
    sample = sample_command(rng, malicious=False)
    cmd = _as_process_command_line(sample.command_line, rng, False)
    user = (
        rng.choice(_SYSTEM_USERS)
        if rng.random() < 0.7
        else f"CORP\\{rng.choice(v.SERVICE_ACCOUNTS)}"
    )
    return cmd, rng.choice(_SCHEDULED_PARENTS), user


def _zipf_cumulative(size: int) -> list[float]:
    weights = 1.0 / np.arange(1, size + 1)
    return np.cumsum(weights).tolist()  # type: ignore[no-any-return]


def _as_process_command_line(text: str, rng: Random, malicious: bool) -> str:
    """The full command line of the powershell.exe process that runs ``text``."""
    head, _, _ = split_launcher(text)
    if head:
        return text
    if "\n" in text:
        return encode_command(text, rng, style="attacker" if malicious else "admin")
    return _command_launch(text, rng, malicious)


def _image_of(cmd: str) -> str:
    exe = cmd[:120].lower().split(" -", 1)[0]
    if "pwsh" in exe:
        return _PWSH
    return _POWERSHELL_WOW64 if "syswow64" in exe else _POWERSHELL


def content_key(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lower-cased, whitespace-collapsed text: rows equal under it are the same content."""
    lowered = pc.utf8_lower(pc.cast(text, pa.large_string()))
    # Trim first: Arrow's whitespace split yields "" for leading and trailing whitespace.
    words = pc.ascii_split_whitespace(pc.utf8_trim_whitespace(lowered))
    return pc.binary_join(words, pa.scalar(" ", pa.large_string()))


def split_by_content(
    table: pa.Table, test_share: float = 0.2, seed: int = 0, *, column: str | None = None
) -> tuple[pa.Table, pa.Table]:
    """Split rows into train and test so one content (case and spacing aside) is on one side only.

    Args:
        table: Rows to split.
        test_share: Approximate share of distinct contents sent to the test side.
        seed: Salt of the hash that picks each content's side.
        column: Text column; ``command_line`` or else ``cmd`` when not given.

    Returns:
        ``(train, test)``, each in the input's row order. Null texts go to train.

    Raises:
        KeyError: No such column.
    """
    if column is None:
        column = "command_line" if "command_line" in table.column_names else "cmd"
    keys = content_key(table.column(column).combine_chunks())
    encoded = pc.dictionary_encode(keys)
    salt = f"{seed}:".encode()
    in_test = np.array(
        [
            int.from_bytes(hashlib.blake2b(salt + k.encode(), digest_size=8).digest(), "big")
            / 2**64
            < test_share
            for k in encoded.dictionary.to_pylist()
        ],
        dtype=bool,
    )  # per distinct content: a stable hash decides its side
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    valid = ~np.asarray(pc.is_null(encoded.indices).to_numpy(zero_copy_only=False), dtype=bool)
    mask = np.zeros(len(table), dtype=bool)
    mask[valid] = in_test[indices[valid].astype(np.int64)]
    return table.filter(pa.array(~mask)), table.filter(pa.array(mask))
