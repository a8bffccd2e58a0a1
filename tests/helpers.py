"""Helpers shared by test modules: reading pages and CSV files as a person would, and
servers of their own on loopback.

The suite runs in several processes at once (pytest-xdist, ``make test``): a test binds
port 0 or asks ``free_port()``, never a fixed port, and keeps its files in ``tmp_path``.
"""

import csv
import html
import io
import re
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urlencode

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from signatories.abuse import form_stamp


class Page(HTMLParser):
    """A page as a person reads it, from one pass over its HTML.

    ``text``: the words assistive technology reads (not script or style, nor what is
    ``aria-hidden``, such as flags); ``shown``: every word drawn on screen (``aria-hidden``
    included). ``tables``: each table's class, caption, rows (cell text as ``text``, a
    group's heading row such as "Organisations" left out) and which of them are body rows.
    ``links``: (words, href). ``by_id``: every element with an id, as (tag, attributes).
    ``options``: each <select>'s options by its id, as (value, label, selected).
    ``summary_hrefs``: the links of a form's error summary.
    """

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.shown: list[str] = []
        self.tables: list[dict] = []
        self.links: list[tuple[str, str]] = []
        self.by_id: dict[str, tuple[str, dict]] = {}
        self.options: dict[str, list[tuple[str, str, bool]]] = {}
        self.summary_hrefs: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, hidden)
        self._tables: list[dict] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._link: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._option: list | None = None
        self._summary = 0  # depth inside the error summary's <div>s

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.by_id[attrs["id"]] = (tag, attrs)
        if tag in self.VOID:
            return
        hidden = attrs.get("aria-hidden") == "true" or bool(self._open and self._open[-1][1])
        self._open.append((tag, hidden))
        if tag == "div" and (self._summary or "error-summary" in (attrs.get("class") or "")):
            self._summary += 1
        if tag == "table":
            table = {"class": attrs.get("class", ""), "caption": "", "rows": [], "body": []}
            self._tables.append(table)
            self.tables.append(table)
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._tables and attrs.get("class") != "group":
            self._row = []  # a group's heading row ("Organisations") is no data row
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self._link = (attrs.get("href") or "", [])
            if self._summary:
                self.summary_hrefs.append(attrs["href"])
        elif tag == "select":
            self._select = attrs.get("id", "")
            self.options[self._select] = []
        elif tag == "option":
            self._option = [attrs.get("value", ""), "", "selected" in attrs]

    def handle_endtag(self, tag):
        if tag not in (name for name, _hidden in self._open):
            return
        while self._open.pop()[0] != tag:
            pass
        if tag == "div" and self._summary:
            self._summary -= 1
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._tables[-1]["rows"].append(self._row)
            if "tbody" in (name for name, _hidden in self._open):
                self._tables[-1]["body"].append(self._row)
            self._row = None
        elif tag == "caption" and self._caption is not None:
            self._tables[-1]["caption"] = _squash("".join(self._caption))
            self._caption = None
        elif tag == "table" and self._tables:
            self._tables.pop()
        elif tag == "a" and self._link is not None:
            href, words = self._link
            self.links.append((_squash("".join(words)), href))
            self._link = None
        elif tag == "option" and self._option is not None:
            self.options[self._select].append(tuple(self._option))
            self._option = None

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._open and self._open[-1][0] in ("script", "style"):
            return
        self.shown.append(data)
        if self._open and self._open[-1][1]:
            return
        self.text.append(data)
        for part in (self._cell, self._caption, self._link[1] if self._link else None):
            if part is not None:
                part.append(data)


def _squash(text: str) -> str:
    return " ".join(text.split())


def parse(page) -> Page:
    """``page``: a response, or its HTML as text or bytes."""
    if hasattr(page, "content"):
        page = page.content
    reader = Page()
    reader.feed(page.decode() if isinstance(page, bytes) else page)
    reader.close()
    return reader


def text_of(page) -> str:
    """The page's readable text (as assistive technology reads it), whitespace squashed."""
    return _squash(" ".join(parse(page).text))


def visible_text(page) -> str:
    """Every word the page draws on screen, ``aria-hidden`` included: no tags, entities
    decoded, whitespace squashed."""
    return _squash(" ".join(parse(page).shown))


def table(page, *, css_class: str = "", caption: str = "") -> list[list[str]]:
    """Body rows (header row left out) of the one table with that class or caption."""
    found = [
        t
        for t in parse(page).tables
        if (not css_class or css_class in t["class"].split())
        and (not caption or t["caption"] == caption)
    ]
    assert len(found) == 1, f"expected one table, found {len(found)}"
    return found[0]["rows"][1:]


def table_rows(response, css_class: str = "signatories") -> list[list[str]]:
    """The body rows of every table with that class, as lists of cell text as a reader
    hears it: whitespace collapsed, decorative (aria-hidden) flags left out."""
    return [
        row for t in parse(response).tables if css_class in t["class"].split() for row in t["body"]
    ]


def link_href(page, words: str) -> str:
    """The one place a link with these words goes (a page may show it more than once,
    e.g. "Next" above and below a list, but always to the same place)."""
    hrefs = {href for text, href in parse(page).links if text == words}
    assert len(hrefs) == 1, f"expected one link {words!r}, found {hrefs}"
    return hrefs.pop()


def elements_by_id(response) -> dict[str, tuple[str, dict]]:
    """Every element with an id: its tag and attributes."""
    return parse(response).by_id


def sign_data(**changes) -> dict:
    """The sign form as a person fills it in (an individual, by full name, with consent),
    sent a minute after it was shown. A field changed to None is left out."""
    data = {
        "kind": "individual",
        "name": "Ada Lovelace",
        "email": "ada@example.net",
        "category": "survivor",
        "country": "GB",
        "display": "full",
        "role": "",
        "affiliation": "",
        "website": "",
        "statement": "",
        "consent": "on",
        "homepage": "",
        "stamp": form_stamp(now=time.time() - 60),
    }
    return {key: value for key, value in (data | changes).items() if value is not None}


def sign(client, letter, *, ip: str = "203.0.113.7", extra: dict | None = None, **changes):
    """The public sign form posted from ``ip``, with ``changes`` to ``sign_data()``;
    ``extra`` adds request headers as WSGI environ keys (``HTTP_X_REAL_IP``)."""
    return client.post(
        reverse("signatories:sign", args=[letter.slug]),
        sign_data(**changes),
        REMOTE_ADDR=ip,
        **(extra or {}),
    )


def csv_url(letter, **params) -> str:
    """The letter's public CSV download, with a query string when ``params`` are given."""
    url = reverse("signatories:letter_csv", args=[letter.slug])
    return f"{url}?{urlencode(params)}" if params else url


def csv_body(response) -> str:
    """A CSV download as the bytes streamed decode (UTF-8, byte order mark included)."""
    assert response.status_code == 200, response.status_code
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_table(response) -> list[list[str]]:
    """Header and rows, parsed by the csv module as a spreadsheet would read them."""
    return list(csv.reader(io.StringIO(csv_body(response).removeprefix("\ufeff"), newline="")))


def csv_rows(response) -> list[dict[str, str]]:
    """The rows by column name; every row has exactly the header's columns."""
    header, *rows = csv_table(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def csv_names(client, letter) -> list[str]:
    """The name column of the letter's public CSV download."""
    return [row["name"] for row in csv_rows(client.get(csv_url(letter)))]


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
    for prefix in ("translations", "addressees", "sources", "signatures"):
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


@contextmanager
def migrated_back_to(targets: list[tuple[str, str]]):
    """The test database migrated back to ``targets``: yields that state's apps (to write
    rows as they were then) and ``forward()``, which migrates to the latest again; the
    latest is restored afterwards whatever happened. Needs a transactional test."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)

    def forward():
        MigrationExecutor(connection).migrate(leaves)

    try:
        yield executor.loader.project_state(targets).apps, forward
    finally:
        forward()
