"""`frontdoor teams-package`: the Teams app package (a zip to upload in Teams or the admin
centre): ``manifest.json`` in the current Teams schema, and two generated icons — colour
(192×192) and outline (32×32, white on a transparent background).

The icons are drawn here with the standard library (zlib): a white door on the accent colour,
and the same door as a white outline.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.errors import PackageError
from adapters.teams.actions import MESSAGE_ACTION_ID

MANIFEST_VERSION = "1.22"
SCHEMA_URL = ("https://developer.microsoft.com/json-schemas/teams/"
              f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json")
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
# (title, description) shown under the compose box; Teams allows 10 per scope list.
PERSONAL_COMMANDS = (
    ("support", "Open a support case, step by step or with one form"),
    ("status", "Your organisation's open cases and their SLA clocks"),
    ("help", "What I can do"),
    ("queue", "Engineers: open cases, nearest due first"),
)
CHANNEL_COMMANDS = (
    ("support", "Open a support case in this thread"),
    ("status", "Your organisation's open cases and their SLA clocks"),
    ("help", "What I can do"),
)
_SEMVER = re.compile(r"^\d{1,5}\.\d{1,5}\.\d{1,5}$")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d{1,5})?$")


@dataclass(frozen=True)
class PackageOptions:
    app_id: str  # the bot's Microsoft app id (a GUID): the manifest id and the bot id
    vendor: str  # the developer's name
    version: str = "1.0.0"
    name: str = "Frontdoor"
    website_url: str = "https://frontdoor.example.com/"
    privacy_url: str = "https://frontdoor.example.com/privacy"
    terms_url: str = "https://frontdoor.example.com/terms"
    accent_color: str = "#2F5EA8"
    domains: tuple[str, ...] = field(default_factory=tuple)


def _check(options: PackageOptions) -> None:
    try:
        uuid.UUID(options.app_id)
    except ValueError:
        raise PackageError("MICROSOFT_APP_ID: Teams needs the bot's Microsoft app id, a GUID "
                           f"(got {options.app_id!r})") from None
    if not _SEMVER.match(options.version):
        raise PackageError(f"--version: {options.version!r} is not like 1.0.0")
    for name, url in (("FRONTDOOR_TEAMS_WEBSITE_URL", options.website_url),
                      ("FRONTDOOR_TEAMS_PRIVACY_URL", options.privacy_url),
                      ("FRONTDOOR_TEAMS_TERMS_URL", options.terms_url)):
        if not url.startswith("https://"):
            raise PackageError(f"{name}: Teams needs an https:// address (got {url!r})")
    if not re.match(r"^#[0-9A-Fa-f]{6}$", options.accent_color):
        raise PackageError(f"FRONTDOOR_TEAMS_ACCENT_COLOR: {options.accent_color!r} is not "
                           "like #2F5EA8")
    for domain in options.domains:
        if not _HOST.match(domain):
            raise PackageError(f"--domain: {domain!r} is not a host name (no https://)")
    if not options.name.strip() or len(options.name) > 30:
        raise PackageError("--name: 1 to 30 characters")


def build_manifest(options: PackageOptions) -> dict[str, Any]:
    """The app manifest; raises PackageError naming the setting that is wrong."""
    _check(options)
    app_id = options.app_id.lower()
    vendor = options.vendor.strip() or "Frontdoor"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": options.version,
        "id": app_id,
        "developer": {"name": vendor[:32], "websiteUrl": options.website_url,
                      "privacyUrl": options.privacy_url,
                      "termsOfUseUrl": options.terms_url},
        "name": {"short": options.name, "full": f"{options.name} — {vendor} support"[:100]},
        "description": {
            "short": f"Open and follow {vendor} support cases in Teams"[:80],
            "full": (f"{options.name} is {vendor}'s support desk in Teams. Chat with it or "
                     "@mention it in your team's channel to open a case — step by step or "
                     "with one form — see your organisation's open cases and their SLA "
                     "clocks, and follow every update on the case card. Engineers get a card "
                     "per new case in their channel to acknowledge, assign, ask, resolve, "
                     "reclassify or escalate. Use “File a support case” on any message to "
                     "turn it into a case.")[:4000],
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": options.accent_color.upper(),
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [
                {"scopes": ["personal"], "commands": [
                    {"title": t, "description": d} for t, d in PERSONAL_COMMANDS]},
                {"scopes": ["team", "groupChat"], "commands": [
                    {"title": t, "description": d} for t, d in CHANNEL_COMMANDS]},
            ],
        }],
        "composeExtensions": [{
            "botId": app_id,
            "commands": [{
                "id": MESSAGE_ACTION_ID,
                "type": "action",
                "context": ["message"],
                "title": "File a support case",
                "description": "Turn this message into a support case",
                "fetchTask": True,
            }],
        }],
        "supportedChannelTypes": ["sharedChannels", "privateChannels"],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": list(options.domains),
    }


# ---- icons -----------------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG of `pixel(x, y)`, written with zlib (filter 0 on every row)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def _door(x: int, y: int, size: int, stroke: int) -> bool:
    """A door outline with its knob, in a `size` square (the symbol of the app)."""
    left, right = round(size * 0.28), round(size * 0.72)
    top, bottom = round(size * 0.12), round(size * 0.88)
    inside = left <= x < right and top <= y < bottom
    frame = inside and (x < left + stroke or x >= right - stroke or y < top + stroke
                        or y >= bottom - stroke)
    knob_x, knob_y = round(size * 0.54), round(size * 0.50)
    knob = knob_x <= x < knob_x + stroke and knob_y <= y < knob_y + stroke
    return frame or knob


def color_icon(accent: str) -> bytes:
    """192×192: a white door on the accent colour (Teams fills nothing around it)."""
    r, g, b = (int(accent[i:i + 2], 16) for i in (1, 3, 5))
    white: Pixel = (255, 255, 255, 255)
    background: Pixel = (r, g, b, 255)
    margin = 48  # the symbol sits in the middle 96×96, as Teams recommends

    def pixel(x: int, y: int) -> Pixel:
        if margin <= x < COLOR_SIZE - margin and margin <= y < COLOR_SIZE - margin and \
                _door(x - margin, y - margin, COLOR_SIZE - 2 * margin, 8):
            return white
        return background

    return png(COLOR_SIZE, COLOR_SIZE, pixel)


def outline_icon() -> bytes:
    """32×32: the door in white on a transparent background (Teams tints it)."""

    def pixel(x: int, y: int) -> Pixel:
        return (255, 255, 255, 255) if _door(x, y, OUTLINE_SIZE, 2) else (255, 255, 255, 0)

    return png(OUTLINE_SIZE, OUTLINE_SIZE, pixel)


def write_package(path: Path, options: PackageOptions) -> dict[str, Any]:
    """Write the zip (manifest.json and the two icons at its root); returns the manifest."""
    manifest = build_manifest(options)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(COLOR_ICON, color_icon(options.accent_color))
        archive.writestr(OUTLINE_ICON, outline_icon())
    return manifest
