"""The clerks' side of the work: staff accounts and passwords (``accounts``), weekly hours
(``hours``), absences and busy times from uploaded calendars (``absences``), the appointments
a change strands and how each is resolved (``conflicts``), the agenda and the preview of
free slots (``agenda``) and the calendar feed (``feed``). Every change is one transaction
and leaves an audit event. It builds on ``booking`` and ``core``, never on ``web``."""
