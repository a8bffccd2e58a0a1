"""Letters, the organisations they are addressed to, and how each one answered."""

from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django_countries.fields import CountryField

from config.history import HistoricalRecords
from letters.translations import Translatable, content_language, translated

# Choices live at module level so that each model's Meta.constraints can name them; the
# models expose them as nested attributes (Recipient.Kind, Letter.Status, …).


# The labels are marked for translation (lazy): pages show them in the reader's language.
# Machine-readable outputs (the CSV, the API) read them in English
# (``config.machine_readable``).


class RecipientKind(models.TextChoices):
    COMPANY = "company", pgettext_lazy("kind of recipient", "Company")
    GOVERNMENT = "government", pgettext_lazy("kind of recipient", "Government")
    REGULATOR = "regulator", pgettext_lazy("kind of recipient", "Regulator")
    OTHER = "other", pgettext_lazy("kind of recipient", "Other")


class LetterStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("letter status", "Draft")
    OPEN = "open", pgettext_lazy("letter status", "Open")
    CLOSED = "closed", pgettext_lazy("letter status", "Closed")


class DatePrecision(models.TextChoices):
    DAY = "day", pgettext_lazy("precision of a date", "Day")
    MONTH = "month", pgettext_lazy("precision of a date", "Month only")
    YEAR = "year", pgettext_lazy("precision of a date", "Year only")


class SourceKind(models.TextChoices):
    FULL_TEXT = "full_text", pgettext_lazy("kind of source of a letter", "Full text")
    ORGANISER = "organiser", pgettext_lazy("kind of source of a letter", "Organiser's page")
    COVERAGE = "coverage", pgettext_lazy("kind of source of a letter", "Press coverage")


class ResponseStatus(models.TextChoices):
    AWAITING = "awaiting", pgettext_lazy("recipient's response status", "Awaiting response")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("recipient's response status", "Acknowledged")
    RESPONDED = "responded", pgettext_lazy("recipient's response status", "Responded")
    DECLINED = "declined", pgettext_lazy("recipient's response status", "Declined")
    COMMITTED = "committed", pgettext_lazy("recipient's response status", "Committed to act")


class EventKind(models.TextChoices):
    DELIVERED = "delivered", pgettext_lazy("step of a recipient's answer", "Letter delivered")
    ACKNOWLEDGED = (
        "acknowledged",
        pgettext_lazy("step of a recipient's answer", "Acknowledged receipt"),
    )
    REPLIED = "replied", pgettext_lazy("step of a recipient's answer", "Replied")
    MET = "met", pgettext_lazy("step of a recipient's answer", "Met the signatories")
    COMMITTED = "committed", pgettext_lazy("step of a recipient's answer", "Committed to act")
    DECLINED = "declined", pgettext_lazy("step of a recipient's answer", "Declined")


# Events that are the recipient answering: signers who asked for news hear of them.
ANSWER_EVENTS = (
    EventKind.ACKNOWLEDGED,
    EventKind.REPLIED,
    EventKind.MET,
    EventKind.COMMITTED,
    EventKind.DECLINED,
)

# The addressee's current status after each kind of event.
STATUS_AFTER_EVENT = {
    EventKind.DELIVERED: ResponseStatus.AWAITING,
    EventKind.ACKNOWLEDGED: ResponseStatus.ACKNOWLEDGED,
    EventKind.REPLIED: ResponseStatus.RESPONDED,
    EventKind.MET: ResponseStatus.RESPONDED,
    EventKind.COMMITTED: ResponseStatus.COMMITTED,
    EventKind.DECLINED: ResponseStatus.DECLINED,
}


@dataclass(frozen=True)
class Answer:
    """How a recipient has answered a letter, in words and by meaning: ``tone`` is good
    (committed, met), neutral (acknowledged, replied), bad (declined) or pending (no
    answer). Pages colour by tone and always say it in words too."""

    tone: str
    label: str


ANSWER_TONES = {
    ResponseStatus.AWAITING: "pending",
    ResponseStatus.ACKNOWLEDGED: "neutral",
    ResponseStatus.RESPONDED: "neutral",
    ResponseStatus.DECLINED: "bad",
    ResponseStatus.COMMITTED: "good",
}

ANSWER_LABELS = {
    ResponseStatus.ACKNOWLEDGED: pgettext_lazy("how a recipient answered", "Acknowledged receipt"),
    ResponseStatus.RESPONDED: pgettext_lazy("how a recipient answered", "Replied"),
    ResponseStatus.DECLINED: pgettext_lazy("how a recipient answered", "Declined"),
    ResponseStatus.COMMITTED: pgettext_lazy("how a recipient answered", "Committed to act"),
}


class RecipientQuerySet(models.QuerySet):
    def in_language(self, language: str | None = None):
        """Each recipient's description in ``language`` where translated: ``.text``."""
        return translated(self, language)

    def public(self):
        """Recipients the public may see: addressed by at least one published letter. One
        addressed only by drafts has no page and is no filter choice, so a draft's
        recipients don't leak before it is published."""
        return self.filter(
            Exists(
                Addressee.objects.filter(
                    recipient=OuterRef("pk"), letter__status__in=Letter.PUBLIC_STATUSES
                )
            )
        )


class Recipient(Translatable, models.Model):
    """An organisation that letters are addressed to: Meta, Snap, Signal, Apple…"""

    TRANSLATED_FIELDS = ("description",)

    Kind = RecipientKind

    name = models.CharField(max_length=200, help_text="The organisation's usual name, e.g. “Meta”.")
    slug = models.SlugField(
        max_length=200, unique=True, help_text="Used in the recipient's web address."
    )
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.COMPANY)
    website = models.URLField(blank=True, help_text="The organisation's own website (optional).")
    country = CountryField(
        blank=True,
        help_text="Where the organisation is based; leave empty if international.",
    )
    description = models.TextField(
        blank=True, help_text="A sentence or two shown on the recipient's public page."
    )

    objects = RecipientQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RecipientKind.values),
                name="recipient_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("letters:recipient_detail", args=[self.slug])


class LetterQuerySet(models.QuerySet):
    def published(self):
        """Letters the public may see: open or closed, never drafts."""
        return self.filter(status__in=Letter.PUBLIC_STATUSES)

    def open(self):
        return self.filter(status=Letter.Status.OPEN)

    def in_language(self, language: str | None = None):
        """Each letter's title, summary and text in ``language`` (the active one by
        default) where translated, read in the same query: ``letter.text``."""
        return translated(self, language)


class Letter(Translatable, models.Model):
    """An open letter, its text, and the figures its organisers reported."""

    TRANSLATED_FIELDS = ("title", "summary", "body")
    LISTS_TRANSLATIONS = True

    Status = LetterStatus
    DatePrecision = DatePrecision

    PUBLIC_STATUSES = (Status.OPEN, Status.CLOSED)

    title = models.CharField(
        max_length=250, help_text="The letter's headline, as the public sees it."
    )
    slug = models.SlugField(
        max_length=250, unique=True, help_text="Used in the letter's web address."
    )
    summary = models.TextField(
        help_text="One or two plain sentences: who wrote to whom, asking for what."
    )
    body = models.TextField(
        blank=True,
        help_text="The letter's text in Markdown. HTML is removed when it is shown.",
    )
    body_is_summary = models.BooleanField(
        default=False,
        help_text="Tick when the body summarises the letter rather than reproducing its full text; "
        "the public page then says so.",
    )
    status = models.CharField(
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        help_text="Drafts are hidden from the public. Open letters are still gathering support.",
    )
    published_on = models.DateField(
        null=True, blank=True, help_text="When the letter was made public, if known."
    )
    published_on_precision = models.CharField(
        max_length=5,
        choices=DatePrecision,
        default=DatePrecision.DAY,
        help_text="How much of the publication date is known; "
        "for “September 2023” enter 1 September 2023 and choose “Month only”.",
    )
    delivered_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the letter reached its recipients, if known.",
    )
    closed_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the letter stopped gathering signatures. Required once it is closed; "
        "signers' emails and IP data are erased a set number of days after it "
        "(anonymise_closed).",
    )
    accepts_public_signatures = models.BooleanField(
        default=False,
        help_text="While the letter is open, anyone may sign it through the public form "
        "(confirmed by email).",
    )
    moderate_public_signatures = models.BooleanField(
        default=False,
        help_text="Public signatures wait for a moderator to publish them, even once confirmed.",
    )
    organiser = models.CharField(
        max_length=250,
        blank=True,
        help_text="Who organised the letter, as publicly stated. Leave empty if not stated.",
    )
    language = models.CharField(
        max_length=16,
        default="en",
        help_text="Language of the letter, as a code such as “en”.",
    )
    reported_signatories = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Number of signatories the organisers reported, e.g. 100 for “more than 100”.",
    )
    reported_signatories_is_minimum = models.BooleanField(
        default=False,
        help_text="Tick when the reported number is a floor (“more than 100”).",
    )
    reported_countries = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number of countries the organisers reported."
    )
    reported_figures_source = models.CharField(
        max_length=250,
        blank=True,
        help_text="Where the reported figures come from, e.g. “Press coverage, September 2023”.",
    )
    staff_notes = models.TextField(
        blank=True, help_text="Private notes for staff. Never shown to the public."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LetterQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        # Undated letters last on every database (PostgreSQL would put NULLs first).
        ordering = [F("published_on").desc(nulls_last=True), "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LetterStatus.values), name="letter_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(published_on_precision__in=DatePrecision.values),
                name="letter_published_on_precision_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=LetterStatus.CLOSED) | Q(closed_on__isnull=False),
                name="letter_closed_has_date",
                violation_error_message="A closed letter needs the date it closed.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("letters:detail", args=[self.slug])

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def original_language(self) -> str:
        return content_language(self.language)

    @property
    def translation_codes(self) -> list[str]:
        """The languages this letter has a translation in (read by ``translated()``)."""
        codes = getattr(self, "translation_languages", None) or ""
        return sorted(code for code in codes.split(",") if code)

    @property
    def is_signable(self) -> bool:
        """Whether the public sign form takes signatures for this letter now."""
        return self.status == self.Status.OPEN and self.accepts_public_signatures

    @property
    def published_on_label(self) -> str:
        """The publication date to the precision it is known, in the active language's
        own formats (a full date, a month and year, a year)."""
        if self.published_on is None:
            return ""
        formats = {
            self.DatePrecision.DAY: "DATE_FORMAT",
            self.DatePrecision.MONTH: "YEAR_MONTH_FORMAT",
            self.DatePrecision.YEAR: "Y",
        }
        return date_format(self.published_on, formats[self.published_on_precision])

    @property
    def reported_signatories_label(self) -> str:
        """The organisers' figure, grouped as the active language groups digits: "1,200",
        or "more than 100" when it is a floor."""
        if self.reported_signatories is None:
            return ""
        figure = number_format(self.reported_signatories, force_grouping=True)
        if self.reported_signatories_is_minimum:
            # Translators: the organisers' reported figure is a floor, e.g. "more than 100"
            # (signatories). Lower case: pages capitalise it where it starts a sentence.
            return gettext("more than %(figure)s") % {"figure": figure}
        return figure

    def reported_figure_leads(self, recorded: int) -> bool:
        """Whether the organisers' reported figure is the one to lead with: while it is
        larger than the ``recorded`` count. Once the list here passes it, the recorded
        count leads. The two are never added or mixed."""
        if self.reported_signatories is None:
            return False
        if self.reported_signatories_is_minimum:
            return self.reported_signatories >= recorded
        return self.reported_signatories > recorded


class LetterSource(models.Model):
    """A public source for a letter: its full text, coverage, or the organiser's page."""

    Kind = SourceKind

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.COVERAGE)
    title = models.CharField(max_length=250, help_text="The page's headline.")
    url = models.URLField(max_length=500, help_text="Its web address (http or https).")
    publisher = models.CharField(max_length=200, blank=True, help_text="e.g. the newspaper.")
    published_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "published_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "url"], name="one_source_per_url"),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values),
                name="letter_source_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Addressee(Translatable, models.Model):
    """A recipient of one letter, the person addressed there, and the answer so far."""

    TRANSLATED_FIELDS = ("response_summary",)

    ResponseStatus = ResponseStatus

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="addressees")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="addressees")
    person_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The person addressed, e.g. “Mark Zuckerberg”.",
    )
    person_title = models.CharField(
        max_length=200,
        blank=True,
        help_text="Their title, e.g. “Chief Executive Officer”.",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order on the letter page; lower comes first."
    )
    response_status = models.CharField(
        max_length=20, choices=ResponseStatus, default=ResponseStatus.AWAITING
    )
    response_date = models.DateField(
        null=True, blank=True, help_text="When the recipient answered, if it has."
    )
    response_summary = models.TextField(
        blank=True, help_text="A fair, short summary of the answer, shown publicly."
    )
    response_url = models.URLField(
        max_length=500, blank=True, help_text="Link to the answer itself, if public."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "recipient__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "recipient"], name="one_addressee_per_recipient"
            ),
            models.CheckConstraint(
                condition=Q(response_status__in=ResponseStatus.values),
                name="addressee_response_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} — {self.letter}"

    @property
    def answer(self) -> Answer:
        """The answer so far, as a page says it. Reads the letter and the events the page
        already loaded (``select_related``/``prefetch_related``): no query of its own
        when they are there."""
        status = self.response_status
        if status == ResponseStatus.AWAITING:
            delivered = self.delivered_on
            if delivered is None:
                return Answer("pending", gettext("No answer yet"))
            days = (timezone.localdate() - delivered).days
            if days < 1:
                return Answer("pending", gettext("No answer yet; delivered today"))
            label = ngettext(
                "No answer %(days)s day after delivery",
                "No answer %(days)s days after delivery",
                days,
            ) % {"days": number_format(days, force_grouping=True)}
            return Answer("pending", label)
        if status == ResponseStatus.RESPONDED:
            latest = next((e for e in self.events.all() if e.is_answer), None)
            if latest is not None and latest.kind == EventKind.MET:
                return Answer("good", pgettext("how a recipient answered", "Met the signatories"))
        return Answer(ANSWER_TONES[status], str(ANSWER_LABELS[status]))

    @property
    def delivered_on(self):
        """When the letter reached this recipient: its own "delivered" event if recorded,
        else the letter's delivery date."""
        delivered = [e.date for e in self.events.all() if e.kind == EventKind.DELIVERED]
        return min(delivered) if delivered else self.letter.delivered_on


class ResponseEvent(Translatable, models.Model):
    """One dated step in a recipient's answer to a letter: delivered, acknowledged,
    replied, met, committed, declined. The addressee's current status follows the latest."""

    TRANSLATED_FIELDS = ("summary",)

    Kind = EventKind

    addressee = models.ForeignKey(Addressee, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind)
    date = models.DateField(help_text="When it happened.")
    summary = models.TextField(
        blank=True, help_text="A fair, short public summary of what happened."
    )
    url = models.URLField(
        max_length=500, blank=True, help_text="Link to the reply or a report of it, if public."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    followers_notified_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When every signer who asked for news had been emailed about this event.",
    )
    # Superseded by signatories.FollowUpDelivery (per-follower marks) and no longer read
    # or written; dropped in a later release, as old code may still run during a deploy.
    followers_notified_upto = models.BigIntegerField(
        default=0,
        editable=False,
        help_text="Signers are emailed in order of signature id; the last one emailed so far, "
        "so that an interrupted round resumes where it stopped.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="response_event_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["addressee", "-date"], name="response_event_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.date:%d %b %Y}"

    @property
    def is_answer(self) -> bool:
        return self.kind in ANSWER_EVENTS


# ---------------------------------------------------------------------------------------
# Translations (README "Languages"): a letter's title, summary and text, a recipient's
# description and the summaries of its answers, in any number of languages beside the
# original. One letter, one list, one count: a translation is text, never a second letter.
# Pages read the visitor's language in the same query as the row (letters/translations.py).


def content_language_choices() -> list[tuple[str, str]]:
    """Every language Django knows, for the admin's menu (not stored in migrations, so a
    Django upgrade that knows more languages needs none)."""
    from django.conf.locale import LANG_INFO

    return sorted(
        ((code, f"{info['name']} ({code})") for code, info in LANG_INFO.items() if "name" in info),
        key=lambda choice: choice[1],
    )


def validate_content_language(code: str) -> None:
    from django.conf.locale import LANG_INFO
    from django.core.exceptions import ValidationError

    if "name" not in LANG_INFO.get(code, {}):
        raise ValidationError(f"“{code}” is not a language code Django knows, such as “fr”.")


class TranslationSource(models.TextChoices):
    ORGANISERS = "organisers", "Published by the letter's organisers"
    SITE = "site", "Made for this site"


class Translation(models.Model):
    """What every translation has: its language and who made it. The public page says
    which, so that a translation made here is never taken for the organisers' own."""

    language = models.CharField(
        max_length=16,
        validators=[validate_content_language],
        help_text="The language of this translation, as a code such as “fr”.",
    )
    made_by = models.CharField(
        max_length=12,
        choices=TranslationSource,
        default=TranslationSource.SITE,
        help_text="Who made the translation; the public page says so.",
    )

    Source = TranslationSource

    class Meta:
        abstract = True
        ordering = ["language"]

    def __str__(self) -> str:
        # The translated thing is the one foreign key: the letter, recipient, answer or step.
        [parent] = [f for f in self._meta.concrete_fields if f.is_relation]
        return f"{getattr(self, parent.name)} ({self.language})"


class LetterTranslation(Translation):
    """A letter's text in another language. A field left empty shows the original's."""

    FIELDS = ("title", "summary", "body")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="translations")
    title = models.CharField(max_length=250, blank=True)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Markdown, as the original's text.")

    history = HistoricalRecords()

    class Meta(Translation.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "language"], name="one_letter_translation_per_language"
            ),
            models.CheckConstraint(
                condition=~Q(title="", summary="", body=""),
                name="letter_translation_not_empty",
                violation_error_message="A translation needs a title, a summary or a text.",
            ),
        ]

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.letter_id and self.language == self.letter.language:
            raise ValidationError(
                {"language": "This is the letter's own language: edit the letter instead."}
            )


class RecipientTranslation(Translation):
    FIELDS = ("description",)

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="translations")
    description = models.TextField()

    history = HistoricalRecords()

    class Meta(Translation.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "language"], name="one_recipient_translation_per_language"
            ),
        ]


class AddresseeTranslation(Translation):
    """The summary of a recipient's answer to a letter, in another language."""

    FIELDS = ("response_summary",)

    addressee = models.ForeignKey(Addressee, on_delete=models.CASCADE, related_name="translations")
    response_summary = models.TextField()

    history = HistoricalRecords()

    class Meta(Translation.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["addressee", "language"], name="one_addressee_translation_per_language"
            ),
        ]


class ResponseEventTranslation(Translation):
    """One step of an answer's timeline, its summary in another language."""

    FIELDS = ("summary",)

    event = models.ForeignKey(ResponseEvent, on_delete=models.CASCADE, related_name="translations")
    summary = models.TextField()

    history = HistoricalRecords()

    class Meta(Translation.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language"], name="one_event_translation_per_language"
            ),
        ]
