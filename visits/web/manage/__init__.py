"""The page a citizen's secret link opens: confirm, cancel, reschedule, download the
invitation (``views``)."""
