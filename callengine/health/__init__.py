"""Health records kept beside the calls: venues and check-ins, samples and results,
vaccinations and the exposure of contacts."""
