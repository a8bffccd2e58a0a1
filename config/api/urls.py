from django.urls import path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularJSONAPIView

from config.api import views
from config.api.limits import rate_limited
from config.http import public_page
from config.machine_readable import in_english

app_name = "api"


def public(view):
    """Counted per IP first (every request, cached or not), then cached like a page; in
    English whatever the request's language (``config.machine_readable``): stable codes
    and English labels, errors and links."""
    return in_english(rate_limited(public_page(view)))


urlpatterns = [
    path("", public(views.IndexView.as_view()), name="index"),
    path("letters/", public(views.LetterListView.as_view()), name="letters"),
    path("letters/<slug:slug>/", public(views.LetterDetailView.as_view()), name="letter-detail"),
    path(
        "letters/<slug:slug>/signatures/",
        public(views.LetterSignaturesView.as_view()),
        name="letter-signatures",
    ),
    path("recipients/", public(views.RecipientListView.as_view()), name="recipients"),
    path(
        "recipients/<slug:slug>/",
        public(views.RecipientDetailView.as_view()),
        name="recipient-detail",
    ),
    path("countries/", public(views.CountryListView.as_view()), name="countries"),
    path("schema/", public(SpectacularJSONAPIView.as_view()), name="schema"),
    path("docs/", csp_override(views.DOCS_CSP)(public(views.docs)), name="docs"),
]
