from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def hello(request: HttpRequest) -> HttpResponse:
    """The cheapest page the stack can serve, through every middleware: the floor that
    bench/load.py measures real pages against. Routed only with ``BENCH_HELLO``."""
    return HttpResponse("hello\n", content_type="text/plain")
