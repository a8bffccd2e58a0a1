from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from letters.models import Letter
from signatories.importers import import_signatures, record_import
from signatories.importers.cleaning import parse_mapping
from signatories.models import DateOrder


class Command(BaseCommand):
    help = (
        "Import signatories from a CSV, XLSX, ODS or XLS file as signatures on a letter. All or "
        "nothing: when any row is invalid, every error is listed and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("letter", help="The letter's slug.")
        parser.add_argument("file", help="A CSV, XLSX, ODS or XLS file with a “name” column.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but write nothing."
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the new signatures at once instead of leaving them pending review.",
        )
        order = parser.add_mutually_exclusive_group()
        order.add_argument(
            "--day-first",
            dest="date_order",
            action="store_const",
            const=DateOrder.DAY_FIRST,
            help="Read dates such as 05/06/2023 as 5 June (needed only when no date in the "
            "file has a day over 12).",
        )
        order.add_argument(
            "--month-first",
            dest="date_order",
            action="store_const",
            const=DateOrder.MONTH_FIRST,
            help="Read dates such as 05/06/2023 as 6 May.",
        )
        parser.set_defaults(date_order=DateOrder.AUTO)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN:VALUE=KNOWN",
            dest="mapping",
            help="Read a value the file uses but the site does not know as a known one, e.g. "
            "--map 'category:survivor collective=network' (kind, category, display or "
            "country; the known value as a code or a label, any case). Repeat for each.",
        )

    def handle(self, *args, letter, file, dry_run, publish, date_order, mapping, **options):
        try:
            known = parse_mapping(mapping)
        except ValueError as error:
            raise CommandError(f"--map {error}") from None
        try:
            letter_obj = Letter.objects.get(slug=letter)
        except Letter.DoesNotExist:
            raise CommandError(f"No letter with the slug “{letter}”.") from None
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None

        report = import_signatures(
            letter=letter_obj,
            data=data,
            filename=path.name,
            dry_run=dry_run,
            publish=publish,
            date_order=date_order,
            mapping=known,
        )
        if not dry_run:
            record_import(letter=letter_obj, report=report, file_size=len(data))
        for warning in report.warnings:
            self.stderr.write(f"Warning: {warning}")
        for message in report.file_errors:
            self.stderr.write(f"{path.name}: {message}")
        for error in report.errors:
            self.stderr.write(str(error))
        self._list_unknown_values(report)
        self._list_near_matches(report)

        if report.rows:
            self.stdout.write(
                f"{path.name}: {len(report.rows)} rows read as {report.source_format}. "
                f"Created: {report.created}, matched: {report.matched}, "
                f"skipped: {report.skipped} ({report.already_signed} already signed, "
                f"{report.duplicates} duplicates in the file), errors: {report.error_rows}."
            )
        if not report.ok:
            count = len(report.file_errors) + len(report.errors)
            raise CommandError(
                f"Import into “{letter_obj.slug}” refused ({count} error"
                f"{'' if count == 1 else 's'}, listed above). Nothing was written."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            status = "published" if publish else "pending review"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported into “{letter_obj.slug}”: "
                    f"{report.created + report.matched} new signatures, {status}."
                )
            )

    def _list_unknown_values(self, report) -> None:
        """Each value the site does not know, once, with its rows and the --map to use."""
        for column, counts in report.unknown_values.items():
            for value, rows in counts.items():
                self.stderr.write(
                    f"Unknown {column} “{value}” in {rows} row{'' if rows == 1 else 's'}: "
                    f"map it with --map '{column}:{value}=…'."
                )

    def _list_near_matches(self, report) -> None:
        """New rows whose name is like a recorded signatory's: for staff to check (the
        admin's preview lets them choose "same as …")."""
        for row in report.rows:
            if row.near_matches:
                alike = "; ".join(
                    f"“{match.name}” ({match.country or 'no country'}, id {match.signatory_id})"
                    for match in row.near_matches
                )
                self.stdout.write(
                    f"Line {row.line}: new signatory “{row.parsed['name']}” may be {alike}."
                )
