"""The business risk self-assessment: the criteria file, scoring and bands (edges and the
component rule), stored assessments, history, latest bands and the high-risk list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from callengine.errors import ConfigError
from callengine.health.errors import InvalidForm
from callengine.health.risk import (
    band_of,
    find_by_risk_token,
    flagged_count,
    flagged_venues,
    latest_bands,
    record_assessment,
    risk_token,
    rotate_risk_token,
    score,
    venue_history,
)
from callengine.health.risk_criteria import DEFAULT_CRITERIA, default_criteria, load_criteria
from callengine.health.venues import TOKEN_ROTATED, TOKEN_UNKNOWN, TOKEN_VALID, create_venue

NOW = datetime(2021, 8, 2, 8, 0, tzinfo=timezone.utc)
CRITERIA = default_criteria()


def best() -> dict[str, str]:
    """Every criterion answered with its 0-point option."""
    return {c.id: next(o.id for o in c.options if o.points == 0) for c in CRITERIA.criteria}


def worst() -> dict[str, str]:
    return {c.id: max(c.options, key=lambda o: o.points).id for c in CRITERIA.criteria}


def answers_worth(points: int, *, spread: bool = True) -> dict[str, str]:
    """Answers worth exactly `points`, every criterion under 7 points when `spread`."""
    cap = 6 if spread else 10

    def search(criteria, left):
        if not criteria:
            return {} if left == 0 else None
        for option in sorted(criteria[0].options, key=lambda o: -o.points):
            if option.points <= min(left, cap):
                rest = search(criteria[1:], left - option.points)
                if rest is not None:
                    return {criteria[0].id: option.id, **rest}
        return None

    found = search(CRITERIA.criteria, points)
    assert found is not None, points
    return found


def test_the_shipped_file_has_ten_components_of_ten_points_and_five_bands():
    assert CRITERIA.max_points == 100 and len(CRITERIA.criteria) == 10
    assert all(c.max_points == 10 for c in CRITERIA.criteria)
    assert [b.code for b in CRITERIA.bands] == ["very_low", "low", "medium", "high",
                                                "very_high"]
    assert CRITERIA.band("very_high").advice == "Không được hoạt động."


@pytest.mark.parametrize("index, band", [
    (0, "very_low"), (10, "very_low"), (10.01, "low"), (29.99, "low"), (30, "medium"),
    (49.99, "medium"), (50, "high"), (79.99, "high"), (80, "very_high"), (100, "very_high"),
])
def test_the_band_edges_follow_the_documented_ranges(index, band):
    assert band_of(CRITERIA, index, ()).code == band


def test_scores_sum_the_chosen_options_and_give_the_index():
    assert score(CRITERIA, best()).points == 0
    result = score(CRITERIA, worst())
    assert (result.points, result.index_percent, result.band.code) == (100, 100.0, "very_high")
    assert score(CRITERIA, answers_worth(10)).band.code == "very_low"
    assert score(CRITERIA, answers_worth(30)).band.code == "medium"
    assert score(CRITERIA, answers_worth(50, spread=False)).band.code == "high"
    assert score(CRITERIA, answers_worth(80, spread=False)).band.code == "very_high"


def test_a_medium_index_with_a_component_of_seven_or_more_counts_as_high():
    spread = score(CRITERIA, answers_worth(40))
    assert spread.band.code == "medium" and spread.alerts == ()
    one_high = answers_worth(30)
    one_high["workers_together"] = "ge1000"  # 10 points in one component
    result = score(CRITERIA, one_high)
    assert 30 <= result.index_percent < 50
    assert result.alerts == ("workers_together",) and result.band.code == "high"
    low = score(CRITERIA, {**best(), "workers_together": "ge1000"})  # 10 %: very low anyway
    assert low.band.code == "very_low" and low.alerts == ("workers_together",)


def test_missing_and_invalid_answers_are_named_in_vietnamese():
    answers = best()
    del answers["night_shifts"]
    answers["masks_worn"] = "nobody"
    answers["colour"] = "red"
    with pytest.raises(InvalidForm) as error:
        score(CRITERIA, answers)
    assert set(error.value.errors) == {"night_shifts", "masks_worn", "colour"}
    assert "Chưa trả lời: Làm ca đêm" in error.value.errors["night_shifts"]
    assert "Lựa chọn 'nobody' không có" in error.value.errors["masks_worn"]


def _broken(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(DEFAULT_CRITERIA.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("groups"), "groups: phải là một danh sách không rỗng"),
    (lambda r: r["groups"][0]["criteria"][0]["options"][1].update(points="ba"),
     "groups[0] (people).criteria[0] (workers_together).options[1].points: 'ba' phải là số"),
    (lambda r: r["groups"][1]["criteria"][0]["options"][1].update(id="everywhere"),
     "mã 'everywhere' bị trùng"),
    (lambda r: r["groups"][0]["criteria"][1].pop("text"), "workshop_density).text: thiếu"),
    (lambda r: r["formula"].update(max_points=90),
     "formula.max_points: là 90 nhưng tổng điểm cao nhất của các tiêu chí là 100"),
    (lambda r: r["bands"][2].update(lower=35), "bands (medium): bắt đầu từ 35 %"),
    (lambda r: r["bands"][4].update(include_upper=False), "dải cuối phải kết thúc ở 100 %"),
    (lambda r: r["bands"][2].update(otherwise="severe"), "cần otherwise là mã một dải khác"),
])
def test_a_malformed_criteria_file_is_refused_saying_where(tmp_path, change, message):
    with pytest.raises(ConfigError) as error:
        load_criteria(_broken(tmp_path, change))
    assert "Tệp tiêu chí broken.yaml" in str(error.value) and message in str(error.value)


def test_an_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("groups: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="Tệp tiêu chí bad.yaml: tệp: không đọc được"):
        load_criteria(path)


def _venue(db, name, district="Đông Sơn"):
    return create_venue(db, {"name": name, "district": district}, now=NOW, created_by="lan")


def test_assessments_are_stored_and_read_back_newest_first(db):
    venue = _venue(db, "Xưởng may Hòa Bình")
    first = record_assessment(db, venue.id, worst(), submitted_by="Lê Văn Minh", now=NOW)
    second = record_assessment(db, venue.id, best(), submitted_by="lan",
                               now=NOW + timedelta(days=7))
    history = venue_history(db, venue.id)
    assert [a.id for a in history] == [second.id, first.id]
    assert (history[1].points, history[1].band.code, history[1].submitted_by) == (
        100, "very_high", "Lê Văn Minh")
    assert history[1].answers == worst() and history[1].criteria_id == "workplace_hcmc_2020"
    assert history[0].submitted_at == NOW + timedelta(days=7)
    assert latest_bands(db, [venue.id]) == {venue.id: "very_low"}


def test_the_high_risk_list_keeps_venues_whose_latest_band_is_high(db):
    mill = _venue(db, "Nhà máy giày Alpha")
    shop = _venue(db, "Cửa hàng Bình An")
    mended = _venue(db, "Xưởng gỗ Cường")
    far = _venue(db, "Nhà máy Đức", district="Sầm Sơn")
    for venue in (mill, shop, mended, far):
        record_assessment(db, venue.id, worst(), submitted_by="x", now=NOW)
    high = answers_worth(60, spread=False)
    record_assessment(db, shop.id, high, submitted_by="x", now=NOW)
    record_assessment(db, mended.id, best(), submitted_by="x", now=NOW)  # fixed since
    page = flagged_venues(db, district="Đông Sơn", limit=1)
    assert [item.venue.name for item in page.items] == ["Cửa hàng Bình An"]
    assert page.items[0].latest.band.code == "high"
    rest = flagged_venues(db, district="Đông Sơn", after=page.next, limit=1)
    assert [item.venue.name for item in rest.items] == ["Nhà máy giày Alpha"]
    assert rest.next is None
    assert flagged_count(db, district="Đông Sơn") == 2 and flagged_count(db) == 3


def test_the_assessment_link_token_is_stable_until_rotated(db):
    venue = _venue(db, "Chợ Vườn Hoa")
    token = risk_token(db, venue.id, now=NOW)
    assert len(token) == 28 and token != venue.token
    assert risk_token(db, venue.id, now=NOW) == token
    assert find_by_risk_token(db, token).status == TOKEN_VALID
    assert find_by_risk_token(db, venue.token).status == TOKEN_UNKNOWN  # not the check-in one
    new = rotate_risk_token(db, venue.id, now=NOW)
    assert find_by_risk_token(db, token).status == TOKEN_ROTATED
    assert find_by_risk_token(db, new).venue.id == venue.id
