"""The join page of a video appointment: its state and the button that mints the citizen's
Jitsi token (``views``)."""
