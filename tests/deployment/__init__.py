"""The app run the way deploy/ runs it: gunicorn behind nginx with TLS, driven by chromium."""
