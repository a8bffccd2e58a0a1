"""``sitemap.xml``: the pages a search engine should find, on the public site's address.

Listed: the home page, the letter, recipient and country lists, the privacy page, every
published letter, every recipient with a published letter (a recipient of drafts only has
no page), and every country with counted signatures. Never drafts.

No signatory pages. A person's page exists only while they are named in full on some
letter, but a sitemap hands every such name to search engines, whose copies outlive a
withdrawal by weeks; organisations are reached from the letters they signed anyway.

Each section is one count and one page of rows, whatever its size; past the framework's
50,000 addresses a section runs onto further pages (``?p=2``), each listed in the index.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from letters.models import Letter, Recipient
from signatories.models import LetterTally
from signatories.tallies import country_totals


class PublicSiteSitemap(Sitemap):
    """Addresses on ``SITE_URL``, whatever Host the request named."""

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class PagesSitemap(PublicSiteSitemap):
    def items(self):
        return [
            "letters:home",
            "letters:list",
            "letters:recipient_list",
            "signatories:country_list",
            "signatories:privacy",
        ]

    def location(self, item):
        return reverse(item)


class LetterSitemap(PublicSiteSitemap):
    def items(self):
        return Letter.objects.published().select_related("tally").order_by("pk")

    def lastmod(self, letter):
        tally = getattr(letter, "tally", None)  # None: nobody has signed yet
        return max(letter.updated_at, tally.refreshed_at) if tally else letter.updated_at


class RecipientSitemap(PublicSiteSitemap):
    def items(self):
        return Recipient.objects.public().order_by("pk")


class CountrySitemap(PublicSiteSitemap):
    def items(self):
        signatures, _letters = country_totals(
            LetterTally.objects.filter(letter__status__in=Letter.PUBLIC_STATUSES)
        )
        return sorted(code for code, count in signatures.items() if code and count)

    def location(self, code):
        return reverse("signatories:country_detail", args=[code])


SITEMAPS = {
    "pages": PagesSitemap,
    "letters": LetterSitemap,
    "recipients": RecipientSitemap,
    "countries": CountrySitemap,
}


@x_robots_tag
def index(request: HttpRequest) -> HttpResponse:
    """The framework's index, with the sections' addresses on ``SITE_URL`` too."""
    entries = []
    for section, sitemap in SITEMAPS.items():
        url = settings.SITE_URL + reverse("sitemap_section", kwargs={"section": section})
        entries.append(SitemapIndexItem(url, None))
        for page in range(2, sitemap().paginator.num_pages + 1):
            entries.append(SitemapIndexItem(f"{url}?p={page}", None))
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
