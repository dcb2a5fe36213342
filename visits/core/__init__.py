"""The basics every area uses: the clock (the one place that asks what time it is), the
kinds of events a change announces, the audit trail, the refusal every use case raises, and
the choice of language. It imports nothing of the other areas."""
