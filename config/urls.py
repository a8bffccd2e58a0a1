from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from config import languages, sitemaps
from config.http import public_page
from config.views import favicon_ico, healthz, hello, robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("robots.txt", robots_txt, name="robots"),
    path("favicon.ico", favicon_ico, name="favicon"),
    path("sitemap.xml", public_page(sitemaps.index), name="sitemap"),
    path(
        "sitemap-<str:section>.xml",
        public_page(sitemap),
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap_section",
    ),
    # JSON API (config/api/, README "JSON API").
    path("api/v1/", include("config.api.urls")),
    path("language/<str:code>/", languages.choose, name="choose_language"),
]
# The public pages in each language: /fr/letters/<slug>/ and so on; the unprefixed URLs
# are English and stay as they were (config/languages.py).
urlpatterns += i18n_patterns(
    path("", include("signatories.urls")),
    path("", include("letters.urls")),
    prefix_default_language=False,
)

# JSON 404s on /api/ and .json URLs (an unknown letter's count.json); the site's page elsewhere.
handler404 = "config.api.errors.page_not_found"

if settings.BENCH_HELLO:
    urlpatterns.insert(0, path("bench/hello", hello, name="bench_hello"))
