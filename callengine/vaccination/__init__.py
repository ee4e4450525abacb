"""Vaccinations: recording doses (one rule set for the form, the API and the workbook import),
coverage by commune and age band, and the certificate of a person's latest dose.

    rules.py        a dose's validation: a known product, dose order, the minimum interval,
                    no date in the future (pure; Vietnamese messages naming the field)
    doses.py        writing and reading doses in the database
    coverage.py     coverage_by_commune(db, day) and its export
    certificate.py  a person's EU DCC certificate
"""
