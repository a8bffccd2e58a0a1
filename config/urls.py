from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.views import healthz, hello

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("signatories.urls")),
    path("", include("letters.urls")),
]

if settings.BENCH_HELLO:
    urlpatterns.insert(0, path("bench/hello", hello, name="bench_hello"))
