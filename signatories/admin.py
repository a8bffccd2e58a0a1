from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from signatories.counts import count_signatures
from signatories.editing import (
    delete_signatories,
    delete_signatures,
    save_signatures,
    update_signatory,
)
from signatories.exports import (
    PRIVATE_EXPORT_PERMISSION,
    csv_lines,
    csv_response,
    private_csv,
    record_private_export,
)
from signatories.forms import (
    BlockedEmailDomainForm,
    ImportUploadForm,
    LetterSignatureForm,
    MergeSignatoriesForm,
    RejectForm,
    SignatoryForm,
    SignatureForm,
)
from signatories.importers import (
    FileRejected,
    confirm_import,
    import_signatures,
    preview_import,
    record_options,
    set_aside,
    template_csv,
)
from signatories.importers.background import goes_to_worker, queue_confirmation, queue_preview
from signatories.importers.choices import posted_choices, shown_as, unknown_values
from signatories.importers.stored import (
    PREVIEW_CSV_COLUMNS,
    ROWS_KEPT,
    lengths,
    preview_csv_rows,
    restore,
    shown_rows,
)
from signatories.merging import (
    MERGE_LIMIT,
    MergeError,
    MergeResult,
    check_mergeable,
    duplicate_letters,
    merge_signatories,
)
from signatories.models import (
    BlockedEmailDomain,
    FollowUpDelivery,
    PersonalDataView,
    PrivateExport,
    Signatory,
    SignatoryRedirect,
    Signature,
    SignatureImport,
)
from signatories.personal_data import (
    holds_personal_data,
    is_personal_lookup,
    may_see_personal_data,
    personal_fields_of,
    record_personal_data_view,
)
from signatories.vetting import reject_signatures, set_status, verify_signatures

INLINE_SIGNATURES_SHOWN = 30
LETTER_COLUMN_CHARS = 40


class LetterColumnMixin:
    """A "Letter" list column cut to ``LETTER_COLUMN_CHARS`` characters: the titles run to
    100 and more, and pushed the lists past 1,280 px. The full title is one click away
    and in the letter filter."""

    @admin.display(description="Letter", ordering="letter__title")
    def letter_title(self, obj):
        return Truncator(obj.letter.title).chars(LETTER_COLUMN_CHARS)


class SignatureServicesMixin:
    """Saves and deletes here go through the services (``signatories.editing``), which
    recount the letters, keep the list keys and redact delivered rows: signatures in an
    inline too."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Signature:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # new, changed and deleted rows, none written yet
        if formset.deleted_objects:
            delete_signatures(
                signatures=Signature.objects.filter(pk__in=[s.pk for s in formset.deleted_objects])
            )
        changed = [signature for signature, _ in formset.changed_objects]
        save_signatures(signatures=[*formset.new_objects, *changed], by=request.user)
        formset.save_m2m()


class PersonalDataAdminMixin:
    """Signers' personal data (``signatories.personal_data``) only for staff allowed to see
    it: left out of forms, read-only fields, fieldsets, list columns and filters, search,
    URL filters and the change history for everyone else; and each change page, history
    page or past version shown to someone allowed is recorded."""

    def _hides_personal_data(self, request) -> bool:
        return not may_see_personal_data(request.user)

    def _without_personal(self, names):
        hidden = personal_fields_of(self.model)
        return [name for name in names if not (isinstance(name, str) and name in hidden)]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self._hides_personal_data(request):
            exclude += personal_fields_of(self.model)
        return exclude

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return self._without_personal(fields) if self._hides_personal_data(request) else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._hides_personal_data(request):
            return fieldsets
        kept = []
        for name, options in fieldsets:
            fields = []
            for line in options["fields"]:
                line = self._without_personal(line) if isinstance(line, list | tuple) else line
                if line and not (isinstance(line, str) and line in personal_fields_of(self.model)):
                    fields.append(line)
            if fields:
                kept.append((name, {**options, "fields": fields}))
        return kept

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return self._without_personal(fields) if self._hides_personal_data(request) else fields

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not self._hides_personal_data(request):
            return filters
        return [
            f for f in filters if not (isinstance(f, str) and is_personal_lookup(self.model, f))
        ]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if not self._hides_personal_data(request):
            return fields
        return [field for field in fields if not is_personal_lookup(self.model, field)]

    def lookup_allowed(self, lookup, value, request):
        """``?email=…`` or ``?ip_address__startswith=…`` in the list's address would let
        anyone test an address or spell one out letter by letter: refused (400)."""
        if self._hides_personal_data(request) and is_personal_lookup(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """simple-history's "Changes" column, without personal fields for those who may
        not see them (``diff_against`` leaves them out)."""
        excluded = personal_fields_of(self.model) if self._hides_personal_data(request) else []
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current,
                    excluded_fields=list(excluded),
                    foreign_keys_are_objs=foreign_keys_are_objs,
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        shown = change and obj is not None and not self._hides_personal_data(request)
        if shown and holds_personal_data(obj):
            record_personal_data_view(user=request.user, obj=obj, page=PersonalDataView.Page.CHANGE)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        pk = _number_or_404(unquote(object_id))
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200 and not self._hides_personal_data(request):
            record_personal_data_view(
                user=request.user, obj=self.model(pk=pk), page=PersonalDataView.Page.HISTORY
            )
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        pk = _number_or_404(unquote(object_id))
        _number_or_404(version_id)
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if response.status_code == 200 and not self._hides_personal_data(request):
            record_personal_data_view(
                user=request.user,
                obj=self.model(pk=pk),
                page=PersonalDataView.Page.HISTORY_VERSION,
            )
        return response


def _number_or_404(value: str) -> int:
    """An id from the address; simple-history's views would fail (500) on anything else."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise Http404("No such record.")
    return int(value)


class AnnotatedChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.annotate(**self.model_admin.changelist_annotations())


class ChangelistCountsMixin:
    """Counts shown as list columns are computed for the list only, not for every change
    page, autocomplete or action that goes through ``get_queryset``."""

    def changelist_annotations(self) -> dict:
        return {}

    def get_changelist(self, request, **kwargs):
        return AnnotatedChangeList


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows, so a list of a million signatures never runs a full
    COUNT on every load; the list then says "10,000 or more"."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()

    @property
    def is_capped(self) -> bool:
        return self.count >= self.CAP


IMPORT_TEMPLATE = "admin/letters/letter/import.html"


class LetterImportMixin:
    """Adds "Import signatories" to the letter admin: upload → preview (dry run) → confirm.

    The previewed file is kept on a ``SignatureImport`` row, so confirming imports exactly
    what was shown, on any app server, and a second confirmation is refused. A big file is
    checked and imported by the task worker (``importers.background``): its page shows the
    progress, refreshing itself, then the preview or the result.
    """

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/import/<int:import_id>/preview.csv",
                self.admin_site.admin_view(self.import_preview_csv_view),
                name=f"{opts.app_label}_{opts.model_name}_import_preview",
            ),
            path(
                "<path:object_id>/import/<int:import_id>/",
                self.admin_site.admin_view(self.import_status_view),
                name=f"{opts.app_label}_{opts.model_name}_import_status",
            ),
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{opts.app_label}_{opts.model_name}_import",
            ),
            path(
                "import-template.csv",
                self.admin_site.admin_view(self.import_template_view),
                name=f"{opts.app_label}_{opts.model_name}_import_template",
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request):
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="signatories-template.csv"'
        return response

    def _letter_to_import_into(self, request, object_id):
        letter = self.get_object(request, object_id)
        if letter is None:
            raise Http404("No such letter.")
        if not request.user.has_perm("signatories.import_signatures"):
            raise PermissionDenied
        return letter

    def import_preview_csv_view(self, request, object_id, import_id):
        """Every row of a previewed file with its outcome and reasons, as CSV."""
        letter = self._letter_to_import_into(request, object_id)
        record = get_object_or_404(
            SignatureImport.objects.defer("content", "report", "preview_csv"),
            pk=import_id,
            letter=letter,
            user=request.user,
            status=SignatureImport.Status.PREVIEWED,
        )
        if record.background:  # made by the task worker with the preview
            lines = iter([record.preview_csv])
        else:
            report = import_signatures(
                letter=letter,
                data=bytes(record.content),
                filename=record.file_name,
                dry_run=True,
                **record_options(record),
            )
            lines = csv_lines(PREVIEW_CSV_COLUMNS, preview_csv_rows(report))
        return csv_response(lines, filename=f"preview-{record.pk}-{record.file_name}.csv")

    def _import_context(self, request, letter) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": letter,
            "title": f"Import signatories into “{letter}”",
            "preview_rows_shown": ROWS_KEPT,
        }

    def import_view(self, request, object_id):
        letter = self._letter_to_import_into(request, object_id)
        context = self._import_context(request, letter)
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_import(request, letter, context)
        if request.method == "POST" and "recheck" in request.POST:
            return self._recheck_import(request, letter, context)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            upload_options = {
                "letter": letter,
                "data": upload.read(),
                "filename": upload.name,
                "user": request.user,
                "publish": form.cleaned_data["publish"],
                "date_order": form.cleaned_data["date_order"],
            }
            return self._preview(request, context, upload_options)
        context["form"] = form
        return TemplateResponse(request, IMPORT_TEMPLATE, context)

    def _preview(self, request, context, options: dict):
        """Check a file: in this request, or by the task worker for a big one."""
        if goes_to_worker(options["data"]):
            return redirect(_import_status_url(queue_preview(**options)))
        report, record = preview_import(**options)
        context.update(_report_context(report, record))
        context["form"] = ImportUploadForm()
        return TemplateResponse(request, IMPORT_TEMPLATE, context)

    def _recheck_import(self, request, letter, context):
        """Check a previewed file again with the values and possible duplicates staff
        chose on its preview: a new preview (the old one is set aside, its file dropped)."""
        record = _previewed_import(request, letter, button="recheck")
        mapping, same_as, problems = posted_choices(request.POST, record.mapping)
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)
        try:
            data = set_aside(record=record)
        except FileRejected as rejected:
            self.message_user(request, str(rejected), messages.ERROR)
            return redirect(request.path)
        options = {
            "letter": letter,
            "data": data,
            "filename": record.file_name,
            "user": request.user,
            "publish": record.publish,
            "date_order": record.date_order,
            "mapping": mapping,
            "same_as": same_as,
        }
        return self._preview(request, context, options)

    def _confirm_import(self, request, letter, context):
        record = _previewed_import(request, letter)
        try:
            if record.background:
                return redirect(_import_status_url(queue_confirmation(record=record)))
            report = confirm_import(record=record)
        except FileRejected as rejected:
            self.message_user(request, str(rejected), messages.ERROR)
            return redirect(request.path)
        if report.written:
            self.message_user(
                request, _imported_message(record.file_name, report), messages.SUCCESS
            )
            return redirect(_imported_signatures_url(letter))
        context.update(_report_context(report, record))
        return TemplateResponse(request, IMPORT_TEMPLATE, context)

    def import_status_view(self, request, object_id, import_id):
        """A file in the task worker's hands: its progress, the page refreshing itself,
        then its preview (drawn from the report kept on the record) or what it did."""
        letter = self._letter_to_import_into(request, object_id)
        record = get_object_or_404(
            SignatureImport.objects.defer("content", "report"),
            pk=import_id,
            letter=letter,
            user=request.user,
        )
        context = self._import_context(request, letter)
        context["record"] = record
        if not record.in_progress:
            context["form"] = ImportUploadForm()
            if record.report:
                context.update(_report_context(restore(record.report), record))
        if record.status == SignatureImport.Status.IMPORTED:
            context["imported_message"] = _imported_message(record.file_name, record)
            context["imported_url"] = _imported_signatures_url(letter)
        return TemplateResponse(request, IMPORT_TEMPLATE, context)


def _import_status_url(record: SignatureImport) -> str:
    return reverse("admin:letters_letter_import_status", args=[record.letter_id, record.pk])


def _imported_signatures_url(letter) -> str:
    return (
        reverse("admin:signatories_signature_changelist")
        + f"?letter__id__exact={letter.pk}&source__exact=import"
    )


def _imported_message(file_name: str, outcome) -> str:
    """What an import did; ``outcome``: its report, or its record (the same counts)."""
    return (
        f"Imported {file_name}: "
        + ngettext("%(n)d new signatory, ", "%(n)d new signatories, ", outcome.created)
        % {"n": outcome.created}
        + ngettext(
            "%(n)d existing one signed, ",
            "%(n)d existing ones signed, ",
            outcome.matched,
        )
        % {"n": outcome.matched}
        + f"{outcome.skipped} skipped."
    )


def _previewed_import(request, letter, button: str = "confirm") -> SignatureImport:
    """The import that the confirm (or check again) button names: a number, of this
    person's own upload into this letter; anything else is not found (never a server
    error)."""
    try:
        import_id = int(request.POST[button])
    except ValueError:
        raise Http404("No such import.") from None
    return get_object_or_404(
        SignatureImport.objects.defer("content", "report"),
        pk=import_id,
        letter=letter,
        user=request.user,
    )


def _report_context(report, record: SignatureImport) -> dict:
    """What the import page shows of a report: a live one, or one kept on its record."""
    counted = lengths(report)
    rows = shown_rows(report)
    chosen = {int(line): pk for line, pk in record.same_as.items()}
    return {
        "report": report,
        "record": record,
        "rows": rows,
        "rows_shown_as": [(row, shown_as(row), chosen.get(row.line)) for row in rows],
        "unknown_values": unknown_values(report, record.mapping),
        "choosing": record.status == SignatureImport.Status.PREVIEWED
        and (report.unknown_values or any(row.near_matches for row in rows)),
        "row_count": counted["rows"],
        "error_count": counted["errors"],
    }


class RecentSignaturesFormSet(BaseInlineFormSet):
    """Only the most recent signatures, so a letter with thousands still opens; the
    rest are one link away in the filtered signature list."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            recent = super().get_queryset().select_related("signatory", "letter").order_by("-pk")
            pks = list(recent.values_list("pk", flat=True)[:INLINE_SIGNATURES_SHOWN])
            self._queryset = recent.filter(pk__in=pks)
        return self._queryset


class SignatureInline(admin.TabularInline):
    model = Signature
    form = LetterSignatureForm
    formset = RecentSignaturesFormSet
    extra = 1
    autocomplete_fields = ["signatory"]
    fields = ["signatory", "display", "status", "featured", "signed_on", "statement"]
    show_change_link = True
    verbose_name_plural = (
        f"Signatures (the {INLINE_SIGNATURES_SHOWN} most recent; all are in the signature list)"
    )


class SignatoryLettersInline(admin.TabularInline):
    model = Signature
    form = SignatureForm
    extra = 0
    autocomplete_fields = ["letter"]
    fields = ["letter", "display", "status", "featured", "signed_on", "statement"]
    show_change_link = True
    verbose_name_plural = "Letters signed"


@admin.register(Signatory)
class SignatoryAdmin(
    PersonalDataAdminMixin, SignatureServicesMixin, ChangelistCountsMixin, SimpleHistoryAdmin
):
    form = SignatoryForm
    list_display = ["name", "kind", "category", "country", "published_signatures"]
    list_filter = ["kind", "category", "country"]
    # Name and email have trigram indexes on PostgreSQL (migration 0009), so searching a
    # million signatories stays fast; the autocomplete uses the same search. Email only
    # for staff who may see signers' personal data (PersonalDataAdminMixin).
    search_fields = ["name", "email"]
    ordering = ["name", "pk"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SignatoryLettersInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "category", "country"]}),
        (
            "Public details",
            {"fields": ["role", "affiliation", "website", "description"]},
        ),
        ("Private", {"fields": ["email", "notes", "created_at", "updated_at"]}),
    ]

    actions = ["merge_selected"]

    def changelist_annotations(self):
        return {"_published": count_signatures("signatory", status=Signature.Status.PUBLISHED)}

    @admin.display(description="Published signatures", ordering="_published")
    def published_signatures(self, obj):
        return obj._published

    def view_on_site(self, obj):
        return None

    def save_model(self, request, obj, form, change):
        update_signatory(signatory=obj, by=request.user)

    def delete_model(self, request, obj):
        delete_signatories(signatories=Signatory.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        delete_signatories(signatories=queryset)

    def has_merge_permission(self, request) -> bool:
        """Merging changes one signatory and deletes the others: both permissions.
        (An action's ``permissions`` list allows it with any one of them.)"""
        return self.has_change_permission(request) and self.has_delete_permission(request)

    @admin.action(description="Merge selected signatories…", permissions=["merge"])
    def merge_selected(self, request, queryset):
        """Asks which one to keep on an intermediate page, showing the letters on which
        several signed, then merges (``merging.merge_signatories``)."""
        selected = list(
            queryset.annotate(
                signature_count=count_signatures("signatory"),
                published_count=count_signatures("signatory", status=Signature.Status.PUBLISHED),
            ).order_by("name", "pk")[: MERGE_LIMIT + 1]
        )
        try:
            check_mergeable(selected)
        except MergeError as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return None
        form = MergeSignatoriesForm(
            request.POST if "post" in request.POST else None, signatories=selected
        )
        if form.is_valid():
            keep = form.cleaned_data["keep"]
            try:
                result = merge_signatories(
                    keep=keep,
                    others=[other for other in selected if other.pk != keep.pk],
                    user=request.user,
                )
            except MergeError as refused:
                self.message_user(request, str(refused), messages.ERROR)
                return None
            self._report_merge(request, result)
            return redirect("admin:signatories_signatory_change", keep.pk)
        with_page = set(
            Signatory.objects.with_public_page()
            .filter(pk__in=[s.pk for s in selected])
            .values_list("pk", flat=True)
        )
        return TemplateResponse(
            request,
            "admin/signatories/signatory/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge signatories",
                "opts": self.model._meta,
                "form": form,
                "signatories": [(s, s.pk in with_page) for s in selected],
                "duplicates": duplicate_letters(selected),
                "people_named_differently": not selected[0].is_organisation
                and len({s.name for s in selected}) > 1,
                "chosen": str(form["keep"].value() or ""),
            },
        )

    def _report_merge(self, request, result: MergeResult) -> None:
        merged = len(result.merged)
        self.message_user(
            request,
            ngettext(
                "Merged %(n)d signatory into “%(kept)s”: ",
                "Merged %(n)d signatories into “%(kept)s”: ",
                merged,
            )
            % {"n": merged, "kept": result.kept.name}
            + ngettext("%(n)d signature moved.", "%(n)d signatures moved.", result.moved)
            % {"n": result.moved}
            + (
                ngettext(
                    " %(n)d old public address now leads to its page.",
                    " %(n)d old public addresses now lead to its page.",
                    len(result.redirected_slugs),
                )
                % {"n": len(result.redirected_slugs)}
                if result.redirected_slugs
                else ""
            ),
            messages.SUCCESS,
        )
        if result.dropped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d duplicate signature was deleted, on a letter that another of "
                    "them had signed too: %(list)s.",
                    "%(n)d duplicate signatures were deleted, on letters that another of "
                    "them had signed too: %(list)s.",
                    len(result.dropped),
                )
                % {
                    "n": len(result.dropped),
                    "list": "; ".join(dropped.describe() for dropped in result.dropped),
                },
                messages.WARNING,
            )


@admin.register(Signature)
class SignatureAdmin(LetterColumnMixin, PersonalDataAdminMixin, SimpleHistoryAdmin):
    form = SignatureForm
    # Kind, category, country and featured are filters, not columns: with them the list
    # was 1,600 px wide.
    list_display = [
        "signatory",
        "shown_as",
        "letter_title",
        "status",
        "verification",
        "source",
        "signed_on",
    ]
    list_filter = [
        "status",
        "verification",
        "display",
        "featured",
        "source",
        "signatory__kind",
        "signatory__category",
        "letter",
        # Not empty: the last email to the signer failed (retrying, or given up).
        ("email_failed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["signatory", "letter"]
    # The emails only for staff who may see signers' personal data (PersonalDataAdminMixin).
    search_fields = ["signatory__name", "signatory__email", "email", "statement"]
    autocomplete_fields = ["letter", "signatory"]
    # Verification is recorded by the actions, which also note who and when; what the
    # public form recorded is kept as it was sent.
    readonly_fields = [
        "verification",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "moderation_reason",
        "email",
        "ip_address",
        "consent_text",
        "consented_at",
        "confirmed_at",
        "follow_up",
        "language",
        "email_failed_at",
        "email_error",
        "created_at",
        "updated_at",
    ]
    actions = [
        "verify_staff",
        "verify_organisation",
        "publish",
        "hide",
        "reject",
        "export_private_csv",
    ]
    show_full_result_count = False
    list_per_page = 100
    paginator = CappedCountPaginator
    # Newest first, straight off the primary key index: no sort of a million rows.
    ordering = ["-pk"]

    def save_model(self, request, obj, form, change):
        save_signatures(signatures=[obj], by=request.user)

    def delete_model(self, request, obj):
        delete_signatures(signatures=Signature.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        delete_signatures(signatures=queryset)

    @admin.display(description="Shown as")
    def shown_as(self, obj):
        return obj.public_name or "Anonymous"

    @admin.action(description="Verify: checked by staff", permissions=["change"])
    def verify_staff(self, request, queryset):
        count = verify_signatures(
            signatures=queryset, method=Signature.Verification.STAFF_VETTED, by=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d signature was marked checked by staff.",
                "%(n)d signatures were marked checked by staff.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )

    @admin.action(description="Verify: confirmed by the organisation", permissions=["change"])
    def verify_organisation(self, request, queryset):
        count = verify_signatures(
            signatures=queryset,
            method=Signature.Verification.ORGANISATION_CONFIRMED,
            by=request.user,
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d signature was marked confirmed by the organisation.",
                "%(n)d signatures were marked confirmed by the organisation.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )

    @admin.action(description="Publish selected signatures", permissions=["change"])
    def publish(self, request, queryset):
        count = set_status(signatures=queryset, status=Signature.Status.PUBLISHED, by=request.user)
        self.message_user(
            request,
            ngettext("%(n)d signature was published.", "%(n)d signatures were published.", count)
            % {"n": count},
            messages.SUCCESS,
        )
        unconfirmed = queryset.filter(Signature.unconfirmed()).count()
        if unconfirmed:
            self.message_user(
                request,
                ngettext(
                    "%(n)d signature from the public form was left unpublished: its signer "
                    "has not confirmed it by email yet.",
                    "%(n)d signatures from the public form were left unpublished: their "
                    "signers have not confirmed them by email yet.",
                    unconfirmed,
                )
                % {"n": unconfirmed},
                messages.WARNING,
            )

    @admin.action(description="Hide selected signatures", permissions=["change"])
    def hide(self, request, queryset):
        count = set_status(signatures=queryset, status=Signature.Status.HIDDEN, by=request.user)
        self.message_user(
            request,
            ngettext("%(n)d signature was hidden.", "%(n)d signatures were hidden.", count)
            % {"n": count},
            messages.SUCCESS,
        )

    @admin.action(description="Reject selected signatures (with a reason)…", permissions=["change"])
    def reject(self, request, queryset):
        """Asks for the reason on an intermediate page, then rejects."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = reject_signatures(
                signatures=queryset, reason=form.cleaned_data["reason"], by=request.user
            )
            self.message_user(
                request,
                ngettext("%(n)d signature was rejected.", "%(n)d signatures were rejected.", count)
                % {"n": count},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/signatories/signature/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject signatures",
                "opts": self.model._meta,
                "form": form,
                "signatures": queryset.select_related("signatory", "letter")[:100],
                "count": queryset.count(),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            },
        )

    @admin.action(
        description="Export selected signatures with private fields (CSV)",
        permissions=["export_private"],
    )
    def export_private_csv(self, request, queryset):
        filename = f"signatures-private-{timezone.now():%Y%m%d-%H%M%S}.csv"
        record_private_export(signatures=queryset, user=request.user, filename=filename)
        return csv_response(private_csv(queryset), filename=filename)

    def has_export_private_permission(self, request):
        return request.user.has_perm(PRIVATE_EXPORT_PERMISSION)


def letter_signatures_link(letter) -> str:
    """Admin link to a letter's full signature list, with its count by status."""
    url = reverse("admin:signatories_signature_changelist") + f"?letter__id__exact={letter.pk}"
    counts = dict(
        letter.signatures.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    summary = ", ".join(
        f"{counts.get(status, 0)} {label.lower()}" for status, label in Signature.Status.choices
    )
    import_url = reverse("admin:letters_letter_import", args=[letter.pk])
    return format_html(
        '<a href="{}">All signatures of this letter</a> ({}) · '
        '<a href="{}">Import signatories from a file</a>',
        url,
        summary,
        import_url,
    )


@admin.register(SignatoryRedirect)
class SignatoryRedirectAdmin(admin.ModelAdmin):
    """Old addresses of merged signatories and the page each leads to. Made by merging
    only; staff may delete one (the old address then answers "not found")."""

    list_display = ["old_slug", "signatory", "created_at"]
    list_select_related = ["signatory"]
    search_fields = ["old_slug", "signatory__name"]
    readonly_fields = ["old_slug", "signatory", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BlockedEmailDomain)
class BlockedEmailDomainAdmin(SimpleHistoryAdmin):
    """Domains the public sign form refuses, with their subdomains."""

    form = BlockedEmailDomainForm
    list_display = ["domain", "reason", "created_at"]
    search_fields = ["domain", "reason"]


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """An audit log: staff may read it, nobody may add, edit or delete entries."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PrivateExport)
class PrivateExportAdmin(ReadOnlyLogAdmin):
    """Read-only log of exports with private fields."""

    list_display = ["created_at", "user", "row_count", "letters", "filename"]
    list_select_related = ["user"]
    list_filter = ["user"]


@admin.register(FollowUpDelivery)
class FollowUpDeliveryAdmin(ReadOnlyLogAdmin):
    """Each follower's email about each answer. Not sent: in doubt (the worker or the
    connection died while sending it: it may or may not have arrived, and is never sent
    again on its own) or refused by the mail server; the error says which."""

    list_display = ["event", "signature", "claimed_at", "sent_at", "error"]
    list_select_related = ["event", "signature__signatory", "signature__letter"]
    # Empty: not sent (in doubt or refused).
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "event__addressee__letter"]
    ordering = ["-pk"]
    show_full_result_count = False

    # A refusal's text may quote the follower's address: personal data (personal_data.py).
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and may_see_personal_data(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and may_see_personal_data(request.user)


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(ReadOnlyLogAdmin):
    """Read-only log: each admin page that showed a signer's personal data, to whom."""

    list_display = ["created_at", "user", "page", "record"]
    list_select_related = ["user"]
    list_filter = ["page", "model", "user"]

    @admin.display(description="Record")
    def record(self, obj):
        try:
            url = reverse(f"admin:signatories_{obj.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return f"{obj.model} {obj.object_id}"
        return format_html('<a href="{}">{} {}</a>', url, obj.model, obj.object_id)


@admin.register(SignatureImport)
class SignatureImportAdmin(LetterColumnMixin, ReadOnlyLogAdmin):
    """Read-only log: one entry per import, with its file name and counts, and how far the
    task worker got with a big file."""

    list_display = [
        "created_at",
        "letter_title",
        "file",
        "user",
        "state",
        "rows",
        "created",
        "matched",
        "skipped",
        "errors",
    ]
    list_filter = ["status", "letter"]
    list_select_related = ["letter", "user"]
    # The file and the rows of its preview hold signers' emails and names.
    exclude = ["content", "report"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content", "report")

    @admin.display(description="File", ordering="file_name")
    def file(self, obj):
        return Truncator(obj.file_name).chars(30)

    # One column, not two: the list stays within 1,280 px.
    @admin.display(description="Status", ordering="status")
    def state(self, obj):
        if not obj.progress:
            return obj.get_status_display()
        return format_html(
            "{}<br><small>{}</small>", obj.get_status_display(), Truncator(obj.progress).chars(80)
        )
