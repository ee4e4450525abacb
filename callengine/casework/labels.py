"""Vietnamese labels the views and the CLI show (codes stay English in the database)."""

from __future__ import annotations

from datetime import timedelta

from callengine.labels import (  # noqa: F401 (re-exported: one home for the engine's labels)
    OUTCOME_LABELS,
    TASK_STATUS_LABELS,
    display_name,
    label,
)
from callengine.store.models import (
    PERSON_CLOSED,
    PERSON_ENDED,
    PERSON_F0,
    PERSON_MONITORING,
    PERSON_UNMONITORED,
)
from callengine.store.supervision import (
    FLAG_CALLBACK,
    FLAG_CLOSED,
    FLAG_DECLARATION,
    FLAG_INVALID_NUMBER,
    FLAG_OPEN,
    FLAG_POSITIVE,
    FLAG_RETEST,
    FLAG_SPEECH_REVIEW,
    FLAG_SYMPTOM,
    FLAG_UNREACHABLE,
)

FLAG_KIND_LABELS = {
    FLAG_SYMPTOM: "Có triệu chứng",
    FLAG_CALLBACK: "Yêu cầu gọi lại",
    FLAG_UNREACHABLE: "Không liên lạc được",
    FLAG_INVALID_NUMBER: "Số điện thoại sai",
    FLAG_SPEECH_REVIEW: "Cần nghe lại câu trả lời",
    FLAG_DECLARATION: "Khai báo y tế có triệu chứng",
    FLAG_POSITIVE: "Xét nghiệm dương tính",
    FLAG_RETEST: "Cần xét nghiệm lại (mẫu gộp dương tính)",
}
FLAG_STATUS_LABELS = {FLAG_OPEN: "Đang mở", FLAG_CLOSED: "Đã đóng"}

CATEGORY_LABELS = {"F0": "F0", "F1": "F1", "F2": "F2", "returnee": "Người về từ vùng dịch"}

PERSON_STATUS_LABELS = {
    PERSON_MONITORING: "Đang theo dõi",
    PERSON_ENDED: "Hết thời gian theo dõi",
    PERSON_F0: "F0 (ca bệnh)",
    PERSON_CLOSED: "Đã đóng theo dõi",
    PERSON_UNMONITORED: "Không theo dõi",
}

ANSWER_LABELS = {"yes": "Có", "no": "Không", "unknown": "Không rõ", "pending": "Đang nhận dạng"}
SOURCE_LABELS = {"dtmf": "Bấm phím", "speech": "Giọng nói"}

# Why a supervisor ends a person's monitoring early (after Sara Alert's closure reasons).
CLOSURE_REASONS = {
    "completed": "Đã hoàn thành theo dõi",
    "became_f0": "Đã xác định là F0 (ca bệnh)",
    "hospitalized": "Đang điều trị tại cơ sở y tế",
    "facility_isolation": "Chuyển cách ly tập trung",
    "moved_away": "Chuyển khỏi địa bàn",
    "lost_to_follow_up": "Mất liên lạc",
    "refused": "Từ chối nhận cuộc gọi",
    "not_eligible": "Không thuộc diện theo dõi / nhầm người",
    "duplicate": "Trùng hồ sơ",
    "deceased": "Đã tử vong",
    "other": "Lý do khác",
}
REASONS_NEEDING_NOTE = frozenset({"other"})

PERSON_EVENT_LABELS = {
    "closed": "Đóng theo dõi",
    "reopened": "Mở lại theo dõi",
    "phone_corrected": "Sửa số điện thoại",
    "call_now": "Yêu cầu gọi ngay",
    "became_f0": "Xác định là F0 (xét nghiệm dương tính)",
}


def age_label(age: timedelta) -> str:
    """How old something is, as a supervisor says it: '5 phút', '3 giờ', '2 ngày'."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // (24 * 60)} ngày"



# A supervisor's actions on a flag (flag_actions.ACTIONS says what each one does).
ACTION_LABELS = {
    "called_back_reached": "Đã gọi lại, liên lạc được",
    "called_back_not_reached": "Đã gọi lại, không liên lạc được",
    "referred_for_testing": "Đã chuyển đi xét nghiệm",
    "advised_isolation": "Đã hướng dẫn cách ly",
    "number_corrected": "Đã sửa số điện thoại",
    "no_action_needed": "Không cần xử lý",
    "closed": "Đóng cờ",
    "assigned": "Nhận xử lý",
}

# What an action or a person's change made the engine do.
EFFECT_LABELS = {
    "call_scheduled": "Đã lên lịch gọi tự động hôm nay",
    "call_already_planned": "Đã có cuộc gọi trong lịch hôm nay",
    "call_already_done": "Hôm nay đã gọi xong, không gọi thêm",
    "call_too_late": "Đã hết giờ gọi hôm nay, không gọi thêm",
    "call_not_for_closed": "Người này đã đóng theo dõi, không gọi tự động",
    "call_not_for_f0": "Người này là F0 (ca bệnh), không gọi tự động",
    "call_needs_new_number": "Số sai: hãy sửa số điện thoại để gọi lại",
    "phone_corrected": "Đã sửa số điện thoại",
    "phone_corrected_recalled": "Đã sửa số điện thoại và lên lịch gọi lại hôm nay",
    "monitoring_closed": "Đã đóng theo dõi, hủy các cuộc gọi đang chờ",
}
