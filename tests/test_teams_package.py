"""`frontdoor teams-package`: an uploadable Teams app package — the manifest's required
fields and limits, the message action the code handles, and the icons' sizes and
transparency (decoded here with the standard library)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import PackageError
from adapters.teams.actions import MESSAGE_ACTION_ID
from adapters.teams.package import PackageOptions, build_manifest

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "6F1C1F0E-5A3B-4C7E-9D2A-0B1E2C3D4E5F"


def decode_png(data: bytes) -> tuple[int, int, int, list[list[tuple[int, ...]]]]:
    """(width, height, colour type, rows of pixels) of an 8-bit RGBA/RGB PNG, any filter."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, ctype = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and ctype in (2, 6)
    channels = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    pixels = [[tuple(row[x * channels:(x + 1) * channels]) for x in range(width)] for row in rows]
    return width, height, ctype, pixels


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("pkg") / "frontdoor-teams.zip"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "FRONTDOOR_"))}
    env.update({"MICROSOFT_APP_ID": APP_ID, "FRONTDOOR_TEAMS_ACCENT_COLOR": "#1A7F5A"})
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "teams-package", "--output", str(out),
         "--version", "1.2.3", "--domain", "frontdoor.example.com"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["package"] == str(out) and printed["version"] == "1.2.3"
    return zipfile.ZipFile(out)


def _manifest(package: zipfile.ZipFile) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(package.read("manifest.json"))
    return manifest


def test_the_zip_holds_the_manifest_and_both_icons_at_its_root(
    package: zipfile.ZipFile,
) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_has_every_required_field(package: zipfile.ZipFile) -> None:
    m = _manifest(package)
    version = m["manifestVersion"]
    assert m["$schema"] == ("https://developer.microsoft.com/json-schemas/teams/"
                            f"v{version}/MicrosoftTeams.schema.json")
    assert tuple(int(p) for p in version.split(".")) >= (1, 17)
    assert m["version"] == "1.2.3" and m["id"] == APP_ID.lower()
    for key in ("name", "websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key]
    assert m["developer"]["name"] == "Northwind Software"
    assert all(m["developer"][k].startswith("https://")
               for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert 0 < len(m["name"]["short"]) <= 30 and len(m["name"]["full"]) <= 100
    assert 0 < len(m["description"]["short"]) <= 80
    assert 0 < len(m["description"]["full"]) <= 4000
    assert m["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert m["accentColor"] == "#1A7F5A"
    assert m["validDomains"] == ["frontdoor.example.com"]


def test_the_bot_is_ours_in_every_scope_with_its_commands(package: zipfile.ZipFile) -> None:
    m = _manifest(package)
    (bot,) = m["bots"]
    assert bot["botId"] == APP_ID.lower()
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10
        titles = {c["title"] for c in command_list["commands"]}
        assert {"status", "help"} <= titles
        assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128
                   for c in command_list["commands"])


def test_the_message_action_is_the_one_the_code_handles(package: zipfile.ZipFile) -> None:
    m = _manifest(package)
    (extension,) = m["composeExtensions"]
    assert extension["botId"] == APP_ID.lower()
    (command,) = extension["commands"]
    assert command["id"] == MESSAGE_ACTION_ID and command["type"] == "action"
    assert command["context"] == ["message"] and command["fetchTask"] is True
    assert command["title"] == "File a support case" and len(command["title"]) <= 32


def test_the_colour_icon_is_192_square_and_opaque(package: zipfile.ZipFile) -> None:
    width, height, ctype, pixels = decode_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(p[3] == 255 for row in pixels for p in row) if ctype == 6 else True
    assert pixels[0][0][:3] == (0x1A, 0x7F, 0x5A)  # the accent colour
    assert any(p[:3] == (255, 255, 255) for row in pixels for p in row)  # the symbol


def test_the_outline_icon_is_32_square_white_on_transparent(package: zipfile.ZipFile) -> None:
    width, height, ctype, pixels = decode_png(package.read("outline.png"))
    assert (width, height) == (32, 32) and ctype == 6
    flat = [p for row in pixels for p in row]
    assert all(p[3] in (0, 255) for p in flat)
    assert all(p[:3] == (255, 255, 255) for p in flat if p[3] == 255)
    assert pixels[0][0][3] == 0 and pixels[31][31][3] == 0
    opaque = sum(p[3] == 255 for p in flat)
    assert 20 < opaque < 32 * 32 // 2


@pytest.mark.parametrize(("change", "names"), [
    ({"app_id": "not-a-guid"}, "MICROSOFT_APP_ID"),
    ({"version": "v1"}, "--version"),
    ({"privacy_url": "http://insecure.example/"}, "FRONTDOOR_TEAMS_PRIVACY_URL"),
    ({"domains": ("https://frontdoor.example.com",)}, "--domain"),
    ({"accent_color": "blue"}, "FRONTDOOR_TEAMS_ACCENT_COLOR"),
])
def test_a_wrong_value_is_refused_naming_the_setting(change: dict[str, Any], names: str) -> None:
    options = {"app_id": APP_ID, "vendor": "Northwind", **change}
    with pytest.raises(PackageError, match=names):
        build_manifest(PackageOptions(**options))


def test_without_an_app_id_the_command_says_which_setting_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "FRONTDOOR_"))}
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "teams-package", "--output",
         str(tmp_path / "x.zip")], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "MICROSOFT_APP_ID" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.zip").exists()
