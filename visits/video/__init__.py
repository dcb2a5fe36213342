"""The video visit: Jitsi rooms and the short-lived tokens that let the citizen and the clerk
in (``jitsi``)."""
