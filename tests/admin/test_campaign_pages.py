"""Campaign control at `/campaign`: a supervisor pauses, resumes and changes the limits, and a
running engine's CampaignWatcher obeys on its next poll."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import pytest

from callengine import audit, campaign
from callengine.audit import AuditFilter
from callengine.dialer.campaign import CampaignWatcher
from callengine.dialer.pacing import build_pacers
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from tests.admin.conftest import page_text
from tests.admin.flag_helpers import FixedClock
from tests.unit.casework_helpers import NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(app):
    return app.extensions["callengine"].settings


@pytest.fixture
def trunk(settings) -> str:
    return settings.trunks[0].name


@pytest.fixture
def watcher(db, settings):
    """What a running `callengine run` keeps: pacers, window, retry policy, kept in step."""
    window = Window(settings.call_window, settings.timezone, settings.window_close_guard)
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(settings), window, "server-a")
    engine = CampaignWatcher(db, settings, pacers=build_pacers(settings.trunks), window=window,
                             records=records, interval=0.05)
    engine.load()
    return engine


@pytest.fixture
def supervisor(signed_in):
    return signed_in("supervisor")


def _revision(page: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', page).group(1)


def _errors(page: str) -> dict[str, str]:
    return {key: unescape(message) for key, message in
            re.findall(r'<span class="error" id="e-([^"]+)">([^<]*)</span>', page)}


def _actions(db, action: str) -> list:
    return list(audit.query(db, AuditFilter(action=action)).items)


def test_pause_and_resume_through_the_page_reach_a_running_engine(
        client, auth, db, settings, watcher, supervisor):
    assert not watcher.paused
    response = auth.post("/campaign/pause", follow_redirects=True)
    page = page_text(response)
    assert "Đã tạm dừng chiến dịch." in page and "Tiếp tục gọi" in page
    assert f"Tạm dừng bởi {supervisor.username} từ" in page
    now = campaign.current(db, settings)
    assert now.paused and now.paused_by == supervisor.username
    assert asyncio.run(watcher.poll()) is True and watcher.paused  # its next look obeys

    page = page_text(auth.post("/campaign/resume", follow_redirects=True))
    assert "Chiến dịch đã chạy lại." in page and "Tạm dừng gọi" in page
    assert not campaign.current(db, settings).paused
    assert asyncio.run(watcher.poll()) is True and not watcher.paused
    paused, resumed = _actions(db, "campaign.pause"), _actions(db, "campaign.resume")
    assert [e.username for e in paused + resumed] == [supervisor.username] * 2


def test_changes_through_the_form_are_stored_applied_and_audited(
        client, auth, db, settings, trunk, watcher, supervisor):
    page = page_text(client.get("/campaign"))
    assert "áp dụng mọi thay đổi trong vòng 5 giây" in page
    response = auth.post("/campaign", {
        "revision": _revision(page), "call_window": "07:30-19:00", "retry_busy": "1h",
        "retry_no_answer": "900", f"trunk.{trunk}.max_channels": "3",
        f"trunk.{trunk}.cps": "0.5", "max_attempts_per_day": "2"}, follow_redirects=True)
    assert "Đã lưu:" in page_text(response)
    now = campaign.current(db, settings)
    assert (now.retry_busy, now.retry_no_answer, now.max_attempts_per_day) == (3600, 900, 2)
    assert now.trunks[trunk].max_channels == 3 and now.trunks[trunk].cps == 0.5
    asyncio.run(watcher.poll())
    assert watcher.pacers[trunk].max_channels == 3
    assert watcher.records.policy == RetryPolicy.from_settings(now.apply_to(settings))
    (event,) = _actions(db, "campaign.update")
    assert event.detail["changes"] == {
        "call_window": "07:30-19:00", "retry_busy": 3600, "retry_no_answer": 900,
        f"trunk.{trunk}.max_channels": 3, f"trunk.{trunk}.cps": 0.5,
        "max_attempts_per_day": 2}
    page = page_text(client.get("/campaign"))
    assert 'name="retry_busy" value="1h"' in page and "(đặt tại đây)" in page
    assert f"Thay đổi gần nhất: {supervisor.username}" in page


def test_emptying_a_value_set_here_goes_back_to_the_settings(client, auth, db, settings,
                                                              supervisor):
    campaign.update(db, settings, {"retry_busy": 60}, "hoa", NOW)
    page = page_text(client.get("/campaign"))
    auth.post("/campaign", {"revision": _revision(page), "retry_busy": ""})
    now = campaign.current(db, settings)
    assert now.retry_busy == settings.retry_busy and "retry_busy" not in now.overridden


def test_invalid_values_show_each_fields_error_and_write_nothing(client, auth, db, settings,
                                                                 trunk, supervisor):
    page = page_text(client.get("/campaign"))
    before = campaign.current(db, settings)
    response = auth.post("/campaign", {
        "revision": _revision(page), "call_window": "20:00-08:00", "retry_busy": "soon",
        f"trunk.{trunk}.cps": "0", "max_attempts_per_day": "3"})
    assert response.status_code == 422
    page = page_text(response)
    errors = _errors(page)
    assert set(errors) == {"call_window", "retry_busy", f"trunk.{trunk}.cps"}
    assert "giờ kết thúc sau giờ bắt đầu" in errors["call_window"]
    assert "90s, 15m, 2h" in errors["retry_busy"] and "lớn hơn 0" in errors[f"trunk.{trunk}.cps"]
    assert 'name="retry_busy" value="soon"' in page  # what was typed stays to be corrected
    assert "Chưa lưu gì" in page
    assert campaign.current(db, settings) == before and not _actions(db, "campaign.update")


def test_two_supervisors_editing_at_once_the_second_is_told(client, auth, db, settings,
                                                            supervisor):
    page = page_text(client.get("/campaign"))
    campaign.update(db, settings, {"retry_busy": "5m"}, "hoa", NOW)  # the other one saves
    response = auth.post("/campaign", {"revision": _revision(page), "retry_busy": "2h"})
    assert response.status_code == 409
    page = page_text(response)
    assert "Chiến dịch vừa được hoa thay đổi" in page
    assert 'name="retry_busy" value="5m"' in page  # the page shows the campaign as it is now
    assert campaign.current(db, settings).retry_busy == 300


def test_staff_cannot_pause_nor_change_the_campaign(client, auth, db, settings, signed_in):
    signed_in("staff")
    assert client.get("/campaign").status_code == 403
    assert auth.post("/campaign/pause").status_code == 403
    assert auth.post("/campaign", {"revision": "0", "retry_busy": "1m"}).status_code == 403
    assert campaign.current(db, settings).revision == 0


def test_a_post_without_its_csrf_token_is_refused(client, db, settings, supervisor):
    assert client.post("/campaign/pause").status_code == 400
    assert not campaign.current(db, settings).paused


def test_a_limit_for_one_server_set_through_the_api_is_shown_and_obeyed_there(
        client, db, settings, trunk, watcher, supervisor, token_of):
    headers = token_of("supervisor", "lan")
    response = client.put("/api/v1/campaign", headers=headers, json={
        "trunks": {trunk: {"max_channels": 4}, f"{trunk}@server-a": {"max_channels": 2},
                   f"{trunk}@server-b": {"cps": 0.5}}})
    assert response.status_code == 200
    assert response.json["trunks"][f"{trunk}@server-a"] == {"max_channels": 2}
    asyncio.run(watcher.poll())
    assert watcher.pacers[trunk].max_channels == 2  # this engine is server-a
    assert watcher.pacers[trunk].spacing == 1 / settings.trunks[0].cps  # not server-b's
    page = page_text(client.get("/campaign"))
    assert f"Số kênh đồng thời tối đa (trung kế {trunk}, máy chủ server-a): 2" in page
    assert f"Số cuộc gọi bắt đầu mỗi giây (trung kế {trunk}, máy chủ server-b): 0.5" in page
    assert f'name="trunk.{trunk}.max_channels" value="4"' in page
    error = client.put("/api/v1/campaign", headers=headers, json={
        "trunks": {f"{trunk}@máy 2": {"cps": 1}}}).json["error"]
    assert "tên máy chủ 'máy 2' không hợp lệ" in error["errors"][f"trunk.{trunk}@máy 2.cps"]
