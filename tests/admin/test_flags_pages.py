"""The supervisors' flag pages and the recordings route, as a supervisor uses them."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from callengine import audit
from callengine.audit import AuditFilter
from callengine.casework.labels import ACTION_LABELS
from callengine.store.models import Answer
from tests.admin.conftest import AuthActions, page_text
from tests.admin.flag_helpers import (
    HOSTILE,
    FixedClock,
    flag_row,
    seed_flag,
    task_of,
    write_wav,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def recordings(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


@pytest.fixture
def app(app_factory, recordings):
    return app_factory(recordings_dir=recordings)


@pytest.fixture
def supervisor(signed_in):
    return signed_in("supervisor")


def _flag_ids(page: str) -> list[int]:
    """The flags of the queue, in the order shown."""
    return [int(i) for i in re.findall(r'href="/flags/(\d+)"', page)]


def _audited(db, action: str) -> list:
    return list(audit.query(db, AuditFilter(action=action)).items)


def test_the_queue_shows_urgent_flags_first_then_the_oldest_with_masked_phones(
        client, db, supervisor):
    old_plain = seed_flag(db, urgent=False, age=timedelta(days=2), phone="+84912000001")
    new_urgent = seed_flag(db, urgent=True, age=timedelta(minutes=5), phone="+84912000002")
    old_urgent = seed_flag(db, urgent=True, age=timedelta(hours=3), phone="+84912000003")
    page = page_text(client.get("/flags"))
    assert _flag_ids(page) == [old_urgent.flag_id, new_urgent.flag_id, old_plain.flag_id]
    assert "Đang mở: 3" in page and "Khẩn: 2" in page
    assert page.count('<span class="badge urgent">Khẩn</span>') == 2
    assert "********003" in page and "+84912000003" not in page
    assert "3 giờ trước" in page and "2 ngày trước" in page
    assert "Nguyễn Văn An" in page and "Nga Sơn / Nga Liên" in page


def test_the_queue_filters_by_type_place_age_status_and_assignment(client, db, auth,
                                                                  supervisor):
    symptom = seed_flag(db, age=timedelta(hours=5))
    callback = seed_flag(db, kind="callback", district="Hậu Lộc", commune="Hòa Lộc",
                         phone="+84912000009")
    assert _flag_ids(page_text(client.get("/flags?kind=callback"))) == [callback.flag_id]
    assert _flag_ids(page_text(client.get("/flags?district=Hậu Lộc"))) == [callback.flag_id]
    assert _flag_ids(page_text(client.get("/flags?commune=Nga Liên"))) == [symptom.flag_id]
    assert _flag_ids(page_text(client.get("/flags?age=4h"))) == [symptom.flag_id]
    assert _flag_ids(page_text(client.get("/flags?mine=y"))) == []
    assert auth.post(f"/flags/{callback.flag_id}/assign",
                     {"version": "1", "back": "/flags?mine=y"}).headers["Location"] \
        == "/flags?mine=y"
    mine = page_text(client.get("/flags?mine=y"))
    assert _flag_ids(mine) == [callback.flag_id]
    assert f"{supervisor.username} đang xử lý" in mine
    auth.post(f"/flags/{symptom.flag_id}/act", {"version": "1", "action": "closed",
                                                "note": "đã xử lý"})
    assert _flag_ids(page_text(client.get("/flags?status=closed"))) == [symptom.flag_id]


def test_the_queue_pages_by_cursor(client, db, supervisor, monkeypatch):
    monkeypatch.setattr("admin.flags.PAGE_SIZE", 2)
    flags = [seed_flag(db, urgent=False, age=timedelta(hours=h), phone=f"+8491200001{h}")
             for h in (3, 2, 1)]
    first = page_text(client.get("/flags"))
    assert _flag_ids(first) == [flags[0].flag_id, flags[1].flag_id]
    next_url = re.search(r'href="([^"]+)">Trang sau', first).group(1).replace("&amp;", "&")
    assert _flag_ids(page_text(client.get(next_url))) == [flags[2].flag_id]
    assert client.get("/flags?after=not-a-cursor").status_code == 400


def test_the_flag_page_shows_the_person_in_full_the_answers_and_is_audited(client, db,
                                                                           supervisor):
    seeded = seed_flag(db)
    page = page_text(client.get(f"/flags/{seeded.flag_id}"))
    assert "+84912345678" in page and "Nguyễn Văn An" in page
    assert "Hôm nay bạn có bị sốt không?" in page and "Bạn có bị ho không?" in page
    assert "có tôi bị sốt" in page and "Giọng nói" in page and "Bấm phím" in page
    assert "độ tin cậy 90%" in page
    assert f'<audio controls preload="none" src="/recordings/{seeded.answer_id}">' in page
    assert f"/recordings/{seeded.keyed_answer_id}" not in page
    assert "Số điện thoại mới (chỉ dùng cho “Đã sửa số điện thoại”)" in page
    [event] = _audited(db, "flag.view")
    assert (event.object_type, event.object_id, event.username) == (
        "flag", str(seeded.flag_id), supervisor.username)
    assert client.get("/flags/999999").status_code == 404


ACTIONS = [  # action, note, new phone, the flag's status after
    ("called_back_reached", "đã nói chuyện", "", "open"),  # a symptom needs a decision
    ("referred_for_testing", "xét nghiệm PCR", "", "open"),
    ("advised_isolation", "cách ly tại nhà", "", "open"),
    ("number_corrected", "", "0987654321", "closed"),
    ("no_action_needed", "báo nhầm", "", "closed"),
    ("closed", "đã xử lý xong", "", "closed"),
]


def test_each_action_through_the_page(client, db, auth, supervisor):
    seeded = [seed_flag(db, phone=f"+8491234500{i}") for i in range(len(ACTIONS))]
    for flag, (action, note, phone, status_after) in zip(seeded, ACTIONS):
        response = auth.post(f"/flags/{flag.flag_id}/act", {
            "version": "1", "action": action, "note": note, "phone": phone})
        assert response.status_code == 302 and response.headers["Location"] == "/flags"
        queue = page_text(client.get("/flags"))
        assert f"Cờ #{flag.flag_id}: {ACTION_LABELS[action]}" in queue  # the flash message
        assert (flag.flag_id in _flag_ids(queue)) == (status_after == "open"), action
        assert flag_row(db, flag.flag_id).status == status_after, action
    events = _audited(db, "flag.act")  # the action, never the note: it is health data
    assert sorted(e.detail["flag_action"] for e in events) == sorted(a[0] for a in ACTIONS)
    assert all(list(e.detail) == ["flag_action"] for e in events)
    corrected = page_text(client.get(f"/flags/{seeded[3].flag_id}"))
    assert "+84987654321" in corrected and "Đã sửa số điện thoại" in corrected


def test_called_back_not_reached_puts_todays_call_back_in_the_plan(client, db, auth,
                                                                    supervisor):
    seeded = seed_flag(db, kind="callback", task_status="exhausted", outcome="no_answer")
    response = auth.post(f"/flags/{seeded.flag_id}/act",
                         {"version": "1", "action": "called_back_not_reached"})
    assert response.status_code == 302
    queue = page_text(client.get("/flags"))
    assert "Đã lên lịch gọi tự động hôm nay" in queue
    assert seeded.flag_id in _flag_ids(queue)
    task = task_of(db, seeded.person_id)
    assert (task.status, task.origin) == ("pending", "manual")


def test_a_missing_note_is_refused_with_the_reason_and_nothing_changes(client, db, auth,
                                                                       supervisor):
    seeded = seed_flag(db)
    response = auth.post(f"/flags/{seeded.flag_id}/act", {"version": "1", "action": "closed"})
    assert response.status_code == 400
    assert "Cần ghi chú" in page_text(response)
    assert flag_row(db, seeded.flag_id).version == 1


def test_two_supervisors_on_one_flag_the_second_is_told_and_changes_nothing(
        app, client, db, auth, make_user, supervisor):
    seeded = seed_flag(db)
    other = app.test_client()
    other_auth = AuthActions(other)
    other_auth.sign_in(make_user("supervisor", "hoa").username)
    assert other.get(f"/flags/{seeded.flag_id}").status_code == 200  # both see version 1
    assert client.get(f"/flags/{seeded.flag_id}").status_code == 200
    assert other_auth.post(f"/flags/{seeded.flag_id}/act", {
        "version": "1", "action": "no_action_needed", "note": "hoa đã gọi"}).status_code == 302
    response = auth.post(f"/flags/{seeded.flag_id}/act", {
        "version": "1", "action": "referred_for_testing", "note": "chuyển xét nghiệm"})
    assert response.status_code == 409
    page = page_text(response)
    assert "vừa được hoa cập nhật" in page and "Thao tác của bạn chưa được ghi" in page
    assert "Trạng thái hiện tại" in page and "Đã đóng" in page
    flag = flag_row(db, seeded.flag_id)
    assert (flag.status, flag.version, flag.action) == ("closed", 2, "no_action_needed")
    assert [e.detail["flag_action"] for e in _audited(db, "flag.act")] == ["no_action_needed"]


def test_posts_without_a_csrf_token_are_refused(client, db, supervisor):
    seeded = seed_flag(db)
    act = client.post(f"/flags/{seeded.flag_id}/act",
                      data={"version": "1", "action": "closed", "note": "x"})
    take = client.post(f"/flags/{seeded.flag_id}/assign", data={"version": "1"})
    assert (act.status_code, take.status_code) == (400, 400)
    flag = flag_row(db, seeded.flag_id)
    assert (flag.status, flag.version, flag.assigned_to) == ("open", 1, None)


def test_staff_cannot_open_or_act_on_flags(client, db, auth, signed_in, recordings):
    seeded = seed_flag(db)
    write_wav(recordings / seeded.recording)
    signed_in("staff")
    for url in ("/flags", f"/flags/{seeded.flag_id}"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/flags/{seeded.flag_id}/act", {"action": "closed", "note": "x"}),
                      (f"/flags/{seeded.flag_id}/assign", {})):
        assert auth.post(url, {"version": "1", **data}).status_code == 403, url
    assert flag_row(db, seeded.flag_id).version == 1
    assert _audited(db, "flag.view") == []
    # The recording itself is part of the person's page, which staff may open.
    assert client.get(f"/recordings/{seeded.answer_id}").status_code == 200
    assert len(_audited(db, "recording.listen")) == 1


def test_html_in_a_name_and_a_note_stays_inert(client, db, auth, supervisor):
    seeded = seed_flag(db, name=HOSTILE)
    auth.post(f"/flags/{seeded.flag_id}/act",
              {"version": "1", "action": "advised_isolation", "note": HOSTILE})
    for page in (page_text(client.get("/flags")),
                 page_text(client.get(f"/flags/{seeded.flag_id}"))):
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_recording_is_served_as_wav_with_ranges_and_the_listening_audited(
        client, db, supervisor, recordings):
    seeded = seed_flag(db)
    data = write_wav(recordings / seeded.recording)
    response = client.get(f"/recordings/{seeded.answer_id}")
    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    partial = client.get(f"/recordings/{seeded.answer_id}", headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206 and partial.data == data[100:200]
    [event] = _audited(db, "recording.listen")  # the seek is the same listening
    assert (event.object_type, event.object_id) == ("answer", str(seeded.answer_id))


def _store_name(db, answer_id: int, name: str | None) -> None:
    with db.session() as s:
        s.execute(update(Answer).where(Answer.id == answer_id).values(audio_path=name))


def test_names_that_are_not_plain_recording_names_get_404(client, db, supervisor,
                                                          recordings):
    seeded = seed_flag(db)
    write_wav(recordings.parent / "secret-fever-1.wav")
    write_wav(recordings / seeded.recording)
    (recordings / "notes.txt").write_text("not a recording")  # in the folder, but no answer's
    for stored in ("notes.txt", "../secret-fever-1.wav", "/etc/passwd", "sub/x-fever-1.wav", "..",
                   "secret.wav", f"{seeded.recording}/../../secret-fever-1.wav"):
        _store_name(db, seeded.answer_id, stored)
        assert client.get(f"/recordings/{seeded.answer_id}").status_code == 404, stored
    _store_name(db, seeded.answer_id, seeded.recording)
    assert client.get(f"/recordings/{seeded.answer_id}").status_code == 200


def test_a_link_out_of_the_folder_unknown_answers_and_deleted_files_get_404(
        client, db, supervisor, recordings):
    seeded = seed_flag(db)
    outside = recordings.parent / "secret-fever-1.wav"
    write_wav(outside)
    os.symlink(outside, recordings / seeded.recording)
    assert client.get(f"/recordings/{seeded.answer_id}").status_code == 404
    os.unlink(recordings / seeded.recording)
    for url in (f"/recordings/{seeded.answer_id}",  # deleted by retention
                f"/recordings/{seeded.keyed_answer_id}",  # an answer by key: no recording
                "/recordings/999999", "/recordings/..%2Fsecret-fever-1.wav",
                "/recordings/%2e%2e/%2e%2e/etc/passwd", "/recordings/-1"):
        assert client.get(url).status_code == 404, url
    assert _audited(db, "recording.listen") == []


def test_a_flags_questions_read_as_symptoms_not_codes(client, db, supervisor):
    seeded = seed_flag(db)  # raised by a 'yes' to the fever question
    for page in (page_text(client.get("/flags")),
                 page_text(client.get(f"/flags/{seeded.flag_id}"))):
        assert "sốt" in page and "fever" not in page


@pytest.mark.parametrize("version", ["³", "1" * 30, "-1", ""])
def test_a_tampered_version_is_refused_not_a_server_error(client, db, auth, supervisor, version):
    seeded = seed_flag(db)
    response = auth.post(f"/flags/{seeded.flag_id}/act",
                         {"version": version, "action": "closed", "note": "x"})
    assert response.status_code == 400
    assert flag_row(db, seeded.flag_id).status == "open"
