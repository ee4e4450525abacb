"""`callengine flags ...` and `callengine people ...` as a supervisor types them."""

from __future__ import annotations

import json

import pytest

from callengine.cli import main
from callengine.store.db import Database
from tests.unit.casework_helpers import add_flag, add_person, add_task


@pytest.fixture
def seeded(database_url, monkeypatch):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    db = Database(database_url)
    with db.session() as s:
        person = add_person(s, "+84912345678", "Nguyễn Văn An")
        task = add_task(s, person)
        flag = add_flag(s, person, kind="symptom", urgent=True, task=task, detail="breath")
        ids = person.id, flag.id
    db.dispose()
    return ids


def test_flags_list_shows_the_queue_in_vietnamese_with_masked_phones(seeded, capsys):
    assert main(["flags", "list"]) == 0
    out = capsys.readouterr().out
    assert "[KHẨN] Có triệu chứng" in out and "Nguyễn Văn An" in out
    assert "********678" in out and "912345678" not in out
    assert main(["flags", "list", "--kind", "callback"]) == 0
    assert "Không có kết quả." in capsys.readouterr().out
    assert main(["flags", "list", "--json", "--urgent"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in data["items"]] == [seeded[1]] and data["next"] is None


def test_flags_act_records_the_action_and_a_refusal_is_one_vietnamese_line(seeded, capsys):
    flag = str(seeded[1])
    assert main(["flags", "act", flag, "referred_for_testing", "--note", "đi xét nghiệm PCR",
                 "--by", "lan"]) == 0
    assert "Đã chuyển đi xét nghiệm" in capsys.readouterr().out
    assert main(["flags", "act", flag, "no_action_needed", "--by", "lan"]) == 2
    assert "Cần ghi chú" in capsys.readouterr().err
    assert main(["flags", "act", flag, "closed", "--note", "ổn", "--by", "minh",
                 "--version", "1"]) == 2  # stale: lan acted first
    assert "vừa được lan cập nhật" in capsys.readouterr().err


def test_people_find_close_and_phone(seeded, capsys):
    person = str(seeded[0])
    assert main(["people", "find", "nguyen van an"]) == 0
    out = capsys.readouterr().out
    assert f"#{person} Nguyễn Văn An · ********678" in out and "Đang theo dõi" in out
    assert main(["people", "find", "84-912-345-678", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["phone_masked"] == "********678"
    assert main(["people", "phone", person, "0987654321", "--by", "lan"]) == 0
    assert "Đã sửa số điện thoại" in capsys.readouterr().out
    assert main(["people", "phone", person, "12345", "--by", "lan"]) == 2
    assert "là số dịch vụ (đầu số ngắn), không gọi được" in capsys.readouterr().err
    assert main(["people", "close", person, "--reason", "deceased", "--by", "lan"]) == 0
    assert "Đã tử vong" in capsys.readouterr().out
    assert main(["people", "show", person]) == 0
    assert "+84987654321" in capsys.readouterr().out  # one person's page: in full
