"""What administrators do: services, staff, failed mails, the audit log and reports
(``operations``), API keys for service portals (``api_keys``), and the retention job that
anonymises old appointments (``retention``)."""
