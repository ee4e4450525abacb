"""The `callengine` command line."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from datetime import date
from pathlib import Path

from callengine.errors import CallengineError

# Each area owns its subcommands in <area>/commands.py: register(subparsers).
AREA_COMMANDS = ("callengine.importer.commands", "callengine.speech.commands",
                 "callengine.campaign.commands", "callengine.casework.commands",
                 "callengine.reports_commands",
                 "callengine.health.checkin_commands",
                 "callengine.health.sample_commands",
                 "callengine.certificates.commands",
                 "callengine.vaccination.commands",
                 "callengine.places.commands",
                 "admin.commands")


def command_group(subparsers, name: str, help: str):
    """The subcommands of `callengine NAME`, created by the first area that asks, so several
    areas can add to one group (`people export` and `people find`)."""
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help)
        parser.commands = parser.add_subparsers(dest=f"{name}_command", required=True)
    return parser.commands


def _settings():
    from callengine.settings import load_settings

    return load_settings()


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def cmd_lab(args) -> int:
    from callengine.lab.lab import Lab

    lab = Lab()
    if args.lab_command == "up":
        settings = _settings()
        config = lab.up(Path(args.scenario) if args.scenario else None,
                        reprompts=settings.reprompts)
        print(f"lab running: pbx AMI 127.0.0.1:{lab.ports.pbx_ami}, "
              f"SIP 127.0.0.1:{lab.ports.pbx_sip} -> carrier 127.0.0.1:{lab.ports.carrier_sip}")
        print(f"engine settings: export CALLENGINE_CONFIG={config}")
    elif args.lab_command == "down":
        lab.down()
        print("lab stopped")
    elif args.lab_command == "env":
        print(f"export CALLENGINE_CONFIG={lab.engine_config}")
    else:
        for name, state in lab.status().items():
            print(f"{name}: {state}")
    return 0


def cmd_run(args) -> int:
    from callengine.app import build_engine, run_engine

    settings = _settings()
    _setup_logging(settings.log_level)
    engine = build_engine(settings)
    try:
        asyncio.run(run_engine(engine, until_idle=args.until_idle, settings=settings))
    finally:
        engine.db.dispose()
    return 0


def _today(settings) -> date:
    from callengine.clock import SystemClock
    from callengine.dialer.window import Window

    window = Window(settings.call_window, settings.timezone, settings.window_close_guard)
    return window.local_day(SystemClock().now())


def cmd_call(args) -> int:
    from callengine.clock import SystemClock
    from callengine.phones import InvalidPhone, mask_phone
    from callengine.store.db import Database
    from callengine.tasks import schedule_call

    settings = _settings()
    db = Database(settings.effective_database_url)
    failed = 0
    for raw in args.phones:
        try:
            result = schedule_call(db, raw, _today(settings), SystemClock().now(), args.name)
            print(f"{mask_phone(result.phone)}: {result.status}")
        except InvalidPhone as exc:
            failed += 1
            print(f"{mask_phone(raw)}: {exc.masked_message()}", file=sys.stderr)
    db.dispose()
    return 1 if failed else 0


def cmd_results(args) -> int:
    from callengine.questionnaire import load_questionnaire
    from callengine.results import export
    from callengine.store.db import Database

    settings = _settings()
    day = date.fromisoformat(args.date) if args.date else _today(settings)
    db = Database(settings.effective_database_url)
    count = export(db, load_questionnaire(settings.questionnaire), day, args.format,
                   Path(args.path))
    db.dispose()
    print(f"{count} dòng kết quả ngày {day.isoformat()} đã ghi vào {args.path}")
    return 0


def cmd_plan(args) -> int:
    from callengine.clock import SystemClock
    from callengine.identity import process_holder
    from callengine.planning import cancel_reason, run_plan
    from callengine.store.db import Database
    from callengine.store.supervision import PLAN_MANUAL

    settings = _settings()
    day = date.fromisoformat(args.date) if args.date else _today(settings)
    db = Database(settings.effective_database_url)
    try:
        ran = run_plan(db, day, settings, SystemClock(), trigger=PLAN_MANUAL,
                       holder=process_holder(settings))
    finally:
        db.dispose()
    assert ran is not None  # a manual run always runs
    result, greetings = ran
    cancelled = "".join(f", {n} vì {cancel_reason(status, vietnamese=True)}"
                        for status, n in sorted(result.cancelled.items()))
    print(f"Kế hoạch gọi ngày {day.isoformat()}: {result.created} cuộc gọi mới, "
          f"{result.ended} người kết thúc theo dõi, {result.cancelled_total} cuộc gọi đã hủy"
          f"{cancelled}")
    print(f"Lời chào theo tên: {greetings.greeted} cuộc gọi ({greetings.rendered} tệp mới), "
          f"{greetings.failed} lỗi, {greetings.unnamed} không có tên")
    return 0


def cmd_db(args) -> int:
    from callengine.store.db import Database

    Database(_settings().effective_database_url).dispose()
    print("database schema is up to date")
    return 0


def cmd_prompts(args) -> int:
    from callengine.prompts import build_prompts
    from callengine.questionnaire import load_questionnaire

    settings = _settings()
    folder = Path(args.output) if args.output else settings.sounds_dir
    build = build_prompts(load_questionnaire(settings.questionnaire), folder,
                          engine=args.engine, voice=args.voice)
    for path in build:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callengine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="the two-Asterisk lab on loopback")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    up = lab_sub.add_parser("up", help="build (once) and start the lab")
    up.add_argument("--scenario", help="YAML file of resident behaviours")
    lab_sub.add_parser("down", help="stop the lab")
    lab_sub.add_parser("status", help="show whether the lab runs")
    lab_sub.add_parser("env", help="print the settings line for the engine")
    lab.set_defaults(func=cmd_lab)

    run = sub.add_parser("run", help="run the dialer")
    run.add_argument("--until-idle", action="store_true",
                     help="exit when nothing is left to dial today")
    run.set_defaults(func=cmd_run)

    call = sub.add_parser("call", help="schedule today's call for phone numbers")
    call.add_argument("phones", nargs="+")
    call.add_argument("--name", default="", help="full name for a new person")
    call.set_defaults(func=cmd_call)

    results = sub.add_parser("results", help="call results")
    results_sub = results.add_subparsers(dest="results_command", required=True)
    exp = results_sub.add_parser("export", help="export one day's results")
    exp.add_argument("--date", help="YYYY-MM-DD (default: today)")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exp.add_argument("path")
    results.set_defaults(func=cmd_results)

    plan = sub.add_parser("plan", help="create the day's calls (the scheduler does it daily)")
    plan.add_argument("--date", help="YYYY-MM-DD (default: today)")
    plan.set_defaults(func=cmd_plan)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the schema")
    db.set_defaults(func=cmd_db)

    prompts = sub.add_parser("prompts", help="voice prompts")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="render changed prompts to 8 kHz audio")
    build.add_argument("--output", help="default: the sounds_dir setting")
    build.add_argument("--engine", choices=("espeak", "gtts"), default="espeak",
                       help="gtts needs Google; espeak-ng works offline")
    build.add_argument("--voice", help="engine voice (espeak: vi, vi-vn-x-south, ...)")
    prompts.set_defaults(func=cmd_prompts)
    for module in AREA_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CallengineError as exc:
        print(f"callengine: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
