"""Booking: the pure slot engine (``slots``), what the database says is free
(``availability``, ``slot_cache``), the use cases that hold, confirm, cancel, reschedule and
mark appointments (``operations``), the citizens' secret links (``links``), calendar files
(``calendar``) and the no-show policy (``no_shows``). Web pages, the API and the jobs all
call these; it imports ``core`` and ``models``, never ``web`` or ``api``."""
