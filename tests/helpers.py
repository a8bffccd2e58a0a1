"""Helpers shared by test modules: reading pages and CSV files as a person would."""

import html
import re
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
