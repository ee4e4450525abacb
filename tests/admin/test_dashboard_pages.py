"""The dashboard at `/`: what every signed-in user reads about today, and its live figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from callengine import campaign
from callengine.labels import OUTCOME_LABELS
from tests.admin.conftest import page_text
from tests.admin.dashboard_helpers import DAY_FIGURES, add_call, seed_day
from tests.admin.flag_helpers import FixedClock, seed_flag
from tests.unit.casework_helpers import DAY, NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def _figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))


def _tile(page: str, key: str) -> str:
    return page.split(f'data-tile="{key}"')[1].split("</li>")[0]


def test_the_dashboard_shows_the_seeded_days_figures_and_areas(client, db, signed_in):
    seed_day(db)
    signed_in("staff")
    page = page_text(client.get("/"))
    assert "Tổng quan · 30/11/2026" in page
    assert _figures(page) == {k: str(v) for k, v in DAY_FIGURES.items()}
    assert "Kế hoạch và tiến độ hôm nay" in page and "Không liên lạc được" in page
    by_district = page.split("Theo huyện")[1].split("Theo xã")[0]
    assert "Nga Sơn" in by_district and "Thọ Xuân" in by_district
    assert "Xuân Lai" in page.split("Theo xã")[1]


def test_urgent_flags_stand_out_and_link_supervisors_to_the_urgent_queue(client, db,
                                                                         signed_in, auth):
    seed_day(db)
    plain = seed_flag(db, urgent=False, phone="+84912000011")
    signed_in("supervisor")
    page = page_text(client.get("/"))
    urgent = page.split('class="tile tile-urgent')[1].split("</li>")[0]
    assert urgent.startswith(' alert"') and "Cần gọi lại ngay" in urgent
    assert 'href="/flags?urgent=y"' in urgent
    assert 'class="tile tile-flagged" ' in page  # the others do not stand out
    queue = page_text(client.get("/flags?urgent=y"))
    assert f'href="/flags/{plain.flag_id}"' not in queue and "Khẩn" in queue
    auth.sign_out()
    signed_in("staff")  # staff cannot open the flags: no link, the count still stands out
    urgent = page_text(client.get("/")).split('class="tile tile-urgent')[1].split("</li>")[0]
    assert urgent.startswith(' alert"') and "/flags" not in urgent


def test_no_urgent_flag_no_alert(client, db, signed_in):
    signed_in("staff")
    page = page_text(client.get("/"))
    assert 'class="tile tile-urgent" ' in page and "Không có cuộc gọi nào theo kế hoạch" in page


def test_a_pause_shows_on_the_dashboard_with_who_and_since_when(client, app, db, signed_in):
    signed_in("staff")
    assert "Chiến dịch đang chạy." in page_text(client.get("/"))
    campaign.pause(db, app.extensions["callengine"].settings, "hoa", NOW)
    page = page_text(client.get("/"))
    assert "Chiến dịch đang tạm dừng (do hoa, từ 30/11/2026 10:00)" in page
    assert 'class="campaign-state paused"' in page


def test_the_live_figures_change_after_a_new_attempt(client, db, signed_in):
    seed_day(db)
    signed_in("staff")
    before = client.get("/dashboard/live").json
    assert before["totals"]["dialled"] == 3 and before["paused"] is False
    assert before["status"] == "Chiến dịch đang chạy."
    add_call(db, outcome=None, state="ringing")  # a call in progress on viettel
    add_call(db, outcome="completed", phone="+84912000098")
    after = client.get("/dashboard/live").json
    assert after["totals"]["dialled"] == 5 and after["totals"]["completed"] == 2
    assert {"name": "viettel", "live": 1, "max_channels": None} in after["trunks"]
    assert set(after) == {"day", "generated_at", "paused", "status", "totals", "trunks"}


def test_live_channels_show_use_against_the_campaigns_limit(client, app, db, signed_in):
    settings = app.extensions["callengine"].settings
    campaign.update(db, settings, {f"trunk.{settings.trunks[0].name}.max_channels": 7},
                    "hoa", NOW)
    signed_in("staff")
    page = page_text(client.get("/"))
    name = settings.trunks[0].name
    assert f'data-trunk="{name}">0 / 7<' in page
    assert client.get("/dashboard/live").json["trunks"][0] == {
        "name": name, "live": 0, "max_channels": 7}


def test_the_chart_is_an_inline_svg_of_14_days_with_the_outcome_labels(client, db,
                                                                     signed_in):
    seed_day(db)
    add_call(db, outcome="busy", day=DAY - timedelta(days=5), at=NOW - timedelta(days=5),
             phone="+84912000097")
    signed_in("staff")
    page = page_text(client.get("/"))
    svg = page.split('<svg class="outcome-chart"')[1].split("</svg>")[0]
    days = re.findall(r'<g class="day" data-day="([\d-]+)" data-total="(\d+)"', svg)
    assert [d for d, _ in days] == [(DAY - timedelta(days=13 - i)).isoformat()
                                    for i in range(14)]
    totals = dict(days)
    assert totals[DAY.isoformat()] == "5"  # 1 completed, 3 unanswered, 1 partial
    assert totals[(DAY - timedelta(days=5)).isoformat()] == "1"
    assert "30/11" in svg and "17/11" in svg and "<script" not in svg
    assert "Kết quả cuộc gọi theo ngày trong 14 ngày qua" in svg
    legend = page.split('<ul class="legend">')[1].split("</ul>")[0]
    for label in OUTCOME_LABELS.values():
        assert label in legend
    today = svg.split(f'data-day="{DAY.isoformat()}"')[1].split("</g>")[0]
    assert set(re.findall(r'data-outcome="(\w+)"', today)) == {"completed", "no_answer",
                                                              "partial"}


def test_the_page_refreshes_through_a_static_script_only(client, signed_in):
    signed_in("staff")
    page = page_text(client.get("/"))
    assert '<script src="/static/dashboard.js"></script>' in page
    assert 'data-live-url="/dashboard/live" data-interval="10"' in page
    assert len(re.findall(r"<script", page)) == 1
    assert client.get("/static/dashboard.js").status_code == 200
