from dataclasses import dataclass
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, F
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from letters.models import (
    ANSWER_EVENTS,
    Addressee,
    AddresseeTranslation,
    Letter,
    LetterSource,
    LetterTranslation,
    Recipient,
    RecipientTranslation,
    ResponseEvent,
    ResponseEventTranslation,
    content_language_choices,
)
from letters.responses import record_response_event, refresh_response
from letters.signatures import (
    ChangelistCountsMixin,
    FreezesDeliveredListMixin,
    LetterColumnMixin,
    LetterImportMixin,
    Signature,
    SignatureInline,
    SignatureServicesMixin,
    announce_response,
    count_signatures,
    followers_of,
    letter_signatures_link,
)


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


# The admin's POST field with staff's answer to "email the followers?": send or skip.
FOLLOW_UP_DECISION = "follow_up_emails"
SEND, SKIP = "send", "skip"
# News older than this is saved without emailing unless staff choose otherwise.
OLD_EVENT_DAYS = 7


@dataclass
class FollowUpQuestion:
    """What staff are asked before new answers are emailed to the letter's followers."""

    followers: int
    answers: list[ResponseEvent]
    days_old: int

    @property
    def is_old(self) -> bool:
        return self.days_old > OLD_EVENT_DAYS


class ResponseEventFormSet(BaseInlineFormSet):
    """New answers in this save email every follower of the letter: when there is anyone
    to email and staff have not yet said send or skip, the formset holds the save (it is
    not valid, with no error) and keeps the question for the change page to ask."""

    def __init__(self, *args, follow_up_decision: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_up_decision = follow_up_decision
        self.follow_up_question: FollowUpQuestion | None = None

    def new_answers(self) -> list[ResponseEvent]:
        return [
            form.instance
            for form in self.extra_forms
            if form.has_changed()
            and not self._should_delete_form(form)
            and form.cleaned_data.get("kind") in ANSWER_EVENTS
        ]

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        if self.follow_up_decision in (SEND, SKIP):
            return True
        answers = self.new_answers()
        if not answers:
            return True
        # The addressee may not be saved yet (the add page): its letter is enough.
        followers = followers_of(ResponseEvent(addressee=self.instance)).count()
        if not followers:
            return True
        oldest = min(answer.date for answer in answers)
        self.follow_up_question = FollowUpQuestion(
            followers=followers,
            answers=answers,
            days_old=(timezone.localdate() - oldest).days,
        )
        return False


class ResponseEventInline(admin.TabularInline):
    model = ResponseEvent
    formset = ResponseEventFormSet
    extra = 1
    fields = ["date", "kind", "summary", "url"]


class TranslationForm(forms.ModelForm):
    """A translation's language picked from every language Django knows."""

    language = forms.ChoiceField(choices=content_language_choices)


class TranslationInline(admin.StackedInline):
    form = TranslationForm
    extra = 0


class LetterTranslationInline(TranslationInline):
    """The letter in other languages, beside the original (the letter's own fields, in its
    "language"). One letter, one list of signatories and one count in every language."""

    model = LetterTranslation
    fields = [("language", "made_by"), "title", "summary", "body"]
    verbose_name_plural = "Translations (the original is the letter's own text above)"


class RecipientTranslationInline(TranslationInline):
    model = RecipientTranslation
    fields = [("language", "made_by"), "description"]


class AddresseeTranslationInline(TranslationInline):
    model = AddresseeTranslation
    fields = [("language", "made_by"), "response_summary"]
    verbose_name_plural = "Translations of the answer's summary"


@admin.register(ResponseEventTranslation)
class ResponseEventTranslationAdmin(SimpleHistoryAdmin):
    """A step of an answer's timeline, its summary in another language."""

    form = TranslationForm
    list_display = ["event", "language", "made_by"]
    list_filter = ["language"]
    list_select_related = ["event__addressee__recipient"]
    raw_id_fields = ["event"]


class LetterSourceInline(admin.TabularInline):
    model = LetterSource
    extra = 0


@admin.register(Letter)
class LetterAdmin(
    FreezesDeliveredListMixin,
    LetterImportMixin,
    SignatureServicesMixin,
    ChangelistCountsMixin,
    SimpleHistoryAdmin,
):
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
    inlines = [LetterTranslationInline, AddresseeInline, LetterSourceInline, SignatureInline]
    actions = ["freeze_delivered_list"]
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


@admin.register(Recipient)
class RecipientAdmin(ChangelistCountsMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "country", "letters"]
    list_filter = ["kind"]
    search_fields = ["name"]
    # A stable order (pk breaks ties) for the list and the autocomplete, which pages
    # through it; a GROUP BY for the list's counts would otherwise drop Meta.ordering.
    ordering = ["name", "pk"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RecipientTranslationInline]

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
    inlines = [AddresseeTranslationInline, ResponseEventInline]
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
        self.message_user(
            request,
            ngettext(
                "The emails about %(n)d answer were queued.",
                "The emails about %(n)d answers were queued.",
                queued,
            )
            % {"n": queued},
            messages.SUCCESS,
        )

    def get_readonly_fields(self, request, obj=None):
        """With a timeline, the current response is the latest event's, not typed in."""
        if obj is not None and obj.events.exists():
            return [*RESPONSE_FIELDS, *super().get_readonly_fields(request, obj)]
        return super().get_readonly_fields(request, obj)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ResponseEventInline) and request.method == "POST":
            kwargs["follow_up_decision"] = request.POST.get(FOLLOW_UP_DECISION, "")
        return kwargs

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        questions = [
            formset.formset.follow_up_question
            for formset in context.get("inline_admin_formsets", [])
            if getattr(formset.formset, "follow_up_question", None)
        ]
        if questions:
            context["follow_up_question"] = questions[0]
            context["follow_up_decision"] = FOLLOW_UP_DECISION
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_formset(self, request, form, formset, change):
        """New steps of the timeline are recorded by the service, which emails the
        followers about an answer (staff have answered the question by now); edited and
        deleted ones are saved as they are."""
        if formset.model is not ResponseEvent:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for event in formset.deleted_objects:
            event.delete()
        for event, _ in formset.changed_objects:
            event.save()
        decision = request.POST.get(FOLLOW_UP_DECISION, "")
        for new in formset.new_objects:
            event = record_response_event(
                addressee=form.instance,
                kind=new.kind,
                date=new.date,
                summary=new.summary,
                url=new.url,
                email_followers=decision != SKIP,
                on_queued=partial(self._report_follow_ups, request, new, decision),
            )
            if event.is_answer and decision == SKIP:
                self.message_user(
                    request, f"“{event}” was saved without emailing anyone.", messages.INFO
                )
        formset.save_m2m()

    def _report_follow_ups(self, request, event, decision: str, queued: bool) -> None:
        """After the commit: what became of the emails about a new answer."""
        if queued and decision == SEND:
            self.message_user(
                request,
                f"Signers who asked for news will be emailed about “{event}”.",
                messages.INFO,
            )
        elif not queued:
            self.message_user(
                request,
                f"The emails about “{event}” could not be queued now. The answer is "
                "saved; send them later with the action “Email followers about "
                "answers not yet sent to them”.",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        refresh_response(form.instance)  # its events edited or deleted
