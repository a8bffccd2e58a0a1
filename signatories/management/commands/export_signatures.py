import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from letters.models import Letter
from signatories.exports import PRIVATE_EXPORT_PERMISSION, private_csv, record_private_export
from signatories.models import PrivateExport, Signature, SignatureStatus

STDOUT = "-"
ALL_STATUSES = "all"


class Command(BaseCommand):
    help = (
        "Write a letter's signatures with every private field (the admin's private export: "
        "full names, emails, notes) to a CSV file, as a user with the permission "
        f"“{PRIVATE_EXPORT_PERMISSION}”. Each export is logged under that user in the admin's "
        "“Private exports”."
    )

    def add_arguments(self, parser):
        parser.add_argument("letter", help="The letter's slug.")
        parser.add_argument(
            "file",
            help="The CSV file to write (readable only by you), or - for standard output.",
        )
        parser.add_argument(
            "--user",
            required=True,
            help="Username of the staff member exporting: they need the private export "
            "permission, and the export is logged under their name.",
        )
        parser.add_argument(
            "--status",
            choices=[ALL_STATUSES, *SignatureStatus.values],
            default=ALL_STATUSES,
            help="Only signatures with this status (default: all, as the admin exports them).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Replace the file if it exists already."
        )

    def handle(self, *args, letter, file, user, status, force, **options):
        exporter = self.exporter(user)
        try:
            letter_obj = Letter.objects.get(slug=letter)
        except Letter.DoesNotExist:
            raise CommandError(f"No letter with the slug “{letter}”.") from None
        signatures = Signature.objects.for_letter(letter_obj)
        if status != ALL_STATUSES:
            signatures = signatures.filter(status=status)

        if file == STDOUT:
            record = record_private_export(
                signatures=signatures, user=exporter, filename="(standard output)"
            )
            self.write_stdout(signatures)
            report, where = self.stderr, "standard output"
        else:
            path = Path(file).absolute()
            record = self.write_file(signatures, path, user=exporter, force=force)
            report, where = self.stdout, str(path)
        rows = record.row_count
        report.write(
            f"Exported {rows} signature{'' if rows == 1 else 's'} of “{letter_obj.slug}” with "
            f"private fields to {where}; logged as private export #{record.pk} by "
            f"{exporter.get_username()}.",
            style_func=self.style.SUCCESS,
        )

    def exporter(self, username: str):
        """The user named by ``--user``, if they may make the admin's private export."""
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user “{username}”.") from None
        if not user.is_active:
            raise CommandError(f"The user “{username}” is inactive.")
        # The admin lets only staff in at all; its export action then asks this permission.
        if not user.is_staff or not user.has_perm(PRIVATE_EXPORT_PERMISSION):
            raise CommandError(
                f"The user “{username}” may not export signatures with private fields: that "
                f"takes a staff user with the permission “{PRIVATE_EXPORT_PERMISSION}” (“Can "
                "export signatures with private fields”)."
            )
        return user

    def write_stdout(self, signatures) -> None:
        # Bytes, when the stream has them: UTF-8 whatever the terminal's locale.
        binary = getattr(self.stdout, "buffer", None)
        with transaction.atomic():
            for chunk in private_csv(signatures):
                if binary is None:
                    self.stdout.write(chunk, ending="")
                else:
                    binary.write(chunk.encode("utf-8"))
        if binary is not None:
            binary.flush()

    def write_file(self, signatures, path: Path, *, user, force: bool) -> PrivateExport:
        """Write the CSV beside ``path`` under a temporary name, then move it into place:
        an export cut short leaves no file that looks whole. The file is created readable
        by its owner only (mode 0600): it holds signers' private data."""
        if path.is_dir():
            raise CommandError(f"{path} is a directory.")
        if path.exists() and not force:
            raise CommandError(f"{path} exists already; add --force to replace it.")
        try:
            handle, partial = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".part"
            )
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from None
        try:
            with os.fdopen(handle, "wb") as out:
                record = record_private_export(
                    signatures=signatures, user=user, filename=logged_name(path)
                )
                # In a transaction, PostgreSQL streams the rows through its cursor instead
                # of first copying them all aside for a cursor that outlives the transaction.
                with transaction.atomic():
                    for chunk in private_csv(signatures):
                        out.write(chunk.encode("utf-8"))
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return record


def logged_name(path: Path) -> str:
    """Where the file went, for the log: its absolute path, or as much of its end as fits."""
    limit = PrivateExport._meta.get_field("filename").max_length
    text = str(path)
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
