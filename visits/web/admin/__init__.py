"""The administrators' pages: services, staff, API keys, failed mails, booking pauses,
audit log, reports (``views``, ``forms``)."""
