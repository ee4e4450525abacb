"""Vietnamese labels of the engine's codes (outcomes, task statuses), for pages and the CLI.

Codes stay English in the database; this module is their one Vietnamese home.
"""

from __future__ import annotations

from callengine.dialer.outcome import (
    BUSY,
    COMPLETED,
    CONGESTION,
    FAILED,
    INVALID,
    NO_ANSWER,
    PARTIAL,
    REJECTED,
)
from callengine.store.models import (
    OUTCOMES,
    TASK_CANCELLED,
    TASK_DIALING,
    TASK_DONE,
    TASK_EXHAUSTED,
    TASK_PENDING,
)

OUTCOME_LABELS = {
    COMPLETED: "Trả lời đủ",
    PARTIAL: "Trả lời dở",
    NO_ANSWER: "Không nghe máy",
    BUSY: "Máy bận",
    REJECTED: "Từ chối cuộc gọi",
    INVALID: "Số không tồn tại",
    CONGESTION: "Nghẽn mạng",
    FAILED: "Lỗi cuộc gọi",
}
assert set(OUTCOME_LABELS) == set(OUTCOMES), "every outcome needs a label"

TASK_STATUS_LABELS = {
    TASK_PENDING: "Chờ gọi",
    TASK_DIALING: "Đang gọi",
    TASK_DONE: "Xong",
    TASK_EXHAUSTED: "Hết lượt gọi",
    TASK_CANCELLED: "Đã hủy",
}
LIVE_CALL_LABEL = "Đang diễn ra"  # an attempt whose outcome is not known yet


def label(labels: dict[str, str], code: str | None) -> str:
    """The label of a code, or the code itself when it has none."""
    if code is None:
        return ""
    return labels.get(code, code)


def display_name(person_id: int, full_name: str | None) -> str:
    """The person's name, or 'Người #12' when the list gave none."""
    return full_name or f"Người #{person_id}"

# The dashboard's figures (reports.Figures fields), worded like the results export's summary.
FIGURE_LABELS = {
    "planned": "Kế hoạch",
    "dialled": "Đã gọi",
    "reached": "Liên lạc được",
    "completed": "Hoàn thành",
    "flagged": "Cần xử lý",
    "urgent": "Khẩn cấp",
    "unreachable": "Không liên lạc được",
    "callbacks": "Yêu cầu gọi lại",
    "pending": "Chờ gọi",
    "dialing": "Đang gọi",
    "cancelled": "Đã hủy",
}
NO_DISTRICT = "Chưa rõ huyện"
NO_COMMUNE = "Chưa rõ xã"
