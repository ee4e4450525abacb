"""/prompts with the test client: upload, preview, use, revert; refusals; hostile input."""

from __future__ import annotations

import io
import shutil

import pytest
from sqlalchemy import select

from callengine.prompts import build_prompts
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.store.accounts import AuditEvent
from tests.admin.conftest import page_text
from tests.unit.test_prompt_voice import tone_wav


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("built")
    build_prompts(load_questionnaire(DEFAULT_QUESTIONNAIRE), folder)
    return folder


@pytest.fixture
def sounds(built, tmp_path):
    folder = tmp_path / "sounds"
    shutil.copytree(built, folder)
    return folder


@pytest.fixture
def app(app_factory, sounds):
    return app_factory(sounds_dir=sounds, prompt_upload_max_mb=1, prompt_max_seconds=10)


@pytest.fixture
def staff(signed_in):
    return signed_in("staff")


def upload(auth, prompt_id="fever", data=None, filename="giong-lan.wav"):
    return auth.post(f"/prompts/{prompt_id}/recording",
                     {"recording": (io.BytesIO(data or tone_wav()), filename)},
                     content_type="multipart/form-data", follow_redirects=True)


def audit_actions(db):
    with db.session() as session:
        return [(e.action, e.object_id) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "prompt").order_by(AuditEvent.id))]


def test_the_list_shows_every_prompt_with_its_text_and_player(client, staff):
    page = page_text(client.get("/prompts"))
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    for prompt_id in questionnaire.prompt_ids():
        assert f'src="/prompts/{prompt_id}/audio"' in page
    assert questionnaire.question("fever").text in page
    assert page.count('<audio controls preload="none"') == len(questionnaire.prompt_ids())
    assert 'accept="audio/*"' in page and "Ghi âm trên trình duyệt" in page
    assert "Giọng tổng hợp" in page and "<script>" not in page


def test_upload_preview_approve_then_callers_hear_it(client, auth, staff, sounds, db):
    before = client.get("/prompts/fever/audio").data
    page = page_text(upload(auth))
    assert "Đã chuyển đổi bản ghi" in page and "Nghe thử" in page
    assert "Dùng bản ghi này" in page and "giong-lan.wav" in page
    preview = client.get("/prompts/fever/preview")
    assert preview.status_code == 200 and preview.mimetype == "audio/wav"
    assert client.get("/prompts/fever/audio").data == before  # not live yet

    page = page_text(auth.post("/prompts/fever/approve", follow_redirects=True))
    assert "Từ giờ người nghe máy sẽ nghe bản ghi này." in page
    live = client.get("/prompts/fever/audio").data
    assert live == preview.data == (sounds / "fever.wav").read_bytes()
    assert "Giọng người thật" in page and staff.username in page
    assert client.get("/prompts/fever/preview").status_code == 404

    page = page_text(auth.post("/prompts/fever/revert", follow_redirects=True))
    assert "Người nghe máy lại nghe giọng tổng hợp." in page
    assert client.get("/prompts/fever/audio").data == before
    assert audit_actions(db) == [("prompt.stage", "fever"), ("prompt.approve", "fever"),
                                 ("prompt.revert", "fever")]


def test_discard_keeps_what_callers_hear(client, auth, staff, db):
    before = client.get("/prompts/intro/audio").data
    upload(auth, "intro")
    page = page_text(auth.post("/prompts/intro/discard", follow_redirects=True))
    assert "Đã bỏ bản ghi." in page and "Nghe thử" not in page
    assert client.get("/prompts/intro/audio").data == before
    assert audit_actions(db)[-1] == ("prompt.discard", "intro")


@pytest.mark.parametrize("data, message", [
    (b"this is not audio at all" * 20, "Không đọc được tệp này như âm thanh."),
    (tone_wav(seconds=12, rate=8000), "Bản ghi quá dài: tối đa 10 giây."),
    (b"RIFF" + b"\0" * (1024 * 1024 + 10), "Tệp quá lớn: tối đa 1 MB."),
], ids=["broken", "too-long", "too-large"])
def test_bad_uploads_get_a_vietnamese_message_and_nothing_is_stored(client, auth, staff, sounds,
                                                                   db, data, message):
    def files():
        return sorted(str(p.relative_to(sounds)) for p in sounds.rglob("*") if p.is_file())
    before = files()
    page = page_text(upload(auth, data=data))
    assert message in page
    assert files() == before
    assert client.get("/prompts/fever/preview").status_code == 404
    assert audit_actions(db) == []


def test_a_post_without_csrf_token_is_refused(client, staff, sounds):
    response = client.post("/prompts/fever/recording",
                           data={"recording": (io.BytesIO(tone_wav()), "a.wav")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert not (sounds / "custom" / "preview").exists()


def test_a_hostile_filename_stays_inert(client, auth, staff):
    page = page_text(upload(auth, filename="<script>alert(1)</script>.wav"))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.wav" in page


@pytest.mark.parametrize("path", [
    "/prompts/nope/audio", "/prompts/..%2Fmanifest.json/audio", "/prompts/../manifest.json",
    "/prompts/%2E%2E/audio", "/prompts/custom%2Ffever/audio", "/prompts/fever.wav/audio",
    "/prompts/fever/preview",  # nothing staged
])
def test_path_tricks_in_audio_urls_get_404(client, staff, path):
    assert client.get(path).status_code == 404


def test_an_unknown_prompt_cannot_be_changed(auth, staff, db):
    assert upload(auth, "nope").status_code == 404
    assert auth.post("/prompts/nope/approve").status_code == 404
    assert audit_actions(db) == []


def test_a_supervisor_may_also_record_a_prompt(client, auth, signed_in):
    signed_in("supervisor")
    assert client.get("/prompts").status_code == 200
    assert upload(auth).status_code in (200, 302)
