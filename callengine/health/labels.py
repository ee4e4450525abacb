"""Vietnamese labels of samples and results (codes stay English in the database)."""

from __future__ import annotations

from callengine.store.samples import (
    KIND_POOLED,
    KIND_RAPID_ANTIGEN,
    KIND_RT_PCR,
    RESULT_INDETERMINATE,
    RESULT_NEGATIVE,
    RESULT_POSITIVE,
)

SAMPLE_KIND_LABELS = {
    KIND_RT_PCR: "RT-PCR",
    KIND_RAPID_ANTIGEN: "Test nhanh kháng nguyên",
    KIND_POOLED: "Mẫu gộp",
}
RESULT_LABELS = {
    RESULT_POSITIVE: "Dương tính",
    RESULT_NEGATIVE: "Âm tính",
    RESULT_INDETERMINATE: "Không xác định",
}
NO_RESULT = "Chưa có kết quả"

# Spellings staff and labs write (compared accent- and case-insensitively).
KIND_SPELLINGS = {
    "rt-pcr": KIND_RT_PCR, "rt pcr": KIND_RT_PCR, "pcr": KIND_RT_PCR, "rtpcr": KIND_RT_PCR,
    "mẫu đơn": KIND_RT_PCR, "đơn": KIND_RT_PCR, "rt_pcr": KIND_RT_PCR,
    "test nhanh": KIND_RAPID_ANTIGEN, "test nhanh kháng nguyên": KIND_RAPID_ANTIGEN,
    "kháng nguyên": KIND_RAPID_ANTIGEN, "xét nghiệm nhanh": KIND_RAPID_ANTIGEN,
    "rapid antigen": KIND_RAPID_ANTIGEN, "rapid_antigen": KIND_RAPID_ANTIGEN,
    "tnkn": KIND_RAPID_ANTIGEN, "antigen": KIND_RAPID_ANTIGEN,
    "gộp": KIND_POOLED, "mẫu gộp": KIND_POOLED, "gộp mẫu": KIND_POOLED, "pooled": KIND_POOLED,
    "pool": KIND_POOLED, "gộp 5": KIND_POOLED, "gộp 10": KIND_POOLED,
}
RESULT_SPELLINGS = {
    "dương tính": RESULT_POSITIVE, "dương": RESULT_POSITIVE, "dt": RESULT_POSITIVE,
    "+": RESULT_POSITIVE, "positive": RESULT_POSITIVE, "pos": RESULT_POSITIVE,
    "âm tính": RESULT_NEGATIVE, "âm": RESULT_NEGATIVE, "at": RESULT_NEGATIVE,
    "-": RESULT_NEGATIVE, "negative": RESULT_NEGATIVE, "neg": RESULT_NEGATIVE,
    "không xác định": RESULT_INDETERMINATE, "kxđ": RESULT_INDETERMINATE,
    "nghi ngờ": RESULT_INDETERMINATE, "indeterminate": RESULT_INDETERMINATE,
    "?": RESULT_INDETERMINATE,
}
