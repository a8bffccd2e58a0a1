"""The site's addresses with a language prefix for every language but the default one
(``/fr/letters/…``), for tests of what is reversed in a language: the site's own
URLconf when it already has the prefixes, else the same patterns wrapped as it will wrap
them (``i18n_patterns(prefix_default_language=False)``)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import LocalePrefixPattern

from config import urls as site_urls

if any(isinstance(getattr(p, "pattern", None), LocalePrefixPattern) for p in site_urls.urlpatterns):
    urlpatterns = site_urls.urlpatterns
else:
    urlpatterns = i18n_patterns(*site_urls.urlpatterns, prefix_default_language=False)
