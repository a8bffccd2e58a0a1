"""Helpers shared by test modules: reading pages and CSV files as a person would, and
servers of their own on loopback.

The suite runs in several processes at once (pytest-xdist, ``make test``): a test binds
port 0 or asks ``free_port()``, never a fixed port, and keeps its files in ``tmp_path``.
"""

import html
import re
import shutil
import socket
import subprocess
import time
from html.parser import HTMLParser


class _TableRows(HTMLParser):
    """Body rows of the tables with a CSS class, as lists of cell text as a reader sees
    it: whitespace collapsed, decorative (aria-hidden) flags left out."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class = css_class
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._group_row = False
        self._cell: list[str] | None = None
        self._hidden: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.css_class in (attrs.get("class") or "").split():
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            # A group's heading row ("Organisations", "Individuals") is no data row.
            self._group_row = attrs.get("class") == "group"
            if not self._group_row:
                self.rows.append([])
        elif self._in_body and tag in ("td", "th") and not self._group_row:
            self._cell = []
        elif self._cell is not None and tag == "span":
            self._hidden.append(attrs.get("aria-hidden") == "true")

    def handle_endtag(self, tag):
        if tag == "span" and self._hidden:
            self._hidden.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None and not any(self._hidden):
            self._cell.append(data)


def table_rows(response, css_class: str = "signatories") -> list[list[str]]:
    parser = _TableRows(css_class)
    parser.feed(response.content.decode())
    return parser.rows


def letter_admin_form(letter, **changes) -> dict:
    """The letter's admin change form as posted back unchanged, with ``changes`` applied
    and empty inlines."""
    data = {
        "title": letter.title,
        "slug": letter.slug,
        "status": letter.status,
        "summary": letter.summary,
        "body": letter.body,
        "language": letter.language,
        "published_on_precision": letter.published_on_precision,
    }
    for prefix in ("addressees", "sources", "signatures"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data | changes


def next_page_query(response) -> str | None:
    """The query string of the page's "Next" link (rel="next"), or None on the last page."""
    return _link_query(response, "next")


def previous_page_query(response) -> str | None:
    """The query string of the page's "Previous" link (rel="prev"), or None on the first."""
    return _link_query(response, "prev")


def _link_query(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def shown_count(client, letter) -> int:
    """The "Signatories listed here" figure on the letter's page."""
    page = client.get(letter.get_absolute_url()).content.decode()
    match = re.search(r"Signatories listed here</dt><dd>([\d,]+)</dd>", page)
    assert match, "the letter page shows no signatory count"
    return int(match.group(1).replace(",", ""))


def shown_names(client, letter) -> list[str]:
    """The Name column of the letter page's signatory table."""
    return [row[0] for row in table_rows(client.get(letter.get_absolute_url()))]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (the kernel's pick, never a fixed
    one: other test processes run at the same time)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port: stopped and started at will, and
    with statistics (``INFO commandstats``) that no other client adds to."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 -- our own fixed command line
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
