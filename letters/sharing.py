"""What a letter looks like when it is shared: its absolute address, the figure it leads
with, the links that share it, and the image social networks show beside it.

The image (``share_image_png``) is drawn from the letter's title, its counts and the site's
name, nothing else: no signatory's name can reach it. It is cached in the default cache
under a key made of everything drawn on it, so a new count, title or reported figure
draws a new one and an unchanged letter costs no drawing at all. Its words are in the
active language (the address's: ``/fr/letters/<slug>/share.png``), and the key holds them
too, so each language has its own image.
"""

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.cache import cache as default_cache
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext, pgettext
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from letters.models import Letter

SITE_NAME = "Undersigned"
WIDTH, HEIGHT = 1200, 630
CACHE_SECONDS = 7 * 24 * 60 * 60  # the key changes with the figures; this only evicts
FONTS = Path(__file__).resolve().parent / "fonts"
# The site's colours (static/css/site.css): --accent, and paper and ink for the text.
BACKGROUND = "#1f4e79"
TEXT = "#ffffff"
SOFT_TEXT = "#dce7f2"
MARGIN = 72
TITLE_LINES = 3


def absolute_url(path: str) -> str:
    """``path`` on the public site (``SITE_URL``), never on whatever Host a request named."""
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class Headline:
    """The figure a letter leads with, and the line under it: the organisers' reported
    figure while it is larger than the recorded count, labelled as reported; the recorded
    count once it has caught up. The two are never added together."""

    figure: str
    note: str

    @classmethod
    def of(cls, letter: Letter, recorded: int) -> "Headline":
        if letter.reported_figure_leads(recorded):
            reported = letter.reported_signatories
            values = {"count": number_format(reported, force_grouping=True)}
            if letter.reported_signatories_is_minimum:
                figure = ngettext(
                    "More than %(count)s signatory", "More than %(count)s signatories", reported
                )
            else:
                figure = ngettext("%(count)s signatory", "%(count)s signatories", reported)
            note = gettext("reported by the organisers · %(count)s listed here") % {
                "count": number_format(recorded, force_grouping=True)
            }
            return cls(figure=figure % values, note=note)
        figure = ngettext("%(count)s signatory", "%(count)s signatories", recorded) % {
            "count": number_format(recorded, force_grouping=True)
        }
        return cls(figure=figure, note="")

    @property
    def text(self) -> str:
        if not self.note:
            return self.figure
        # Translators: the figure a letter leads with, then where it comes from, e.g.
        # "More than 100 signatories, reported by the organisers · 9 listed here".
        return gettext("%(figure)s, %(note)s") % {"figure": self.figure, "note": self.note}


@dataclass(frozen=True)
class ShareLink:
    network: str  # the visible name
    action: str  # "Share on" / "Share by": with the name, the link's accessible name
    url: str
    label: str = ""  # the whole accessible name, one phrase: "Share on X"


def _query(**params: str) -> str:
    # %20 for spaces, never "+": mailto: and some share pages read "+" literally.
    return urlencode(params, quote_via=quote)


def share_links(letter: Letter) -> list[ShareLink]:
    """Plain links to each network's own share page: no script of theirs on ours.

    Mastodon has no central share page, because each person is on their own server. The
    link goes to Share₂Fedi (s2f.kytta.dev, formerly toot.kytta.dev): free software that
    asks which server you are on, remembers it only in your browser, and hands the text
    to that server; it has no tracking or advertising. mastodonshare.com does the same
    but is closed source."""
    url = absolute_url(letter.get_absolute_url())
    title, summary = str(letter.text.title), str(letter.text.summary)
    text = f"{title}: {summary}" if summary else title
    body = text + "\n\n" + gettext("Read and sign: %(url)s") % {"url": url}
    share_on = pgettext("share link, before a network's name", "Share on")

    def on(network: str, share_url: str) -> ShareLink:
        label = pgettext("share link", "Share on %(network)s") % {"network": network}
        return ShareLink(network, share_on, share_url, label)

    email = pgettext("share link, by email", "Email")
    return [
        ShareLink(
            email,
            pgettext("share link, before “Email”", "Share by"),
            "mailto:?" + _query(subject=title, body=body),
            pgettext("share link", "Share by email"),
        ),
        on("X", "https://twitter.com/intent/tweet?" + _query(text=title, url=url)),
        on("Bluesky", "https://bsky.app/intent/compose?" + _query(text=f"{title} {url}")),
        on("Mastodon", "https://s2f.kytta.dev/?" + _query(text=f"{title} {url}")),
        on("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + _query(url=url)),
        on("WhatsApp", "https://wa.me/?" + _query(text=f"{title} {url}")),
    ]


def share_image_png(letter: Letter, recorded: int) -> bytes:
    """The letter's 1200×630 share image, drawn once per title and figures."""
    headline = Headline.of(letter, recorded)
    drawn = (
        str(letter.text.title),
        headline.figure,
        headline.note,
        SITE_NAME,
        pgettext("share image, above the letter's title", "Open letter"),
    )
    digest = hashlib.sha256("\x1f".join(drawn).encode()).hexdigest()[:32]
    key = f"share-png:{letter.pk}:{digest}"
    png = default_cache.get(key)
    if png is None:
        png = _draw(*drawn)
        default_cache.set(key, png, CACHE_SECONDS)
    return png


@cache
def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Words into at most ``max_lines`` lines of ``width`` pixels; what does not fit ends
    the last line with an ellipsis, after a whole word."""
    lines: list[str] = []
    for word in text.split():
        while font.getlength(word) > width:  # a word longer than a line is cut
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and font.getlength(f"{last}…") > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    return [*lines[: max_lines - 1], f"{last.rstrip(' ,;:.-–—')}…"]


def _draw(title: str, figure: str, note: str, site_name: str, kicker: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN

    draw.text((MARGIN, MARGIN - 8), site_name, font=_font(34, bold=True), fill=SOFT_TEXT)
    draw.text((MARGIN, MARGIN + 40), kicker, font=_font(28), fill=SOFT_TEXT)

    title_font = _font(58, bold=True)
    lines = _wrap(title, title_font, inner, TITLE_LINES)
    if len(lines) == TITLE_LINES and lines[-1].endswith("…"):
        title_font = _font(50, bold=True)  # a long title: smaller, to show more of it
        lines = _wrap(title, title_font, inner, TITLE_LINES)
    draw.multiline_text(
        (MARGIN, MARGIN + 110), "\n".join(lines), font=title_font, fill=TEXT, spacing=14
    )

    draw.rectangle((MARGIN, HEIGHT - 210, MARGIN + 96, HEIGHT - 204), fill="#f2b705")
    # The figure is never cut: a long one ("More than 1,000,000 signatories") is drawn smaller.
    figure_font = next(
        font
        for font in (_font(size, bold=True) for size in (64, 56, 48, 40, 32))
        if font.getlength(figure) <= inner or font.size == 32
    )
    draw.text((MARGIN, HEIGHT - 180), figure, font=figure_font, fill=TEXT)
    if note:
        draw.text((MARGIN, HEIGHT - 96), note, font=_font(30), fill=SOFT_TEXT)

    # What is drawn, as text in the file too (PNG tEXt chunks): for readers that show an
    # image's description, and for the privacy scan, which reads what the image says.
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Title", title)
    info.add_itxt("Description", "\n".join(filter(None, [figure, note, site_name])))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()
