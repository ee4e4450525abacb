"""Health records kept beside the calls: venues and their check-ins (more areas follow)."""
