"""Booking: the pure slot engine (``slots``, with the one wall-clock conversion in
``wallclock``), what the database says is free (``availability``, ``slot_cache``, public
``holidays``, the bookable services in ``catalogue``), the use cases that hold, confirm,
cancel, reschedule and mark appointments (``operations``) with their machinery (which clerk
gets an appointment in ``placement``, per-address ``limits``, ``locks``), what may be done
with an appointment now (``rules``), the citizens' secret links (``links``), calendar files
(``calendar``) and the no-show policy (``no_shows``). Web pages, the API and the jobs all
call these; it imports ``core`` and ``models``, never ``web`` or ``api`` (and ``placement``
asks ``video.dial_in`` for the uid of a new video appointment, whose dial-in PIN must be free)."""
