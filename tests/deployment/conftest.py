"""Production as deploy/ describes it, on loopback: gunicorn behind nginx with TLS.

- ``tls``: a certificate authority and a certificate for 127.0.0.1, made here (trustme),
  valid from 2000 to 2100, so the day the suite runs never matters.
- ``production``: ``gunicorn -c gunicorn.conf.py "visits:create_app()"`` (2 workers) with
  the settings of deploy/visits.env.example that apply on one machine, and Debian's nginx
  in front with a configuration built from deploy/nginx/visits.conf and visits-proxy.conf
  by plain text substitution (ports, certificate, paths). A directive of deploy/ that does
  not work fails here; the fix belongs in deploy/, not in the substitutions. Also: a real
  SMTP server on loopback, and a stand-in for the Jitsi server (https on 127.0.0.1 too, on
  another port: another origin, so it sees what a browser would send to Jitsi; here the
  browser sends the join POSTs and follows their redirect itself, which Playwright's routes
  do not see, so Jitsi cannot be caught by a route as in tests/browser). The
  database is a fresh SQLite file built by the migrations, or on PostgreSQL the test
  session's schema, emptied before and after.
- ``new_tab()``: a tab of Debian's chromium that accepts the certificate as a real one
  (``--ignore-certificate-errors-spki-list``), may only talk to 127.0.0.1, and keeps every
  answer it got (``tab.exchanges``).

The clock: the suite's (tests/conftest.py); gunicorn reads the same one through
tests/timeshift/sitecustomize.py, so there is no travelling here.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import pwd
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from visits import create_app
from visits.extensions import db

from ..browser.conftest import LiveServer
from ..browser.support import CHROMIUM, CHROMIUM_ARGS
from ..conftest import _empty_all_tables, _test_config, ready_database
from ..mailserver import SmtpServer, free_port
from ..ops.test_two_instances import Processes

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"  # Debian's (make nginx)
SECRET_KEY = "deployment-test-secret-key-0123456789abcdefghijklmnop"
JITSI_APP_ID = "visits"
JITSI_APP_SECRET = "deployment-test-jitsi-secret-0123456789abcdef"
STARTUP_SECONDS = 60


# -- the certificate ---------------------------------------------------------------------

@dataclass
class Tls:
    ca: object  # trustme.CA
    chain: Path  # the site's certificate chain (fullchain.pem)
    key: Path  # its private key (privkey.pem)
    pin: str  # base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        """Trusts this CA only, and checks the name (127.0.0.1), as any https client does."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture
def tls(tmp_path) -> Tls:
    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", not_before=datetime(2000, 1, 1), not_after=datetime(2100, 1, 1))
    folder = tmp_path / "tls"
    folder.mkdir()
    chain, key = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    certificate = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(server_context)
    return Tls(ca, chain, key, base64.b64encode(hashlib.sha256(spki).digest()).decode(), server_context)


# -- nginx, from deploy/nginx ------------------------------------------------------------

def _substitute(text: str, old: str | re.Pattern, new: str, source: str) -> str:
    """``old`` replaced by ``new``; ``old`` must be there (deploy/ changed: look again)."""
    if isinstance(old, re.Pattern):
        result, count = old.subn(new, text)
    else:
        result, count = text.replace(old, new), text.count(old)
    assert count, f"{source} no longer contains {old!r}: update the substitutions of this test"
    return result


def site_config(*, port: int, upstream_port: int, tls: Tls, folder: Path) -> str:
    """deploy/nginx/visits.conf with loopback ports, the test's certificate and folders."""
    source = DEPLOY / "nginx" / "visits.conf"
    text = source.read_text()
    for old, new in [
        # The port-80 server only redirects to https; IPv6 listens are not needed on loopback.
        (re.compile(r"^server \{\n    listen 80;\n.*?^\}\n", re.S | re.M), ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{upstream_port} "),
        ("/etc/letsencrypt/live/termine.stadt.example/fullchain.pem", str(tls.chain)),
        ("/etc/letsencrypt/live/termine.stadt.example/privkey.pem", str(tls.key)),
        ("/var/log/nginx/visits.access.log", str(folder / "visits.access.log")),
        ("/opt/visits/static/", f"{ROOT / 'static'}/"),
        ("/etc/nginx/snippets/visits-proxy.conf", str(DEPLOY / "nginx" / "visits-proxy.conf")),
    ]:
        text = _substitute(text, old, new, str(source.relative_to(ROOT)))
    directives = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert re.search(r"\blisten (?!127\.0\.0\.1:)", directives) is None, f"a listen beyond loopback:\n{text}"
    return text


def nginx_config(folder: Path, site: Path) -> str:
    """The smallest nginx.conf around the site (Debian's includes the site the same way)."""
    user = ""
    if os.geteuid() == 0:
        # nginx started by root hands its workers to "nobody", who may not read pytest's
        # folders (0700): keep them with the user who runs the test.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx.error.log"} info;
events {{
    worker_connections 256;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder / "nginx.access.log"};
{temp}
    include {site};
}}
"""


# -- a stand-in for the Jitsi server -------------------------------------------------------

class JitsiStub:
    """https on 127.0.0.1 with the same certificate, on a port of its own (so another
    origin than the app, as Jitsi is): keeps the path and the headers of every request."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                body = b"<!doctype html><html lang=en><title>Jitsi stub</title><h1>Jitsi stub</h1></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super().get_request()
                # The handshake happens in the request's thread, not in the accepting one.
                return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

        self._server = Server(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="jitsi-stub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


# -- the deployed app --------------------------------------------------------------------

class Production(LiveServer):
    """nginx's https address as ``url``; ``run``/``mails_to`` as for the live server (the
    outbox is delivered from this process, to the same SMTP server)."""

    def __init__(
        self, app, url: str, smtp: SmtpServer, *, folder: Path, tls: Tls, jitsi: JitsiStub, processes
    ) -> None:
        super().__init__(app, url, smtp, traveller=None)
        self.folder = folder
        self.tls = tls
        self.jitsi = jitsi
        self.processes = processes

    def travel(self, moment):
        raise NotImplementedError("gunicorn keeps the suite's clock: no travelling here")

    def logs(self) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.folder.glob("*.log"))
        )


def wait_for_200(url: str, processes, context: ssl.SSLContext | None = None) -> None:
    """Poll ``url`` until it answers 200 (the processes still running), within a deadline."""
    deadline = time.monotonic() + STARTUP_SECONDS
    last: object = None
    while time.monotonic() < deadline:
        processes.assert_alive()
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                if response.status == 200:
                    return
                last = response.status
        except OSError as exc:  # not listening yet (URLError, HTTPError, ...)
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within {STARTUP_SECONDS} s (last: {last})")


def production_environment(
    *, database_url: str, public_url: str, bind: str, smtp: SmtpServer, jitsi: JitsiStub, folder: Path
) -> dict[str, str]:
    """The environment of visits-web.service: this process's (the suite's clock, PYTHONPATH)
    plus deploy/visits.env.example where it applies on one machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PROMETHEUS"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        PUBLIC_BASE_URL=public_url,  # https: secure cookies (config.py)
        REDIS_URL="",  # one host: rate-limit counters in each worker's memory
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="off",
        SMTP_USER="",
        SMTP_PASSWORD="",
        JITSI_DOMAIN=jitsi.host,
        JITSI_APP_ID=JITSI_APP_ID,
        JITSI_APP_SECRET=JITSI_APP_SECRET,
        TRUSTED_PROXIES="1",
        TRUSTED_PROXY_ADDRESSES="127.0.0.1",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        METRICS_ENABLED="true",
        GUNICORN_BIND=bind,
        WEB_CONCURRENCY="2",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        # As the systemd unit sets it.
        PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"),
        # The checkout's instance folder stays untouched.
        MAIL_DIR=str(folder / "mail"),
        SLOT_CACHE_FILE=str(folder / "slot-cache-generation"),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def production(migrated, tmp_path, tls) -> Iterator[Production]:

    assert os.access(NGINX, os.X_OK), f"{NGINX} is missing: make nginx (Debian's package nginx)"
    folder = tmp_path / "production"
    folder.mkdir()
    fresh = migrated.startswith("sqlite")
    database_url = f"sqlite:///{folder / 'visits.db'}" if fresh else migrated  # PostgreSQL: the session's schema

    with ExitStack() as cleanup:
        smtp = SmtpServer().start()
        cleanup.callback(smtp.stop)
        jitsi = JitsiStub(tls.server_context)
        cleanup.callback(jitsi.stop)

        web_port, https_port = free_port(), free_port()
        public_url = f"https://127.0.0.1:{https_port}"
        # This process's app on the same database: factories, the outbox, checks. It delivers
        # the mails, so it fills their links in from the same public address as the site.
        config = _test_config(database_url, folder / "test-process")
        config.update(smtp.config())
        config.update(
            SECRET_KEY=SECRET_KEY,
            PUBLIC_BASE_URL=public_url,
            JITSI_DOMAIN=jitsi.host,
            JITSI_APP_ID=JITSI_APP_ID,
            JITSI_AUDIENCE=JITSI_APP_ID,
            JITSI_SUBJECT="",  # derived from the domain, as production leaves it
            JITSI_APP_SECRET=JITSI_APP_SECRET,
        )
        app = create_app(config)
        ready_database(app, fresh)

        def empty_and_close():
            with app.app_context():
                if not fresh:
                    _empty_all_tables()
                db.session.remove()
                db.engine.dispose()

        cleanup.callback(empty_and_close)

        processes = Processes(folder)
        cleanup.callback(processes.stop_all)  # also when the test failed
        env = production_environment(
            database_url=database_url,
            public_url=public_url,
            bind=f"127.0.0.1:{web_port}",
            smtp=smtp,
            jitsi=jitsi,
            folder=folder,
        )
        # As visits-web.service starts it (ExecStart), from the checkout.
        gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "visits:create_app()"]
        processes.start("gunicorn", gunicorn, env)

        site = folder / "visits.conf"
        site.write_text(site_config(port=https_port, upstream_port=web_port, tls=tls, folder=folder))
        conf = folder / "nginx.conf"
        conf.write_text(nginx_config(folder, site))
        nginx = [NGINX, "-p", f"{folder}/", "-c", str(conf), "-e", str(folder / "nginx.error.log")]
        checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refuses the configuration:\n{checked.stderr}\n{site.read_text()}"
        processes.start("nginx", nginx, env)

        wait_for_200(f"http://127.0.0.1:{web_port}/healthz", processes)
        wait_for_200(f"{public_url}/readyz", processes, tls.client_context())
        deployed = Production(app, public_url, smtp, folder=folder, tls=tls, jitsi=jitsi, processes=processes)
        yield deployed
        print(deployed.logs())  # pytest shows it when the test failed
        processes.assert_alive()


# -- chromium ----------------------------------------------------------------------------

@dataclass
class Exchange:
    method: str
    url: str
    status: int
    referer: str | None


@pytest.fixture
def new_tab(tls, production) -> Iterator[Callable]:
    """``new_tab()``: a tab with cookies of its own; requests to anything but 127.0.0.1 are
    aborted (and make the test fail). ``tab.exchanges``: every answer, with the Referer the
    browser sent."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # The certificate counts as a real one, as for any site with a valid certificate.
            args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={tls.pin}"],
        )

        def guard(route, request):
            if urlsplit(request.url).hostname == "127.0.0.1":
                route.continue_()  # the browser itself sends it (and follows redirects)
            else:
                blocked.append(request.url)
                route.abort()

        tabs = []

        def open_tab():
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
            context.set_default_timeout(15000)
            tab = context.new_page()
            tab.exchanges = []
            context.route("**/*", guard)
            context.on(
                "request", lambda req: urlsplit(req.url).hostname != "127.0.0.1" and blocked.append(req.url)
            )
            context.on(
                "response",
                lambda r: tab.exchanges.append(
                    Exchange(r.request.method, r.url, r.status, r.request.headers.get("referer"))
                ),
            )
            tabs.append(tab)
            return tab

        try:
            yield open_tab
        finally:
            for n, tab in enumerate(tabs, 1):  # pytest shows it when the test failed
                print(f"== tab {n}, at {tab.url}:", *tab.exchanges, sep="\n  ")
            browser.close()
    assert blocked == [], f"requests that tried to leave 127.0.0.1: {blocked}"
