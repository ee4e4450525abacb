"""One dialer's claiming, in its own OS process: the worker of the two-process race test."""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime

from callengine.dialer.records import AttemptRecords, ClaimRefused
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.store.db import Database

# Each racer pauses this long after each claim, and has read the due tasks once before the
# start: on a busy machine a racer scheduled late still finds tasks left to race for.
PACE = 0.002


def claim_all_due(url: str, server: str, day: date, now: datetime, start, results) -> None:
    """Claim due tasks until none is left, as the dialer does; report what this one won."""
    db = Database(url, auto_migrate=False)
    window = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(Settings()), window, server)
    won, lost, refused = [], 0, 0
    try:
        records.due_tasks(day, now, 1)  # connected, queries compiled: ready as the other
        start.wait(60)
        while due := records.due_tasks(day, now, 20):
            for task in due:
                try:
                    if records.claim(task, str(uuid.uuid4()), "default", now):
                        won.append(task.task_id)
                    else:
                        lost += 1
                except ClaimRefused:
                    refused += 1
                time.sleep(PACE)
    finally:
        db.dispose()
        results.put((server, won, lost, refused))


def claim_next_until_none(url: str, server: str, day: date, now: datetime, start,
                          results) -> None:
    """PostgreSQL: claim with FOR UPDATE SKIP LOCKED (claim_next) until nothing is left."""
    db = Database(url, auto_migrate=False)
    window = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(Settings()), window, server)
    won: list[int] = []
    try:
        records.due_tasks(day, now, 1)  # connected, queries compiled: ready as the others
        start.wait(60)
        while task := records.claim_next(day, now, {"viettel"}, (), str(uuid.uuid4()),
                                         "default"):
            won.append(task.task_id)
            time.sleep(PACE)
    finally:
        db.dispose()
        results.put((server, won, 0, 0))


def race(target, url: str, servers, day: date, now: datetime,
         timeout: float) -> dict[str, list[int]]:
    """Run `target` in one spawned process per server, released together; the task ids each
    server claimed."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    # A barrier, not an event: a racer set up first would otherwise take every task before a
    # slower one (still importing on a busy machine) has begun.
    start, results = spawn.Barrier(len(servers) + 1), spawn.Queue()
    racers = [spawn.Process(target=target, args=(url, server, day, now, start, results))
              for server in servers]
    for racer in racers:
        racer.start()
    start.wait(120)
    reports = [results.get(timeout=timeout) for _ in racers]
    for racer in racers:
        racer.join(30)
        assert racer.exitcode == 0
    return {server: ids for server, ids, _, _ in reports}
