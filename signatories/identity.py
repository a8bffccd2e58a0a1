"""When two records are the same signatory: the key their names share however they
were typed, and the web domain an organisation owns.

“Barnardo’s” (a typographic apostrophe, as Word and phones type it), “Barnardo's” and
“BARNARDO'S” are one organisation; so are “The Children's Society” and “Children's
Society”. ``name_key`` folds those differences away and nothing else: it is stored on
each signatory (``Signatory.name_key``, indexed) so an import finds matches with one
indexed lookup however large the file.
"""

import unicodedata

from signatories.emails import FREE_MAIL, registrable_domain, website_host

# Characters Word, phones and typesetters put where a keyboard types ' " or -.
TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    }
)

# Sites where many organisations each have a page, under one registered domain: a
# shared domain there says nothing about who they are.
SHARED_HOSTS = frozenset(
    {
        "facebook.com",
        "fb.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "linkedin.com",
        "youtube.com",
        "tiktok.com",
        "google.com",
        "linktr.ee",
        "medium.com",
        "substack.com",
        "wordpress.com",
        "blogspot.com",
        "wixsite.com",
        "squarespace.com",
        "github.com",
        "gofundme.com",
        "justgiving.com",
        "eventbrite.com",
        "wikipedia.org",
    }
)


def name_key(name: str, *, organisation: bool) -> str:
    """The form of a name that spellings of one signatory share: Unicode NFKC, case
    folded, typographic quotes, apostrophes and dashes as plain ones, spaces collapsed,
    and for an organisation without a leading “The”. Accents are kept: “Zoë” and “Zoe”
    may be two people."""
    key = unicodedata.normalize("NFKC", name).casefold().translate(TYPOGRAPHIC)
    key = " ".join(key.split())
    if organisation and key.startswith("the ") and len(key) > 4:
        key = key[4:]
    return key[:200]


def website_domain(website: str) -> str:
    """The registered domain an organisation's website is on (``nspcc.org.uk`` for
    ``https://www.nspcc.org.uk/about``), or "" where it says nothing about who owns it:
    no website, a public suffix, free mail or a site where anyone has a page."""
    if not website:
        return ""
    domain = registrable_domain(website_host(website)) or ""
    return "" if domain in SHARED_HOSTS or domain in FREE_MAIL else domain
