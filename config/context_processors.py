from django.conf import settings
from django.http import HttpRequest

# Pages a search engine should list, each under one address: its path on the public site,
# without the query string (filters, page numbers, tracking parameters). Not the pages
# that emailed links open, nor the forms: those are nobody's to find by search.
CANONICAL_PAGES = {
    "letters:home",
    "letters:list",
    "letters:detail",
    "letters:recipient_list",
    "letters:recipient_detail",
    "signatories:country_list",
    "signatories:country_detail",
    "signatories:detail",
    "signatories:privacy",
}


def canonical_url(request: HttpRequest) -> dict[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in CANONICAL_PAGES:
        return {}
    return {"canonical_url": f"{settings.SITE_URL}{request.path}"}
