"""Command-line subcommands of this area, registered by callengine.cli (the same services
as the admin's pages; lists show masked phones, a single person's page the full number).

    callengine flags list [--status open|closed] [--kind K] [--urgent] [--district D]
                          [--commune C] [--assigned USER] [--older-than 2h] [--json]
    callengine flags show ID [--json]
    callengine flags assign ID --by USER
    callengine flags act ID ACTION [--note TEXT] [--phone NEW] --by USER
    callengine people find QUERY [--category C] [--district D] [--status S] [--json]
    callengine people show ID [--json]
    callengine people close ID --reason R [--note TEXT] --by USER
    callengine people reopen ID --by USER
    callengine people phone ID NEW_PHONE --by USER
    callengine people call ID --by USER
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from callengine.casework.labels import (
    ACTION_LABELS,
    CLOSURE_REASONS,
    FLAG_KIND_LABELS,
    OUTCOME_LABELS,
    PERSON_EVENT_LABELS,
    PERSON_STATUS_LABELS,
    TASK_STATUS_LABELS,
    age_label,
    label,
)

PAGE = 50


def register(subparsers) -> None:
    """Add `flags` and this area's `people` subcommands to the `callengine` parser."""
    from callengine.cli import command_group

    _register_flags(command_group(subparsers, "flags", "the supervisors' flag queue"))
    _register_people(command_group(subparsers, "people", "people under monitoring"))


def _paged(parser) -> None:
    parser.add_argument("--limit", type=int, default=PAGE, help="rows per page")
    parser.add_argument("--after", help="the cursor printed under the previous page")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def _register_flags(sub) -> None:
    ls = sub.add_parser("list", help="open flags, urgent first, then the oldest")
    ls.add_argument("--status", choices=("open", "closed"), default="open")
    ls.add_argument("--kind", choices=tuple(FLAG_KIND_LABELS))
    ls.add_argument("--urgent", action="store_true", help="urgent flags only")
    ls.add_argument("--district")
    ls.add_argument("--commune")
    ls.add_argument("--assigned", metavar="USER", help="assigned to this user")
    ls.add_argument("--older-than", type=_duration, metavar="DURATION",
                    help="e.g. 90m, 2h, 3d")
    _paged(ls)
    ls.set_defaults(func=cmd_flags_list)
    show = sub.add_parser("show", help="one flag: its call, answers and history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_flags_show)
    take = sub.add_parser("assign", help="take a flag on")
    take.add_argument("id", type=int)
    take.add_argument("--by", required=True, metavar="USER")
    take.set_defaults(func=cmd_flags_assign)
    act = sub.add_parser("act", help="record what was done about a flag",
                         epilog="actions: " + "; ".join(f"{c} ({t})" for c, t in
                                                        ACTION_LABELS.items()
                                                        if c != "assigned"))
    act.add_argument("id", type=int)
    act.add_argument("action")
    act.add_argument("--note", default="")
    act.add_argument("--phone", help="the new number (number_corrected)")
    act.add_argument("--by", required=True, metavar="USER")
    act.add_argument("--version", type=int,
                     help="the version you saw (default: the current one)")
    act.set_defaults(func=cmd_flags_act)


def _register_people(sub) -> None:
    find = sub.add_parser("find", help="search by name, phone or national ID")
    find.add_argument("query")
    find.add_argument("--category")
    find.add_argument("--district")
    find.add_argument("--commune")
    find.add_argument("--status", choices=tuple(PERSON_STATUS_LABELS))
    _paged(find)
    find.set_defaults(func=cmd_people_find)
    show = sub.add_parser("show", help="one person: identity, calls, answers, flags")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_people_show)
    close = sub.add_parser("close", help="end a person's monitoring early",
                           epilog="reasons: " + "; ".join(f"{c} ({t})" for c, t in
                                                          CLOSURE_REASONS.items()))
    close.add_argument("id", type=int)
    close.add_argument("--reason", required=True)
    close.add_argument("--note", default="")
    close.add_argument("--by", required=True, metavar="USER")
    close.set_defaults(func=cmd_people_close)
    reopen = sub.add_parser("reopen", help="put a closed person back under monitoring")
    reopen.add_argument("id", type=int)
    reopen.add_argument("--note", default="")
    reopen.add_argument("--by", required=True, metavar="USER")
    reopen.set_defaults(func=cmd_people_reopen)
    phone = sub.add_parser("phone", help="correct a person's phone number")
    phone.add_argument("id", type=int)
    phone.add_argument("phone", metavar="NEW_PHONE")
    phone.add_argument("--by", required=True, metavar="USER")
    phone.set_defaults(func=cmd_people_phone)
    call = sub.add_parser("call", help="call the person now (within the call window)")
    call.add_argument("id", type=int)
    call.add_argument("--by", required=True, metavar="USER")
    call.set_defaults(func=cmd_people_call)


def _duration(text: str) -> timedelta:
    from callengine.errors import CallengineError
    from callengine.settings import parse_duration

    units = {"d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        return timedelta(seconds=parse_duration("--older-than", text))
    except CallengineError:
        raise argparse.ArgumentTypeError(f"{text!r}: ví dụ 90m, 2h, 3d") from None


class _Context:
    """Settings, database, clock and window for one command."""

    def __enter__(self):
        from callengine.clock import SystemClock
        from callengine.dialer.window import Window
        from callengine.settings import load_settings
        from callengine.store.db import Database

        self.settings = load_settings()
        self.db = Database(self.settings.effective_database_url)
        self.now = SystemClock().now()
        self.window = Window(self.settings.call_window, self.settings.timezone,
                             self.settings.window_close_guard)
        self.tz = ZoneInfo(self.settings.timezone)
        return self

    def __exit__(self, *exc) -> None:
        self.db.dispose()

    def local(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).strftime("%d/%m/%Y %H:%M") if moment else "-"

    def questionnaire(self):
        from callengine.questionnaire import load_questionnaire

        return load_questionnaire(self.settings.questionnaire)


def _json_default(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    raise TypeError(type(value).__name__)


def _print_json(value: object) -> None:
    data = value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = dataclasses.asdict(value)
    print(json.dumps(data, ensure_ascii=False, default=_json_default))


def _print_page(page, args, line) -> None:
    if args.json:
        _print_json({"items": [dataclasses.asdict(r) for r in page.items], "next": page.next})
        return
    for row in page.items:
        print(line(row))
    if not page.items:
        print("Không có kết quả.")
    if page.next:
        print(f"Trang sau: --after {page.next}")


def cmd_flags_list(args) -> int:
    from callengine.casework.flag_queue import FlagFilters, flag_queue

    filters = FlagFilters(args.status, args.kind, True if args.urgent else None,
                          args.district, args.commune, args.older_than, args.assigned)
    with _Context() as ctx:
        page = flag_queue(ctx.db, filters, after=args.after, limit=args.limit, now=ctx.now)
        describe = ctx.questionnaire().describe
    _print_page(page, args, lambda r: (
        f"#{r.id} {'[KHẨN] ' if r.urgent else ''}{label(FLAG_KIND_LABELS, r.kind)} · "
        f"{age_label(r.age)} · {r.person_name} (người #{r.person_id}) {r.phone_masked} · "
        f"{r.district or '-'} / {r.commune or '-'} · {describe(r.detail)}"
        + (f" · giao cho {r.assigned_to}" if r.assigned_to else "")))
    return 0


def cmd_flags_show(args) -> int:
    from callengine.casework.flag_detail import flag_detail

    return _show(args, flag_detail, _print_flag)


def _print_flag(ctx, detail) -> None:
    p = detail.person
    print(f"Cờ #{detail.id}: {label(FLAG_KIND_LABELS, detail.kind)}"
          f"{' (KHẨN)' if detail.urgent else ''} · {detail.status} · phiên bản "
          f"{detail.version} · {ctx.local(detail.created_at)}")
    print(f"Người #{p.id}: {p.name} · {p.phone} · {p.district or '-'} / "
          f"{p.commune or '-'} · {label(PERSON_STATUS_LABELS, p.status)}")
    for answer in detail.attempt.answers if detail.attempt else ():
        spoken = f" · “{answer.transcript}” · {answer.audio_path}" if answer.transcript \
            else ""
        print(f"  {answer.question} → {answer.value} ({answer.source}){spoken}")
    for step in detail.history:
        print(f"  {ctx.local(step.at)} {step.actor}: {label(ACTION_LABELS, step.action)}"
              f"{' — ' + step.note if step.note else ''}")


def _show(args, load, print_text) -> int:
    """One flag's or person's page, as text or JSON."""
    with _Context() as ctx:
        page = load(ctx.db, args.id, ctx.questionnaire())
        if args.json:
            _print_json(page)
        else:
            print_text(ctx, page)
    return 0


def cmd_flags_assign(args) -> int:
    from callengine.casework.flag_actions import assign

    with _Context() as ctx:
        state = assign(ctx.db, args.id, args.by, _version(ctx, args), ctx.now)
    print(f"Cờ #{state.id} đã giao cho {state.assigned_to}.")
    return 0


def _version(ctx, args) -> int:
    from callengine.casework.flag_writes import flag_state

    if getattr(args, "version", None) is not None:
        return args.version
    return flag_state(ctx.db, args.id).version


def cmd_flags_act(args) -> int:
    from callengine.casework.flag_actions import act

    with _Context() as ctx:
        result = act(ctx.db, args.id, args.action, args.note, args.by, _version(ctx, args),
                     ctx.now, ctx.window, phone=args.phone)
    print(f"Cờ #{result.flag.id}: {result.message}")
    return 0


def cmd_people_find(args) -> int:
    from callengine.casework.people import PersonFilters, search_people

    filters = PersonFilters(args.category, args.district, args.commune, args.status)
    with _Context() as ctx:
        page = search_people(ctx.db, args.query, filters, after=args.after, limit=args.limit)
    _print_page(page, args, lambda r: (
        f"#{r.id} {r.name} · {r.phone_masked} · {r.category or '-'} · "
        f"{label(PERSON_STATUS_LABELS, r.status)} · {r.district or '-'} / {r.commune or '-'}"
        + (f" · theo dõi đến {r.monitoring_end:%d/%m/%Y}" if r.monitoring_end else "")))
    return 0


def cmd_people_show(args) -> int:
    from callengine.casework.person_detail import person_detail

    return _show(args, person_detail, _print_person)


def _print_person(ctx, page) -> None:
    i = page.identity
    print(f"Người #{i.id}: {i.name} · {i.phone} · {i.category or '-'} · "
          f"{label(PERSON_STATUS_LABELS, i.status)} · {i.district or '-'} / "
          f"{i.commune or '-'}")
    for day in page.days:
        print(f"  {day.day:%d/%m/%Y}: {label(TASK_STATUS_LABELS, day.status)}, "
              f"{day.attempts_made} lần gọi, {label(OUTCOME_LABELS, day.last_outcome) or '-'}")
        for attempt in day.attempts:
            answers = ", ".join(f"{a.question_id}={a.value}" for a in attempt.answers)
            print(f"    {ctx.local(attempt.started_at)} {attempt.trunk} "
                  f"{label(OUTCOME_LABELS, attempt.outcome) or attempt.state} {answers}")
    for step in page.history:
        print(f"  {ctx.local(step.at)} {step.actor}: {label(PERSON_EVENT_LABELS, step.action)}"
              f"{' (' + label(CLOSURE_REASONS, step.reason) + ')' if step.reason else ''}")


def _print_change(change) -> int:
    print(f"Người #{change.person_id}: {change.message}")
    return 0


def cmd_people_close(args) -> int:
    from callengine.casework.person_actions import close_monitoring

    with _Context() as ctx:
        change = close_monitoring(ctx.db, args.id, args.reason, args.by, ctx.now, args.note)
    return _print_change(change)


def cmd_people_reopen(args) -> int:
    from callengine.casework.person_actions import reopen_monitoring

    with _Context() as ctx:
        change = reopen_monitoring(ctx.db, args.id, args.by, ctx.now, ctx.window, args.note)
    return _print_change(change)


def cmd_people_phone(args) -> int:
    from callengine.casework.person_actions import correct_phone

    with _Context() as ctx:
        change = correct_phone(ctx.db, args.id, args.phone, args.by, ctx.now, ctx.window)
    return _print_change(change)


def cmd_people_call(args) -> int:
    from callengine.casework.person_actions import call_now

    with _Context() as ctx:
        change = call_now(ctx.db, args.id, args.by, ctx.now, ctx.window)
    return _print_change(change)
