"""Command-line subcommands of this area, registered by callengine.cli.

    callengine campaign show [--json]
    callengine campaign pause --by USER | resume --by USER
    callengine campaign set KEY=VALUE... --by USER   (an empty VALUE: back to the settings)
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from callengine.campaign.validate import CampaignError
from callengine.campaign.values import (
    DURATION_COLUMNS,
    Campaign,
    format_window,
    label,
    trunk_key,
)

SET_EPILOG = """\
keys: paused, call_window (08:00-19:00), retry_busy, retry_no_answer, retry_congestion,
retry_congestion_max, retry_partial, retry_rejected, retry_failed (seconds, or 90s, 15m, 2h),
max_attempts_per_day, trunk.NAME.max_channels, trunk.NAME.cps. KEY= puts a value back to the
settings file's. Every running engine obeys a change within 5 seconds."""


def register(subparsers) -> None:
    """Add this area's subcommands to the `callengine` parser."""
    campaign = subparsers.add_parser("campaign", help="campaign control every engine obeys")
    sub = campaign.add_subparsers(dest="campaign_command", required=True)
    show = sub.add_parser("show", help="the campaign as every engine applies it")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    for name, text in (("pause", "no new call starts; calls in progress finish"),
                       ("resume", "dial again")):
        sub.add_parser(name, help=text).add_argument("--by", required=True, metavar="USER")
    change = sub.add_parser("set", help="change campaign values", epilog=SET_EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    change.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    change.add_argument("--by", required=True, metavar="USER")
    campaign.set_defaults(func=cmd_campaign)


def cmd_campaign(args) -> int:
    from callengine import campaign as service
    from callengine.clock import SystemClock
    from callengine.settings import load_settings
    from callengine.store.db import Database

    settings = load_settings()
    db = Database(settings.effective_database_url)
    now = SystemClock().now()
    try:
        if args.campaign_command == "show":
            result = service.current(db, settings)
        elif args.campaign_command == "set":
            result = service.update(db, settings, parse_assignments(args.assignments),
                                    args.by, now)
        else:
            result = getattr(service, args.campaign_command)(db, settings, args.by, now)
    finally:
        db.dispose()
    if getattr(args, "json", False):
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe(result, settings.timezone)))
    return 0


def parse_assignments(assignments: list[str]) -> dict[str, str | None]:
    """KEY=VALUE words as changes; an empty VALUE is None (back to the settings)."""
    changes: dict[str, str | None] = {}
    for word in assignments:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            raise CampaignError({word: f"{word!r}: cần dạng KHÓA=GIÁ_TRỊ, "
                                       "ví dụ call_window=08:00-19:00"})
        changes[key.strip()] = value.strip() or None
    return changes


def describe(campaign: Campaign, timezone: str) -> list[str]:
    """The campaign in Vietnamese, one line per value; * marks a value set in the database."""
    tz = ZoneInfo(timezone)

    def star(key: str) -> str:
        return " *" if key in campaign.overridden else ""

    lines = [f"Chiến dịch (phiên bản {campaign.revision}): {_state(campaign, tz)}",
             f"{label('call_window')}: {format_window(campaign.call_window)}"
             f"{star('call_window')}"]
    for name, limits in campaign.trunks.items():
        lines.append(f"Trung kế {name}: {limits.max_channels} kênh"
                     f"{star(trunk_key(name, 'max_channels'))}, {limits.cps:g} cuộc gọi/giây"
                     f"{star(trunk_key(name, 'cps'))}")
    for target, given in sorted(campaign.server_limits.items()):
        name, _, server = target.partition("@")
        units = {"max_channels": "kênh", "cps": "cuộc gọi/giây"}
        lines.append(f"Trung kế {name} trên máy chủ {server}: " + ", ".join(
            f"{value:g} {units[limit]} *" for limit, value in sorted(given.items())))
    lines += [f"{label(key)}: {_duration(getattr(campaign, key))}{star(key)}"
              for key in DURATION_COLUMNS]
    lines.append(f"{label('max_attempts_per_day')}: {campaign.max_attempts_per_day}"
                 f"{star('max_attempts_per_day')}")
    if campaign.updated_by:
        lines.append(f"Thay đổi lần cuối bởi {campaign.updated_by} lúc "
                     f"{_when(campaign.updated_at, tz)}")
    lines.append("(*) đặt trong cơ sở dữ liệu; các giá trị khác theo tệp cấu hình")
    return lines


def _state(campaign: Campaign, tz: ZoneInfo) -> str:
    if not campaign.paused:
        return "đang gọi"
    return f"TẠM DỪNG bởi {campaign.paused_by or '?'} lúc {_when(campaign.paused_at, tz)}"


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S") if moment else "?"


def _duration(seconds: float) -> str:
    for unit, size in (("giờ", 3600), ("phút", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} giây"
