"""Running the service: logs, request ids, metrics and readiness (``observability``), the
``flask`` commands (``cli``) and the demo data of ``make run`` (``demo``)."""
