"""Health records beside the calls: samples and lab results (and, from other areas, check-ins
and vaccinations)."""
