"""Obfuscations attackers (and, for launch flags, admins) apply to PowerShell, as pure functions.

Each transform takes the text and a ``random.Random`` and returns a variant that PowerShell (or
cmd.exe, for carets) would still run the same way as far as practical: string literals keep
their case, backticks never form an escape sequence, base64 payloads and URLs stay intact.
Every transform accepts any text and returns it unchanged where it has nothing to work on.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from random import Random
from typing import Literal

#: A transform: text in, variant out, all randomness from the given generator.
Obfuscation = Callable[[str, Random], str]

#: Letters that form an escape sequence after a backtick (`0 `a `b `e `f `n `r `t `u `v).
#: Compared case-insensitively, so a later ``random_case`` can never create one.
ESCAPE_LETTERS = frozenset("0abefnrtuvABEFNRTUV")
_TICKABLE = frozenset(c for c in string.ascii_letters if c not in ESCAPE_LETTERS)

_UPPER = {c: c.upper() for c in string.ascii_lowercase}
_LOWER = {c: c.lower() for c in string.ascii_uppercase}
_SWAP = {**_UPPER, **_LOWER}

# -- the powershell.exe / pwsh launcher ---------------------------------------------------------

_EXE_RE = re.compile(r"(?:^|[\\/])(?:powershell|pwsh)(?:\.exe)?$", re.IGNORECASE)
_FIRST_TOKEN_RE = re.compile(r'\s*("[^"]*"|\S+)')
_NEXT_TOKEN_RE = re.compile(r"\s+(\S+)")
_DASHES = "-/\u2013\u2014\u2015"

FlagKind = Literal["command", "file", "encoded", "value", "switch"]

# (canonical name, shortest accepted prefix, kind); first match wins, so more specific first.
_FLAGS: tuple[tuple[str, int, FlagKind], ...] = (
    ("encodedarguments", 8, "value"),
    ("encodedcommand", 2, "encoded"),
    ("ec", 2, "encoded"),
    ("e", 1, "encoded"),
    ("executionpolicy", 2, "value"),
    ("ep", 2, "value"),
    ("configurationname", 4, "value"),
    ("command", 1, "command"),
    ("file", 1, "file"),
    ("windowstyle", 1, "value"),
    ("workingdirectory", 2, "value"),
    ("wd", 2, "value"),
    ("version", 1, "value"),
    ("inputformat", 2, "value"),
    ("outputformat", 1, "value"),
    ("settingsfile", 2, "value"),
    ("psconsolefile", 2, "value"),
    ("custompipename", 2, "value"),
    ("noninteractive", 4, "switch"),
    ("noprofile", 3, "switch"),
    ("nologo", 3, "switch"),
    ("noexit", 3, "switch"),
)


@lru_cache(maxsize=4096)
def classify_flag(name: str) -> tuple[str, FlagKind]:
    """The canonical powershell.exe flag a (possibly abbreviated) name stands for, and its kind.

    powershell.exe accepts any unambiguous prefix, plus the aliases ``-ep`` and ``-ec``;
    ``-e`` means ``-EncodedCommand``. Unknown names count as switches.
    """
    lowered = name.lower()
    for canonical, shortest, kind in _FLAGS:
        if len(lowered) >= shortest and canonical.startswith(lowered):
            if canonical == "ep":
                return "executionpolicy", kind
            if canonical in ("ec", "e"):
                return "encodedcommand", kind
            if canonical == "wd":
                return "workingdirectory", kind
            return canonical, kind
    return lowered, "switch"


def _flag_name(token: str) -> str | None:
    """The letters of a ``-flag`` / ``/flag`` token (carets ignored), or None for other tokens."""
    bare = token.replace("^", "")
    if len(bare) >= 2 and bare[0] in _DASHES and bare[1:].isascii() and bare[1:].isalpha():
        return bare[1:]
    return None


def split_launcher(text: str) -> tuple[str, str, str]:
    """Split a command line into ``(head, script, tail)`` with ``head + script + tail == text``.

    ``head`` is the ``powershell.exe``/``pwsh`` launcher and its flags up to the PowerShell
    code (including ``-Command`` and an opening double quote), ``script`` the code and ``tail``
    the closing quote. Text that is not a launcher is all script: ``("", text, "")``. A launcher
    that runs a file or an encoded command has no script: ``(text, "", "")``.
    """
    first = _FIRST_TOKEN_RE.match(text)
    if first is None or not _EXE_RE.search(first.group(1).replace("^", "").strip('"')):
        return "", text, ""
    pos = first.end()
    while True:
        token = _NEXT_TOKEN_RE.match(text, pos)
        if token is None:
            return text, "", ""
        name = _flag_name(token.group(1))
        if name is None:
            return _with_script(text, token.start(1))
        _, kind = classify_flag(name)
        if kind in ("file", "encoded"):
            return text, "", ""
        if kind == "command":
            rest = _NEXT_TOKEN_RE.match(text, token.end())
            return (text, "", "") if rest is None else _with_script(text, rest.start(1))
        pos = token.end()
        if kind == "value":
            value = _NEXT_TOKEN_RE.match(text, pos)
            pos = value.end() if value is not None else pos


def launcher_script(text: str) -> str:
    """The PowerShell code a command line runs, as PowerShell sees it.

    The ``-Command`` script of a launcher with its ``\\"`` escapes undone, or the whole text
    when it is not a ``-Command`` launcher (a bare script, or a launcher running a file).
    """
    _, script, tail = split_launcher(text)
    if not script:
        return text
    return script.replace('\\"', '"') if tail.startswith('"') else script


def _with_script(text: str, start: int) -> tuple[str, str, str]:
    body = text[start:]
    stripped = body.rstrip()
    if len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"':
        return text[: start + 1], stripped[1:-1], body[len(stripped) - 1 :]
    return text[:start], body, ""


# -- spans of the script ------------------------------------------------------------------------

_SEGMENT_RE = re.compile(r"""@'.*?'@|@".*?"@|'(?:[^']|'')*'|"(?:[^"`]|`.|"")*\"""", re.DOTALL)
_BASE64_RUN_RE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
# A CamelCase or lower-case word (FromBase64String, GetDelegateForFunctionPointer) is code.
_IDENTIFIER_RE = re.compile(r"[A-Za-z][a-z0-9]+(?:[A-Z][a-z0-9]+)*")
_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s'\"()]+", re.IGNORECASE)
_ENCODED_PAYLOAD_RE = re.compile(
    r"(?:^|(?<=[\s'\"]))[-/](?:e|ec|en[a-z]*)\s+['\"]?([A-Za-z0-9+/]+={0,2})", re.IGNORECASE
)

Span = tuple[int, int]


def _segments(script: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` runs of the script: ``code``, or ``string`` (quoted, here-strings)."""
    out: list[tuple[int, int, str]] = []
    pos = 0
    for match in _SEGMENT_RE.finditer(script):
        if match.start() > pos:
            out.append((pos, match.start(), "code"))
        out.append((match.start(), match.end(), "string"))
        pos = match.end()
    if pos < len(script):
        out.append((pos, len(script), "code"))
    return out


def base64_runs(text: str) -> list[Span]:
    """Spans of base64-looking runs (16+ characters, not a plain identifier) and -enc payloads."""
    spans = [
        m.span() for m in _BASE64_RUN_RE.finditer(text) if not _IDENTIFIER_RE.fullmatch(m.group())
    ]
    spans.extend(m.span(1) for m in _ENCODED_PAYLOAD_RE.finditer(text))
    return spans


def _protected(text: str) -> list[Span]:
    """Base64 payloads, URLs and the character after each backtick: never re-cased or ticked."""
    spans = base64_runs(text)
    spans.extend(m.span() for m in _URL_RE.finditer(text))
    start = text.find("`")
    while start != -1:
        spans.append((start, start + 2))
        start = text.find("`", start + 1)
    return _merge(spans)


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _gaps(start: int, end: int, protected: Sequence[Span]) -> list[Span]:
    """The parts of ``[start, end)`` outside the (sorted, merged) protected spans."""
    out: list[Span] = []
    pos = start
    for p_start, p_end in protected:
        if p_end <= pos:
            continue
        if p_start >= end:
            break
        if p_start > pos:
            out.append((pos, p_start))
        pos = max(pos, p_end)
    if pos < end:
        out.append((pos, end))
    return out


def _overlaps(span: Span, protected: Sequence[Span]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in protected)


def _insert(text: str, positions: Iterable[int], char: str) -> str:
    """``char`` inserted before each of the given positions."""
    out: list[str] = []
    last = 0
    for pos in sorted(set(positions)):
        out.append(text[last:pos])
        out.append(char)
        last = pos
    out.append(text[last:])
    return "".join(out)


# -- transforms ---------------------------------------------------------------------------------


def random_case(text: str, rng: Random) -> str:
    """Re-case ASCII letters; PowerShell and cmd.exe ignore case in names and flags.

    String literals, base64 payloads, URLs and escape letters after a backtick keep their case.
    Mostly per character (``iNvOKe-eXpREssIoN``), sometimes per word (``INVOKE-expression``).
    """
    head, script, tail = split_launcher(text)
    per_char = rng.random() < 0.75
    head_spans = _gaps(0, len(head), _protected(head))
    new_head = _rebuild(
        head, head_spans, [_recase_span(head, s, e, rng, per_char) for s, e in head_spans]
    )
    protected = _protected(script)
    spans: list[Span] = []
    for start, end, kind in _segments(script):
        if kind == "code":
            spans.extend(_gaps(start, end, protected))
    new_script = _rebuild(
        script, spans, [_recase_span(script, s, e, rng, per_char) for s, e in spans]
    )
    return new_head + new_script + tail


def _recase_span(text: str, start: int, end: int, rng: Random, per_char: bool) -> str:
    part = text[start:end]
    if per_char:
        bits = format(rng.getrandbits(len(part)), f"0{len(part)}b")
        return "".join(
            [
                _UPPER.get(c, c) if b == "1" else _LOWER.get(c, c)
                for c, b in zip(part, bits, strict=True)
            ]
        )
    return re.sub(r"[A-Za-z]+", lambda m: _recase_word(m.group(), rng), part)


def _recase_word(word: str, rng: Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return "".join(_LOWER.get(c, c) for c in word)
    if style == 1:
        return "".join(_UPPER.get(c, c) for c in word)
    if style == 2:
        return "".join(_SWAP.get(c, c) for c in word)
    return word


def _rebuild(text: str, spans: Sequence[Span], replacements: Sequence[str]) -> str:
    """``text`` with each (sorted, disjoint) span replaced by the matching replacement."""
    out: list[str] = []
    last = 0
    for (start, end), new in zip(spans, replacements, strict=True):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


_CMDLET_RE = re.compile(r"(?<![\w$`\-./\\:@])[A-Za-z]{2,}(?:-[A-Za-z]{2,})+(?![\w`\-.:\\/])")
_ALIAS_RE = re.compile(
    r"(?<![\w$`\-./\\:@])(?:iex|iwr|irm|saps|start|curl|wget|icm|gwmi|sal|sleep|echo)"
    r"(?![\w`\-.:\\/])",
    re.IGNORECASE,
)
_MEMBER_RE = re.compile(r"(?:(?<=[a-zA-Z0-9_)\]]\.)|(?<=\]::))[A-Za-z][A-Za-z0-9]{2,}(?=\()")
_TYPE_ARGUMENT_RE = re.compile(r"\bNew-Object\s+(?:-TypeName\s+)?([A-Za-z][\w.]*\w)", re.IGNORECASE)


def insert_ticks(text: str, rng: Random) -> str:
    """Backticks inside command, alias, method and ``New-Object`` type names.

    PowerShell drops a backtick before an ordinary letter, so ``I`nvo`ke-Ex`pression`` still
    runs. Never before an escape letter (``0abefnrtuv``, any case), never in string literals,
    base64, URLs or the powershell.exe launcher itself.
    """
    head, script, tail = split_launcher(text)
    if not script:
        return text
    protected = _protected(script)
    positions: list[int] = []
    for start, end, kind in _segments(script):
        if kind != "code":
            continue
        code = script[start:end]
        tokens = [m.span() for m in _CMDLET_RE.finditer(code)]
        tokens += [m.span() for m in _ALIAS_RE.finditer(code)]
        tokens += [m.span() for m in _MEMBER_RE.finditer(code)]
        tokens += [m.span(1) for m in _TYPE_ARGUMENT_RE.finditer(code)]
        for t_start, t_end in tokens:
            span = (start + t_start, start + t_end)
            if _overlaps(span, protected):
                continue
            eligible = [
                i
                for i in range(span[0] + 1, span[1])
                if script[i] in _TICKABLE and script[i - 1] != "`"
            ]
            if eligible:
                k = min(len(eligible), rng.randint(1, max(1, (span[1] - span[0]) // 4)), 4)
                positions.extend(rng.sample(eligible, k))
    if not positions:
        return text
    return head + _insert(script, positions, "`") + tail


def insert_carets(text: str, rng: Random) -> str:
    """cmd.exe caret escapes in the launcher (``p^owe^rshell -n^op``), outside quotes.

    cmd.exe removes an unquoted caret before running the line. Flag values that carry a
    base64 payload and anything after the launcher's flags are left alone.
    """
    head, _, _ = split_launcher(text)
    if not head:
        return text
    payloads = base64_runs(head)
    candidates: list[list[int]] = []
    for match in re.finditer(r"\S+", head):
        token = match.group()
        inside_quotes = head.count('"', 0, match.start()) % 2 == 1
        if inside_quotes or '"' in token or "'" in token or _overlaps(match.span(), payloads):
            continue
        inner = [
            i
            for i in range(match.start() + 1, match.end())
            if head[i] != "^" and head[i - 1] != "^" and (head[i].isalnum() or head[i] in "-./\\:_")
        ]
        if inner:
            candidates.append(inner)
    if not candidates:
        return text
    positions: list[int] = []
    for inner in candidates:
        if rng.random() < 0.6:
            positions.extend(rng.sample(inner, min(len(inner), rng.randint(1, 3))))
    if not positions:
        inner = rng.choice(candidates)
        positions.append(rng.choice(inner))
    return _insert(head, positions, "^") + text[len(head) :]


_EXPRESSION_BEFORE = frozenset("(=+[{;|!")


def split_strings(text: str, rng: Random) -> str:
    """Split string literals into concatenations: ``'Net.WebClient'`` → ``'Net.We'+'bClient'``.

    Only literals in expression position (after ``(``, ``=``, ``+``, ``;``, ``|``, a method
    argument comma or at the start), where PowerShell evaluates ``+``; double-quoted literals
    only when they expand nothing and are not inside a ``-Command "..."`` launcher.
    """
    head, script, tail = split_launcher(text)
    in_quoted_launcher = tail.startswith('"')
    replacements: list[tuple[Span, str]] = []
    for start, end, kind in _segments(script):
        if kind != "string" or end - start < 6:
            continue
        quote = script[start]
        if quote == "@":
            continue
        inner = script[start + 1 : end - 1]
        if quote == '"' and (
            in_quoted_launcher
            or "$" in inner
            or "`" in inner
            or '""' in inner
            or inner.endswith("\\")
        ):
            continue
        if quote == "'" and "''" in inner:
            continue
        if not _in_expression_position(script, start) or _in_native_command(script, start):
            continue
        cuts = [
            j
            for j in range(1, len(inner))
            if inner[j - 1] not in "+'\" \t\\" and inner[j] not in "+'\" \t"
        ]
        if not cuts or rng.random() < 0.3:
            continue
        chosen = sorted(rng.sample(cuts, min(len(cuts), rng.randint(1, 3))))
        glue = rng.choice(("+", "+", " + ", "+ "))
        pieces = [inner[a:b] for a, b in zip([0, *chosen], [*chosen, len(inner)], strict=True)]
        replacements.append(((start, end), quote + (quote + glue + quote).join(pieces) + quote))
    if not replacements:
        return text
    spans = [span for span, _ in replacements]
    return head + _rebuild(script, spans, [new for _, new in replacements]) + tail


_NATIVE_COMMANDS = frozenset(
    (
        "sc", "schtasks", "reg", "certutil", "wmic", "bitsadmin", "vssadmin", "bcdedit", "net",
        "nltest", "robocopy", "msiexec", "icacls", "cmd", "wevtutil", "sqlcmd", "certreq",
        "setspn", "cmdkey", "vaultcmd", "wbadmin", "rundll32", "regsvr32", "mshta", "dism",
        "cleanmgr",
    )
)  # fmt: skip


def _in_native_command(script: str, pos: int) -> bool:
    """Whether ``pos`` is in the arguments of an executable (``sc.exe ... binPath= "..."``),
    which receives a ``+`` literally instead of concatenating.
    """
    start = max(script.rfind(c, 0, pos) for c in ";|{(\n") + 1
    words = script[start:pos].split(None, 1)
    if not words:
        return False
    name = words[0].strip("&'\"").lower().rsplit("\\", 1)[-1]
    return name.endswith((".exe", ".bat", ".cmd", ".com")) or name in _NATIVE_COMMANDS


def _in_expression_position(script: str, pos: int) -> bool:
    before = script[:pos].rstrip()
    if not before:
        return True
    prev = before[-1]
    if prev in _EXPRESSION_BEFORE:
        return True
    if prev != ",":
        return False
    depth = 0
    for i in range(len(before) - 1, -1, -1):  # per char, backwards to the enclosing "("
        c = before[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                return i > 0 and (before[i - 1].isalnum() or before[i - 1] == "_")
            depth -= 1
    return False


# -- launch flags -------------------------------------------------------------------------------

_EXES_ATTACKER = (
    "powershell",
    "powershell",
    "powershell.exe",
    "powershell.exe",
    "PowerShell.exe",
    "PowerShell",
    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe",
    "pwsh",
    "pwsh.exe",
)
_EXES_ADMIN = (
    "powershell.exe",
    "powershell.exe",
    "PowerShell.exe",
    "PowerShell",
    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    r'"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"',
    r"C:\WINDOWS\system32\WindowsPowerShell\v1.0\powershell.exe",
    r'"C:\Program Files\PowerShell\7\pwsh.exe"',
    "pwsh.exe",
)
_NOPROFILE = ("-NoProfile", "-nop", "-NoP", "-noprofile", "-NOP", "-nopro")
_NONINTERACTIVE = ("-NonInteractive", "-noni", "-NonI", "-noninteractive")
_HIDDEN = ("-WindowStyle Hidden", "-w hidden", "-w 1", "-W Hidden", "-win hid", "-window hidden")
_BYPASS = (
    "-ExecutionPolicy Bypass",
    "-ep bypass",
    "-exec bypass",
    "-ExecutionPolicy bypass",
    "-Exec Bypass",
)
_ENCODED_FLAG_NAMES = (
    "e", "ec", "en", "enc", "enc", "enc", "enco", "encod", "encode", "encoded", "encodedc",
    "encodedco", "encodedcom", "encodedcomm", "encodedcomma", "encodedcomman", "encodedcommand",
    "EncodedCommand", "EncodedCommand", "ec",
)  # fmt: skip
_ADMIN_PROFILES = (
    "-NoProfile -NonInteractive -ExecutionPolicy Unrestricted",  # Ansible's WinRM wrapper
    "-NoLogo -NonInteractive -NoProfile -ExecutionPolicy Bypass",  # SCCM / ConfigMgr scripts
    "-NoProfile -ExecutionPolicy Bypass",
    "-NoProfile -NonInteractive -ExecutionPolicy Bypass",
    "-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -InputFormat None",  # Chef
    "-NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass",  # scheduled tasks
    "-NonInteractive -NoProfile",
    "-ExecutionPolicy Bypass -NoProfile -NonInteractive",
    "-NoProfile -ExecutionPolicy RemoteSigned",
)


def launcher_flags(rng: Random, style: Literal["attacker", "admin"]) -> str:
    """The usual flags before the command: an attacker's short mix or a deployment tool's set."""
    if style == "admin":
        return rng.choice(_ADMIN_PROFILES)
    flags: list[str] = []
    if rng.random() < 0.8:
        flags.append(rng.choice(_NOPROFILE))
    if rng.random() < 0.35:
        flags.append(rng.choice(_NONINTERACTIVE))
    if rng.random() < 0.7:
        flags.append(rng.choice(_HIDDEN))
    if rng.random() < 0.5:
        flags.append(rng.choice(_BYPASS))
    if rng.random() < 0.2:
        flags.append(rng.choice(("-Sta", "-sta", "-STA")))
    if rng.random() < 0.1:
        flags.append(rng.choice(("-NoLogo", "-nol")))
    rng.shuffle(flags)
    return " ".join(flags)


def encoded_flag(rng: Random) -> str:
    """``-EncodedCommand`` as any accepted prefix or alias, ``-`` or ``/``, in any case."""
    name = rng.choice(_ENCODED_FLAG_NAMES)
    if rng.random() < 0.3:
        name = _recase_span(name, 0, len(name), rng, per_char=True)
    return ("/" if rng.random() < 0.1 else "-") + name


def encode_utf16(script: str) -> str:
    """Base64 of the UTF-16LE bytes: what ``-EncodedCommand`` takes."""
    return base64.b64encode(script.encode("utf-16-le", "surrogatepass")).decode("ascii")


def encode_command(
    text: str, rng: Random, *, style: Literal["any", "attacker", "admin"] = "any"
) -> str:
    """Re-launch as ``powershell.exe [usual flags] -EncodedCommand <base64 of UTF-16LE>``.

    A ``-Command`` launcher has its script encoded; anything else is encoded whole. ``style``
    picks attacker-like flags (``-nop -w 1 -enc``) or a deployment tool's (Ansible, SCCM).
    """
    payload = encode_utf16(launcher_script(text))
    if style == "any":
        style = "admin" if rng.random() < 0.4 else "attacker"
    if style == "admin":
        exe = rng.choice(_EXES_ADMIN)
        flag = (
            "-EncodedCommand"
            if rng.random() < 0.75
            else rng.choice(("-enc", "-ec", "-encodedCommand"))
        )
    else:
        exe = rng.choice(_EXES_ATTACKER)
        flag = encoded_flag(rng)
    flags = launcher_flags(rng, style)
    return f"{exe} {flags} {flag} {payload}" if flags else f"{exe} {flag} {payload}"


def frombase64_wrap(text: str, rng: Random) -> str:
    """Run the script from a base64 literal: ``iex ([Text.Encoding]::Unicode.GetString(...))``.

    UTF-16LE (``Unicode``) or UTF-8 bytes; inside a ``-Command`` launcher only the script is
    wrapped.
    """
    head, script, tail = split_launcher(text)
    if not script:
        head, tail = "", ""
    script = launcher_script(text)
    if rng.random() < 0.6:
        payload = encode_utf16(script)
        decoder = rng.choice(("[Text.Encoding]::Unicode", "[System.Text.Encoding]::Unicode"))
    else:
        payload = base64.b64encode(script.encode("utf-8", "surrogatepass")).decode("ascii")
        decoder = rng.choice(("[Text.Encoding]::UTF8", "[System.Text.Encoding]::UTF8"))
    decode = f"{decoder}.GetString([Convert]::FromBase64String('{payload}'))"
    wrapped = rng.choice(
        (
            f"iex ({decode})",
            f"IEX({decode})",
            f"Invoke-Expression ({decode})",
            f"{decode} | iex",
            f"& ([scriptblock]::Create({decode}))",
        )
    )
    return head + wrapped + tail


_LAUNCHER_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s\"'\\/]))(?:powershell|pwsh)(?:\.exe)?[\"']?(?=\s)", re.IGNORECASE
)
# What may stand right before a nested powershell.exe that starts its own process: a quote
# (schtasks /tr "...", -Value '...'), cmd's /c, PsExec's -d / -s; but not Start-Process, whose
# own -WindowStyle must keep its name.
_PROCESS_START_RE = re.compile(r"(?:^|[\"']|(?:^|\s)(?:/c|/k|-d|-s|-i)\s+)$", re.IGNORECASE)
_FLAG_TOKEN_RE = re.compile(r"(\s+)([-/\u2013\u2014\u2015])([A-Za-z]+)(?=\s|$|[\"'])")
_VALUE_TOKEN_RE = re.compile(r"\s+([A-Za-z0-9]+)(?=\s|$|[\"'])")
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "noprofile": ("nop", "NoP", "noprof", "NoPro", "nop", "NOP"),
    "noninteractive": ("noni", "NonI", "nonint", "noni"),
    "nologo": ("nol", "NoL", "nolog"),
    "noexit": ("noe", "NoE", "noex"),
    "windowstyle": ("w", "W", "win", "wind", "window", "w"),
    "executionpolicy": ("ep", "exec", "ex", "ExecutionPol", "Exec", "ep"),
    "command": ("c", "C", "com", "comm", "c"),
    "encodedcommand": ("e", "ec", "en", "enc", "EnC", "encod", "enc"),
    "file": ("f", "fi", "F"),
}
_VALUE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "hidden": ("hidden", "hid", "1", "Hidden", "HIDDEN"),
    "bypass": ("bypass", "Bypass", "BYPASS", "bYpass"),
    "unrestricted": ("unrestricted", "Unrestricted", "UNRESTRICTED"),
}


def _starts_a_process(text: str, exe_start: int) -> bool:
    """Whether the powershell token around ``exe_start`` names a process being launched."""
    token_start = exe_start
    while token_start > 0 and text[token_start - 1] not in " \t\"'":
        token_start -= 1
    before = text[:token_start]
    return not before.strip() or _PROCESS_START_RE.search(before) is not None


def abbreviate_flags(text: str, rng: Random) -> str:
    """Shorten launcher flags to other accepted spellings: ``-NoProfile`` → ``-nop``.

    ``-WindowStyle Hidden`` → ``-w hidden`` / ``-win hid`` / ``-w 1``, ``-ExecutionPolicy
    Bypass`` → ``-ep bypass`` / ``-exec bypass``, ``-NonInteractive`` → ``-noni``, and so on,
    for every ``powershell``/``pwsh`` launcher in the text (nested ones in ``schtasks /tr``
    arguments included); sometimes with ``/`` instead of ``-``.
    """
    replacements: list[tuple[Span, str]] = []
    for launcher in _LAUNCHER_RE.finditer(text):
        if not _starts_a_process(text, launcher.start()):
            continue
        pos = launcher.end()
        while (flag := _FLAG_TOKEN_RE.match(text, pos)) is not None:
            canonical, kind = classify_flag(flag.group(3))
            pos = flag.end()
            choices = _ABBREVIATIONS.get(canonical)
            if choices and rng.random() < 0.85:
                options = [c for c in choices if c != flag.group(3)] or list(choices)
                dash = "/" if rng.random() < 0.1 else flag.group(2)
                replacements.append(((flag.start(2), flag.end(3)), dash + rng.choice(options)))
            if kind == "value":
                value = _VALUE_TOKEN_RE.match(text, pos)
                if value is None:
                    break
                pos = value.end()
                spellings = _VALUE_ABBREVIATIONS.get(value.group(1).lower())
                if spellings and rng.random() < 0.5:
                    replacements.append((value.span(1), rng.choice(spellings)))
            elif kind != "switch":
                break
    if not replacements:
        return text
    replacements.sort()
    return _rebuild(text, [s for s, _ in replacements], [r for _, r in replacements])


#: Every transform by name, in the order ``obfuscate`` applies a random selection of them:
#: script-level changes first, then wrapping, then the launcher.
OBFUSCATIONS: dict[str, Obfuscation] = {
    "split_strings": split_strings,
    "insert_ticks": insert_ticks,
    "random_case": random_case,
    "frombase64_wrap": frombase64_wrap,
    "encode_command": encode_command,
    "abbreviate_flags": abbreviate_flags,
    "insert_carets": insert_carets,
}


def obfuscate(text: str, rng: Random, names: Sequence[str] | None = None) -> str:
    """Apply the named transforms in the given order, or a random non-empty selection.

    Args:
        text: A command line or script.
        rng: Source of all randomness, so a seed reproduces the output.
        names: Keys of ``OBFUSCATIONS``, applied in this order. ``None`` picks one to three at
            random and applies them in registry order.

    Raises:
        KeyError: A name is not in ``OBFUSCATIONS``.
    """
    if names is None:
        picked = set(rng.sample(list(OBFUSCATIONS), rng.randint(1, 3)))
        names = [name for name in OBFUSCATIONS if name in picked]
    for name in names:
        text = OBFUSCATIONS[name](text, rng)
    return text
