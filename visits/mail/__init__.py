"""Mail to citizens: composing each kind of message (``compose``), the outbox that sends each
once however many workers run (``outbox``), reminders at the configured offsets
(``reminders``) and the handlers that turn booking events into mails (``notifications``)."""
