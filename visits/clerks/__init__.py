"""The clerks' side of the work: staff accounts and passwords (``accounts``), weekly hours,
absences, busy times from uploaded calendars and the appointments they strand
(``staffing``). It builds on ``booking`` and ``core``."""
