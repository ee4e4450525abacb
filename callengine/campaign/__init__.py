"""Campaign control: live overrides of pacing, window and retries that every engine obeys.

The admin's views and API, the CLI and the engines all go through these functions.
"""

from callengine.campaign.service import (
    changed_since,
    current,
    effective_settings,
    pause,
    resume,
    revision,
    update,
)
from callengine.campaign.validate import CampaignConflict, CampaignError
from callengine.campaign.values import LABELS, Campaign, TrunkLimits, format_window, label

__all__ = [
    "Campaign", "CampaignConflict", "CampaignError", "LABELS", "TrunkLimits", "changed_since",
    "current", "effective_settings", "format_window", "label", "pause", "resume", "revision",
    "update",
]
