"""Email addresses as the sign form compares them: one signature per person per letter.

``normalise_email`` folds the ways one mailbox can be written: case and surrounding spaces
everywhere; and, for providers known to deliver them to the same mailbox, dots in the local
part (Gmail) and ``+tags`` (Gmail, Outlook, iCloud, Fastmail, Proton and others). Other
domains keep their local part as written apart from case: a dot or a plus may matter there.
"""

import functools
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

# Domain → canonical domain, for providers whose addresses have more than one spelling.
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}

# Providers that ignore dots in the local part.
DOTS_IGNORED = frozenset({"gmail.com"})

# Providers that deliver ``name+anything@`` to ``name@``.
PLUS_TAGS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "yandex.com",
        "yandex.ru",
    }
)

# Mail anyone can open an account with: an address there says nothing about an
# organisation, whatever website the signer names.
FREE_MAIL = PLUS_TAGS | frozenset(
    {
        "yahoo.com",
        "yahoo.co.uk",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "zoho.com",
        "tutanota.com",
        "qq.com",
        "163.com",
        "googlemail.com",
    }
)


def split_email(email: str) -> tuple[str, str]:
    """``(local part, domain)`` in lower case; the domain's trailing dot dropped."""
    local, _, domain = email.strip().lower().rpartition("@")
    return local, domain.rstrip(".")


def normalise_email(email: str) -> str:
    """The form of an address that two spellings of one mailbox share."""
    local, domain = split_email(email)
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def website_host(url: str) -> str:
    """The host of a website address, lower case and without a leading ``www.``."""
    if "://" not in url:
        url = f"http://{url}"
    host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: no network


def registrable_domain(host: str) -> str | None:
    """The part of a host name someone registered: ``nspcc.org.uk`` for
    ``mail.nspcc.org.uk``, ``cam.ac.uk`` for ``physics.cam.ac.uk``; None for a public
    suffix itself (``ac.uk``, ``github.io``), which nobody owns."""
    return _public_suffixes().privatesuffix(host) if host else None


def on_same_domain(email: str, website: str) -> bool:
    """Whether the address and the website belong to the same registered domain:
    ``jo@nspcc.org.uk`` for ``https://www.nspcc.org.uk/``. Never for free mail, whatever
    the website says, nor for a website on a public suffix such as ``ac.uk``."""
    _, domain = split_email(email)
    host = website_host(website)
    if domain in FREE_MAIL or host in FREE_MAIL:
        return False
    owner = registrable_domain(domain)
    return owner is not None and owner == registrable_domain(host)


def domain_and_parents(domain: str) -> list[str]:
    """``a.b.example.org`` → ``[a.b.example.org, b.example.org, example.org]``: the names a
    block on any of which covers the address."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)] or [domain]
