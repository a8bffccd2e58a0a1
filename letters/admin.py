from django.contrib import admin, messages
from django.db.models import Count, F
from simple_history.admin import SimpleHistoryAdmin

from letters.models import (
    ANSWER_EVENTS,
    Addressee,
    Letter,
    LetterSource,
    Recipient,
    ResponseEvent,
)
from letters.responses import refresh_response
from signatories.admin import (
    ChangelistCountsMixin,
    LetterColumnMixin,
    LetterImportMixin,
    SignatureInline,
    letter_signatures_link,
)
from signatories.models import Signature, count_signatures
from signatories.tallies import schedule_refresh
from signatories.tasks import announce_response


class AddresseeInline(admin.StackedInline):
    model = Addressee
    extra = 1
    show_change_link = True
    verbose_name_plural = (
        "Addressees (open one to record its response timeline; the status follows the latest event)"
    )
    autocomplete_fields = ["recipient"]
    fields = [
        ("recipient", "position"),
        ("person_name", "person_title"),
        ("response_status", "response_date"),
        "response_summary",
        "response_url",
    ]


RESPONSE_FIELDS = ["response_status", "response_date", "response_summary", "response_url"]


class ResponseEventInline(admin.TabularInline):
    model = ResponseEvent
    extra = 1
    fields = ["date", "kind", "summary", "url"]


class LetterSourceInline(admin.TabularInline):
    model = LetterSource
    extra = 0


@admin.register(Letter)
class LetterAdmin(LetterImportMixin, ChangelistCountsMixin, SimpleHistoryAdmin):
    list_display = [
        "title",
        "status",
        "published_on",
        "published_signatures",
        "pending_signatures",
    ]
    list_filter = ["status", "addressees__recipient"]
    search_fields = ["title", "summary", "organiser"]
    # A stable order (pk breaks ties) for the list and the autocomplete, which pages
    # through it; a GROUP BY for the list's counts would otherwise drop Meta.ordering.
    ordering = [F("published_on").desc(nulls_last=True), "-created_at", "-pk"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["signatures_link", "created_at", "updated_at"]
    inlines = [AddresseeInline, LetterSourceInline, SignatureInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "summary"]}),
        ("Text", {"fields": ["body", "body_is_summary", "language"]}),
        (
            "Dates and organiser",
            {
                "fields": [
                    ("published_on", "published_on_precision"),
                    "delivered_on",
                    "closed_on",
                    "organiser",
                ]
            },
        ),
        (
            "Public signing",
            {"fields": ["accepts_public_signatures", "moderate_public_signatures"]},
        ),
        (
            "Figures reported by the organisers",
            {
                "fields": [
                    ("reported_signatories", "reported_signatories_is_minimum"),
                    "reported_countries",
                    "reported_figures_source",
                ]
            },
        ),
        ("Signatures", {"fields": ["signatures_link"]}),
        ("Private", {"fields": ["staff_notes", "created_at", "updated_at"]}),
    ]

    def changelist_annotations(self):
        return {
            "_published": count_signatures("letter", status=Signature.Status.PUBLISHED),
            "_pending": count_signatures("letter", status=Signature.Status.PENDING),
        }

    @admin.display(description="Published signatures", ordering="_published")
    def published_signatures(self, obj):
        return obj._published

    @admin.display(description="Pending", ordering="_pending")
    def pending_signatures(self, obj):
        return obj._pending

    @admin.display(description="Signatures")
    def signatures_link(self, obj):
        return letter_signatures_link(obj) if obj.pk else "Save the letter first."

    def view_on_site(self, obj):
        return obj.get_absolute_url() if obj.is_public else None

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for addressee in form.instance.addressees.all():
            refresh_response(addressee)
        # Its signatures may have changed in the inline.
        schedule_refresh([form.instance.pk])


@admin.register(Recipient)
class RecipientAdmin(ChangelistCountsMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "country", "letters"]
    list_filter = ["kind"]
    search_fields = ["name"]
    # A stable order (pk breaks ties) for the list and the autocomplete, which pages
    # through it; a GROUP BY for the list's counts would otherwise drop Meta.ordering.
    ordering = ["name", "pk"]
    prepopulated_fields = {"slug": ["name"]}

    def changelist_annotations(self):
        return {"_letters": Count("addressees")}

    @admin.display(description="Letters", ordering="_letters")
    def letters(self, obj):
        return obj._letters


@admin.register(Addressee)
class AddresseeAdmin(LetterColumnMixin, SimpleHistoryAdmin):
    """Responses are recorded here as well as on the letter."""

    list_display = [
        "recipient",
        "letter_title",
        "person_name",
        "response_status",
        "response_date",
    ]
    list_filter = ["response_status", "letter__status", "recipient"]
    list_select_related = ["recipient", "letter"]
    search_fields = ["recipient__name", "letter__title", "person_name"]
    autocomplete_fields = ["letter", "recipient"]
    inlines = [ResponseEventInline]
    actions = ["email_followers"]

    @admin.action(
        description="Email followers about answers not yet sent to them", permissions=["change"]
    )
    def email_followers(self, request, queryset):
        """Sends what an interrupted round (a mail server error) left unsent."""
        events = ResponseEvent.objects.filter(
            addressee__in=queryset, kind__in=ANSWER_EVENTS, followers_notified_at__isnull=True
        )
        queued = sum(announce_response(event) for event in events)
        self.message_user(request, f"Queued the emails for {queued} answer(s).", messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        """With a timeline, the current response is the latest event's, not typed in."""
        if obj is not None and obj.events.exists():
            return [*RESPONSE_FIELDS, *super().get_readonly_fields(request, obj)]
        return super().get_readonly_fields(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        refresh_response(form.instance)
        for formset in formsets:
            for event in getattr(formset, "new_objects", []):
                if not isinstance(event, ResponseEvent) or not event.is_answer:
                    continue
                if announce_response(event):
                    self.message_user(
                        request,
                        f"Signers who asked for news will be emailed about “{event}”.",
                        messages.INFO,
                    )
                else:
                    self.message_user(
                        request,
                        f"The emails about “{event}” could not be queued now. The answer is "
                        "saved; send them later with the action “Email followers about "
                        "answers not yet sent to them”.",
                        messages.WARNING,
                    )
