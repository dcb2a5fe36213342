"""The video visit: Jitsi rooms and the short-lived tokens that let the citizen and the clerk
in (``jitsi``), and dial-in by phone: the appointment's conference PIN, its look-ups and the
numbers to call (``dial_in``)."""
