"""What supervisors and staff do with flags and people, as plain functions for the admin's
views and the CLI alike: arguments in, frozen dataclasses out, time and the actor passed in.

    flag_queue, flag_detail   the flag queue and one flag's page
    flag_actions              assign, act (with their effects on the engine)
    people, person_detail     search and one person's page
    person_actions            correct a phone, close / reopen monitoring, call now
    labels                    Vietnamese labels of kinds, actions, statuses, reasons
    errors                    domain errors, each with a Vietnamese message
"""
