"""The delivered list at scale (issue 12, point 5): freeze, download, check and verify a
letter of N signatures, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
      DJANGO_SECRET_KEY=bench .venv/bin/python bench/delivered.py [--signatures 1000000]

Creates once an open letter ``bench-delivered-N`` with N synthetic signatures
(``generate_signatures``), reused on later runs, last changed a day before; freezes its
list afresh each run (the previous frozen list deleted first, in SQL), and prints: the
freeze's time and the process's peak memory growth; the public file's download (Django's
test client, streamed) and its size; the page's script run on the file;
``verify_delivered``; one withdrawal with its redaction; and a tally refresh with its
safety-net look for rows to redact. Figures, not a test: nothing is asserted.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.environment import setup_django  # noqa: E402

setup_django("bench/delivered.py")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from letters.models import Letter  # noqa: E402
from signatories.delivered import (  # noqa: E402
    CHECK_SCRIPT,
    freeze_delivered_list,
    redact_stale_rows,
)
from signatories.models import DeliveredList, Signature  # noqa: E402
from signatories.signing import withdraw_signature  # noqa: E402
from signatories.synthetic import generate_signatures  # noqa: E402
from signatories.tallies import refresh_tally  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def letter_of(count: int) -> Letter:
    letter, _ = Letter.objects.get_or_create(
        slug=f"bench-delivered-{count}",
        defaults={"title": f"Bench delivered list {count:,}", "summary": "Bench."},
    )
    Letter.objects.filter(pk=letter.pk).update(status=Letter.Status.OPEN)
    have = Signature.objects.filter(letter=letter).count()
    if have < count:
        timed(
            f"generate {count - have:,} signatures",
            generate_signatures,
            letter=letter,
            count=count - have,
        )
    # A letter is delivered after it was signed: its signatures last changed a day before
    # (fresh ones would all fall in the redaction check's look-back, CHANGES_SLACK).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signatories_signature SET updated_at = now() - interval '1 day' "
            "WHERE letter_id = %s AND updated_at > now() - interval '1 day'",
            [letter.pk],
        )
        cursor.execute(
            "UPDATE signatories_signatory SET updated_at = now() - interval '1 day' "
            "WHERE updated_at > now() - interval '1 day' AND id IN "
            "(SELECT signatory_id FROM signatories_signature WHERE letter_id = %s)",
            [letter.pk],
        )
    return letter


def unfreeze(letter: Letter) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM signatories_deliveredrow WHERE delivered_list_id IN "
            "(SELECT id FROM signatories_deliveredlist WHERE letter_id = %s)",
            [letter.pk],
        )
        cursor.execute("DELETE FROM signatories_deliveredlist WHERE letter_id = %s", [letter.pk])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=1_000_000)
    count = parser.parse_args().signatures
    call_command("migrate", verbosity=0)
    letter = letter_of(count)
    Signature.objects.filter(letter=letter).update(status=Signature.Status.PUBLISHED)
    unfreeze(letter)

    before = peak_mb()
    delivered = timed(f"freeze {count:,} rows", freeze_delivered_list, letter=letter)
    print(f"{'  peak memory growth':<44} {peak_mb() - before:8.0f} MB")

    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "delivered.txt"

        def download():
            response = client.get(reverse("signatories:delivered_file", args=[letter.slug]))
            with path.open("wb") as file:
                for chunk in response.streaming_content:
                    file.write(chunk)

        before = peak_mb()
        timed("download the file (test client, streamed)", download)
        print(f"{'  size':<44} {path.stat().st_size / 1e6:8.0f} MB")
        print(f"{'  peak memory growth':<44} {peak_mb() - before:8.0f} MB")
        (Path(directory) / "check.py").write_text(CHECK_SCRIPT)
        printed = timed(
            "the page's script on it (python3)",
            subprocess.run,
            [sys.executable, "check.py", "delivered.txt"],
            cwd=directory,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"{'  prints the published root':<44} {printed == delivered.root!s:>8}")

    timed("verify_delivered", call_command, "verify_delivered", letter.slug, stdout=StringIO())
    signature = Signature.objects.filter(letter=letter).order_by("pk").first()
    timed(
        "withdraw one signature (and redact its row)", withdraw_signature, signature_id=signature.pk
    )
    timed("tally refresh (with its look for rows to redact)", refresh_tally, letter.pk)
    timed("  of which the look for rows to redact", redact_stale_rows, letter_ids=[letter.pk])
    print(f"{'  redacted':<44} {DeliveredList.objects.get(letter=letter).redacted:8}")
    Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.PUBLISHED)


if __name__ == "__main__":
    main()
