"""The pure overlap rules of the exposure query: stays, edges, minimum, merged repeats."""

from datetime import datetime, timedelta

from callengine.health.overlap import (
    MAX_MERGED_VISIT,
    Stay,
    Visit,
    add_overlaps,
    case_stays,
    is_case_visit,
    overlap,
    stay_of,
)

T0 = datetime(2026, 11, 20, 9, 0)


def visit(checkin_id, at, *, last=None, venue=1, person=None, phone="+84912000001",
          name="Người thăm"):
    return Visit(checkin_id, venue, at, last or at, person, name, phone)


def minutes(n):
    return timedelta(minutes=n)


def candidates_for(case_stay, others, stay=60, minimum=1):
    found = {}
    add_overlaps(found, case_stay, others, stay, minimum)
    return found


def test_a_stay_lasts_the_venue_length_after_the_last_merged_repeat():
    assert stay_of(visit(1, T0), 60) == Stay(T0, T0 + minutes(60))
    assert stay_of(visit(1, T0, last=T0 + minutes(25)), 60) == Stay(T0, T0 + minutes(85))
    assert stay_of(visit(1, T0), 15) == Stay(T0, T0 + minutes(15))  # a venue's own length


def test_a_merged_visit_is_cut_at_the_longest_counted():
    long = visit(1, T0, last=T0 + timedelta(hours=30))
    assert stay_of(long, 60).end == T0 + MAX_MERGED_VISIT + minutes(60)


def test_touching_stays_do_not_overlap():
    case = Stay(T0, T0 + minutes(60))
    assert overlap(case, Stay(T0 + minutes(60), T0 + minutes(120))) is None
    assert candidates_for(case, [visit(2, T0 + minutes(60))]) == {}
    assert candidates_for(case, [visit(2, T0 - minutes(60))]) == {}


def test_an_overlap_counts_only_above_the_minimum():
    case = Stay(T0, T0 + minutes(60))
    exactly_one = visit(2, T0 + minutes(59))
    a_bit_more = visit(3, T0 + minutes(58), phone="+84912000003")
    found = candidates_for(case, [exactly_one, a_bit_more], minimum=1)
    assert list(found) == [("phone", "+84912000003")]
    assert found[("phone", "+84912000003")].overlaps[0].minutes == 2
    assert len(candidates_for(case, [exactly_one], minimum=0)) == 1


def test_the_venue_override_shortens_the_stay():
    case = Stay(T0, T0 + minutes(15))
    later = visit(2, T0 + minutes(20))
    assert candidates_for(case, [later], stay=60) == {}
    earlier = visit(3, T0 - minutes(30))
    assert candidates_for(case, [earlier], stay=15) == {}
    assert len(candidates_for(case, [earlier], stay=60)) == 1


def test_merged_repeats_extend_the_stay_into_an_overlap():
    case = Stay(T0 + minutes(100), T0 + minutes(160))
    single = visit(2, T0)
    repeated = visit(3, T0, last=T0 + minutes(50), phone="+84912000003")
    found = candidates_for(case, [single, repeated])
    assert list(found) == [("phone", "+84912000003")]
    assert found[("phone", "+84912000003")].overlaps[0].minutes == 10


def test_the_case_stays_outside_the_window_are_ignored_and_inside_ones_clipped():
    window = Stay(T0, T0 + timedelta(days=2))
    before = visit(1, T0 - timedelta(hours=3))
    across_start = visit(2, T0 - minutes(30))
    inside = visit(3, T0 + timedelta(hours=5))
    after = visit(4, T0 + timedelta(days=2))
    stays = case_stays([after, inside, before, across_start], {1: 60}, window)
    assert [(v.checkin_id, s) for v, s in stays] == [
        (2, Stay(T0, T0 + minutes(30))),
        (3, Stay(T0 + timedelta(hours=5), T0 + timedelta(hours=6))),
    ]


def test_a_candidate_at_two_venues_is_listed_once_with_both_overlaps():
    found = {}
    add_overlaps(found, Stay(T0, T0 + minutes(60)),
                 [visit(10, T0 + minutes(10), venue=1, person=7)], 60, 1)
    add_overlaps(found, Stay(T0 + timedelta(hours=3), T0 + timedelta(hours=4)),
                 [visit(11, T0 + timedelta(hours=3), venue=2, person=7)], 60, 1)
    assert list(found) == [("person", 7)]
    candidate = found[("person", 7)]
    assert candidate.venue_ids == [1, 2] and candidate.checkin_ids == [10, 11]
    assert candidate.last_contact == T0 + timedelta(hours=4)


def test_visitors_without_a_person_are_told_apart_by_phone():
    case = Stay(T0, T0 + minutes(60))
    found = candidates_for(case, [visit(2, T0, phone="+84912000002"),
                                  visit(3, T0 + minutes(5), phone="+84912000002"),
                                  visit(4, T0, phone="+84912000004")])
    assert sorted(found) == [("phone", "+84912000002"), ("phone", "+84912000004")]
    assert len(found[("phone", "+84912000002")].overlaps) == 2


def test_the_case_own_check_ins_are_recognised_by_person_or_phone():
    phones = {"+84912000009"}
    assert is_case_visit(visit(1, T0, person=5), 5, phones)
    assert is_case_visit(visit(1, T0, phone="+84912000009"), 5, phones)
    assert not is_case_visit(visit(1, T0, person=6, phone="+84912000009"), 5, phones)
