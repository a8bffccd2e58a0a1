"""Who signed which letter, and how each signer chose to be shown.

A signatory's full name is private to staff unless the signature's ``display`` says
otherwise: every public rendering goes through ``Signature.public_name`` (Python), and
every public search and ordering through ``Signature.sort_name`` (SQL), the name as shown,
folded; never ``signatory.name`` directly.
"""

import functools
import operator
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import (
    Exists,
    OuterRef,
    Q,
)
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from config.history import HistoricalRecords
from letters.models import Letter, ResponseEvent
from signatories.identity import name_key, website_domain
from signatories.slugs import validate_slug

# Labels the public sees are marked for translation (lazy): pages show them in the
# reader's language; the CSV and the API read them in English (``config.machine_readable``).


class SignatoryKind(models.TextChoices):
    ORGANISATION = "organisation", pgettext_lazy("kind of signatory", "Organisation")
    INDIVIDUAL = "individual", pgettext_lazy("kind of signatory", "Individual")


class Category(models.TextChoices):
    # Individuals
    SURVIVOR = "survivor", pgettext_lazy("category of signatory", "Survivor")
    FAMILY = "family", pgettext_lazy("category of signatory", "Family member")
    EXPERT = "expert", pgettext_lazy("category of signatory", "Expert")
    ADVOCATE = "advocate", pgettext_lazy("category of signatory", "Advocate")
    # Organisations
    CHARITY = "charity", pgettext_lazy("category of signatory", "Charity")
    NGO = "ngo", pgettext_lazy("category of signatory", "NGO")
    NETWORK = "network", pgettext_lazy("category of signatory", "Collective, coalition or network")
    ADVOCACY_GROUP = "advocacy_group", pgettext_lazy("category of signatory", "Advocacy group")
    ACADEMIC = "academic", pgettext_lazy("category of signatory", "Academic institution")
    COMPANY = "company", pgettext_lazy("category of signatory", "Company")
    PUBLIC_BODY = "public_body", pgettext_lazy("category of signatory", "Public body")
    # Either
    OTHER = "other", pgettext_lazy("category of signatory", "Other")
    # Individuals who chose not to say. An explicit code rather than an empty value: the
    # CSV and JSON keep one stable code per row (an empty cell would read as missing data),
    # the category filter can select it (an empty filter value means "all"), and every
    # breakdown, tally and label handles it like any other category, with no NULL or ""
    # special case. Shown publicly as "Not stated".
    PREFER_NOT_TO_SAY = "prefer_not_to_say", pgettext_lazy("category of signatory", "Not stated")


INDIVIDUAL_CATEGORIES = [
    Category.SURVIVOR,
    Category.FAMILY,
    Category.EXPERT,
    Category.ADVOCATE,
    Category.OTHER,
    Category.PREFER_NOT_TO_SAY,
]
ORGANISATION_CATEGORIES = [
    Category.CHARITY,
    Category.NGO,
    Category.NETWORK,
    Category.ADVOCACY_GROUP,
    Category.ACADEMIC,
    Category.COMPANY,
    Category.PUBLIC_BODY,
    Category.OTHER,
]
CATEGORIES_OF_KIND = {
    SignatoryKind.INDIVIDUAL: INDIVIDUAL_CATEGORIES,
    SignatoryKind.ORGANISATION: ORGANISATION_CATEGORIES,
}


def category_fits_kind(kind: str, category: str) -> bool:
    """Whether a signatory of ``kind`` may have ``category``: the rule of the constraint
    ``signatory_category_fits_kind`` (built from the same lists), for friendly messages."""
    return category in CATEGORIES_OF_KIND.get(kind, ())


def _category_fits_kind_condition() -> Q:
    """``category_fits_kind`` in SQL, for the constraint."""
    return functools.reduce(
        operator.or_,
        (Q(kind=kind, category__in=categories) for kind, categories in CATEGORIES_OF_KIND.items()),
    )


class Display(models.TextChoices):
    FULL = "full", pgettext_lazy("how a signer's name is shown", "Full name")
    FIRST_NAME = "first_name", pgettext_lazy("how a signer's name is shown", "First name only")
    INITIALS = "initials", pgettext_lazy("how a signer's name is shown", "Initials only")
    ANONYMOUS = "anonymous", pgettext_lazy("how a signer's name is shown", "Anonymous")


class SignatureStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Awaiting email confirmation"
    PUBLISHED = "published", "Published"
    PENDING = "pending", "Pending review"
    HIDDEN = "hidden", "Hidden by staff"
    WITHDRAWN = "withdrawn", "Withdrawn by signatory"
    REJECTED = "rejected", "Rejected by staff"


# A public-form signature its signer has not confirmed can still be confirmed in these
# (staff may hold or hide one before its signer confirms it).
CONFIRMABLE_STATUSES = (
    SignatureStatus.UNCONFIRMED,
    SignatureStatus.PENDING,
    SignatureStatus.HIDDEN,
)


def awaiting_confirmation() -> Q:
    """``Signature.awaiting_confirmation()``, defined here for the constraint on standing
    signatures to use it too (its terms in the order migration 0014 recorded)."""
    return (
        Q(confirmed_at__isnull=True)
        & Q(status__in=CONFIRMABLE_STATUSES)
        & (Q(source=Source.PUBLIC_FORM) | Q(consented_at__isnull=False))
    )


class Verification(models.TextChoices):
    UNVERIFIED = "unverified", pgettext_lazy("verification of a signature", "Not yet verified")
    STAFF_VETTED = "staff_vetted", pgettext_lazy("verification of a signature", "Checked by staff")
    ORGANISATION_CONFIRMED = (
        "organisation_confirmed",
        pgettext_lazy("verification of a signature", "Confirmed by the organisation"),
    )
    EMAIL_CONFIRMED = (
        "email_confirmed",
        pgettext_lazy("verification of a signature", "Confirmed by email"),
    )


# The states a public list marks with a badge: each says someone checked. An unchecked
# signature carries no badge, which must not read as doubt about it.
VERIFIED_STATES = (
    Verification.EMAIL_CONFIRMED,
    Verification.ORGANISATION_CONFIRMED,
    Verification.STAFF_VETTED,
)

VERIFICATION_EXPLANATIONS = {
    Verification.UNVERIFIED: _("Recorded as received; not yet checked."),
    Verification.STAFF_VETTED: _("Our staff checked that this signatory is real and did sign."),
    Verification.ORGANISATION_CONFIRMED: _("The organisation confirmed its signature itself."),
    Verification.EMAIL_CONFIRMED: _("The signer confirmed through a link sent to their email."),
}


class Source(models.TextChoices):
    ADMIN = "admin", "Entered by staff"
    IMPORT = "import", "Imported from a file"
    PUBLIC_FORM = "public_form", "Public sign form"


# Whitespace other than a plain space would defeat "first name only": SQL and Python both
# split a name at its first plain space. Names are normalised on the way in
# (``normalise_name``) and the database refuses the common offenders.
NAME_FORBIDDEN_CHARACTERS = ["\t", "\n", "\r", "\u00a0", "\u2007", "\u2009", "\u202f", "\u3000"]


def normalise_name(name: str) -> str:
    """Collapse every run of Unicode whitespace to one plain space and trim the ends."""
    return " ".join(name.split())


def identity_values(*, name: str, kind: str, website: str) -> tuple[str, str]:
    """``(name_key, website_domain)`` of a signatory (``signatories.identity``): what every
    writer stores beside its name and website."""
    organisation = kind == SignatoryKind.ORGANISATION
    return (
        name_key(name, organisation=organisation),
        website_domain(website) if organisation else "",
    )


class SignatoryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """As Django's, with each one's identity key set as ``save()`` sets it."""
        objs = list(objs)
        for signatory in objs:
            signatory.name_key, signatory.website_domain = identity_values(
                name=signatory.name, kind=signatory.kind, website=signatory.website
            )
        return super().bulk_create(objs, *args, **kwargs)

    def with_public_page(self):
        """Signatories named in full on at least one public letter: the only ones with a
        public page (``signatories:detail``)."""
        named = Signature.objects.public().shown_by_name()
        return self.filter(Exists(named.filter(signatory=OuterRef("pk"))))


class Signatory(models.Model):
    """An organisation or a person who signs letters. The name is the real, full one;
    how much of it the public sees is chosen per signature."""

    Kind = SignatoryKind
    Category = Category

    name = models.CharField(
        max_length=200,
        help_text="Full name of the organisation or person. For a person it is shown only "
        "in the form each signature allows.",
    )
    # Not a SlugField: its validation refuses the marks of many scripts (signatories.slugs).
    slug = models.CharField(
        max_length=220,
        unique=True,
        validators=[validate_slug],
        help_text="Used in the signatory's web address, e.g. “zoe-zizek” or “张伟”. Only "
        "people shown by full name get a public page.",
    )
    kind = models.CharField(max_length=20, choices=SignatoryKind)
    category = models.CharField(
        max_length=20,
        choices=Category,
        help_text="Survivor, family member, expert, advocate, other or not stated (the "
        "signer preferred not to say) for individuals; "
        "charity, NGO, network, advocacy group, academic, company, public body or other "
        "for organisations.",
    )
    country = CountryField(
        blank=True, help_text="Leave empty for international bodies or when not known."
    )
    website = models.URLField(max_length=500, blank=True, help_text="Public website (optional).")
    role = models.CharField(
        max_length=200, blank=True, help_text="A person's role, e.g. “Chief Executive”."
    )
    affiliation = models.CharField(
        max_length=200,
        blank=True,
        help_text="A person's organisation, e.g. “University of Leeds”.",
    )
    description = models.TextField(
        blank=True,
        help_text="A sentence on who they are, shown on their public page (organisations, "
        "and people who sign by full name).",
    )
    email = models.EmailField(blank=True, help_text="Private. Never shown or exported publicly.")
    notes = models.TextField(blank=True, help_text="Private notes for staff.")
    # Kept by save() and every bulk writer (``identity_values``): how an import recognises
    # this signatory however its name is typed, and by its website's domain.
    name_key = models.CharField(max_length=200, editable=False)
    website_domain = models.CharField(max_length=253, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignatoryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["name_key", "website_domain"])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "signatories"
        constraints = [
            models.CheckConstraint(
                condition=_category_fits_kind_condition(),
                name="signatory_category_fits_kind",
            ),
            models.CheckConstraint(
                condition=~Q(name__startswith=" ")
                & ~Q(name__endswith=" ")
                & ~Q(name__contains="  ")
                & ~Q(name="")
                & ~Q(
                    Q.create(
                        [("name__contains", char) for char in NAME_FORBIDDEN_CHARACTERS],
                        connector=Q.OR,
                    )
                ),
                name="signatory_name_normalised",
            ),
            # Every writer sets the identity key; a missing one would hide a duplicate.
            models.CheckConstraint(condition=~Q(name_key=""), name="signatory_name_key_set"),
        ]
        indexes = [
            models.Index(fields=["country"], name="signatory_country_idx"),
            models.Index(fields=["name", "id"], name="signatory_name_idx"),
            # The import matches existing signatories on these, whatever the case.
            models.Index(Lower("email"), name="signatory_email_lower_idx"),
            models.Index(fields=["name_key"], name="signatory_name_key_idx"),
            models.Index(
                fields=["website_domain"],
                name="signatory_website_domain_idx",
                condition=~Q(website_domain=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # Sets its own derived columns (the identity key) and nothing else: its signatures'
    # list keys follow its name through ``editing.update_signatory``.
    def save(self, *args, **kwargs):
        self.name_key, self.website_domain = identity_values(
            name=self.name, kind=self.kind, website=self.website
        )
        if (update_fields := kwargs.get("update_fields")) is not None:
            kwargs["update_fields"] = {*update_fields, "name_key", "website_domain"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("signatories:detail", args=[self.slug])

    @property
    def is_organisation(self) -> bool:
        return self.kind == SignatoryKind.ORGANISATION


class SignatoryRedirect(models.Model):
    """The public address of a signatory merged into another (``signatories.merging``),
    sent on (301) to the page of the one it was merged into.

    Made only for an address that was public when the merge happened (the merged-away
    signatory had a page), and followed only while the page it leads to is public: a
    redirect never tells anyone more than the pages did. When the signatory it leads to is
    merged in turn, it is pointed at the new one, so a chain is always one hop."""

    old_slug = models.SlugField(
        max_length=220, unique=True, help_text="The merged-away signatory's slug."
    )
    signatory = models.ForeignKey(
        Signatory, on_delete=models.CASCADE, related_name="redirects_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_slug"]

    def __str__(self) -> str:
        return f"{self.old_slug} → {self.signatory_id}"


def first_name_of(name: str) -> str:
    """The first word of a name."""
    return name.strip().split(" ", 1)[0]


def initials_of(name: str) -> str:
    return " ".join(f"{word[0]}." for word in name.split())


def public_name_of(name: str, display: str) -> str:
    """A name as the public may see it under ``display``; empty when anonymous."""
    if display == Display.FULL:
        return name
    if display == Display.FIRST_NAME:
        return first_name_of(name)
    if display == Display.INITIALS:
        return initials_of(name)
    return ""


class ListRank(models.IntegerChoices):
    """Where a signature sorts in public lists: organisations, then people named in full or
    by first name, then people shown by initials or anonymously."""

    ORGANISATION = 0, "Organisation"
    NAMED = 1, "Person, named"
    UNNAMED = 2, "Person, not named"


# The displays under which a name can be searched and sorts by name.
NAMED_DISPLAYS = (Display.FULL, Display.FIRST_NAME)


def list_sort_key(*, kind: str, display: str, name: str) -> tuple[int, str]:
    """``(list_rank, sort_name)`` of a signature: named ones alphabetically by the name as
    shown, unnamed ones by when they signed (their id). Never a hidden name, whose place
    in the list would give it away, and which a search (``search_public_name``) would
    find: ``sort_name`` is empty unless the name is shown in full or by first name, whatever
    the kind (a database constraint holds it)."""
    named = display in NAMED_DISPLAYS
    sort_name = sort_name_of(public_name_of(name, display)) if named else ""
    if kind == SignatoryKind.ORGANISATION:
        return ListRank.ORGANISATION, sort_name
    return (ListRank.NAMED, sort_name) if named else (ListRank.UNNAMED, "")


# Typographic apostrophes, quotes and dashes, as a word processor or phone types them,
# folded to the plain ones a visitor types: "O’Brien" is found by "o'brien".
_PUNCTUATION_FOLDS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bb\u02bc\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)


def fold_name(text: str) -> str:
    """``text`` as names are compared: without accents or other combining marks, case
    folded, compatibility forms spelled out (NFKD: "ﬁ" is "fi", a full-width "Ｚ" is
    "z"), typographic punctuation plain. "Zoë", "ZOE" and "zoe" all fold to "zoe",
    "Žižek" to "zizek", "Straße" to "strasse". The same on every database, so a search
    needs no extension; a frozen copy lives in migration 0028."""
    text = unicodedata.normalize("NFKD", text.translate(_PUNCTUATION_FOLDS)).casefold()
    decomposed = unicodedata.normalize("NFKD", text)  # what case folding composed anew
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def sort_name_of(shown_name: str) -> str:
    """A shown name as it sorts and is searched: folded (``fold_name``), without a leading
    "The " (“The Children's Society” sorts under C), as a reader looks for it."""
    folded = fold_name(shown_name)
    if folded.startswith("the ") and folded[4:].strip():
        folded = folded[4:].lstrip()
    return folded[:200]


class SignatureQuerySet(models.QuerySet):
    def public(self):
        """Signatures the public may see and count: published, on a published letter."""
        return self.filter(
            status=SignatureStatus.PUBLISHED, letter__status__in=Letter.PUBLIC_STATUSES
        )

    def for_letter(self, letter: Letter):
        return self.filter(letter=letter)

    def public_on(self, letter: Letter):
        """``public().for_letter(letter)`` for a letter already known to be public, without
        joining the letter again: the shape the list index serves. (Not a date: the
        ``published_on`` fields are the day a letter or source was published.)"""
        return self.filter(letter=letter, status=SignatureStatus.PUBLISHED)

    def featured_statements(self):
        """Signatures staff chose to feature that carry a statement."""
        return self.filter(featured=True).exclude(statement="")

    def shown_by_name(self):
        """Signatures whose signatory chose to be named in full: the only ones that may
        link to, or be listed on, the signatory's own page."""
        return self.filter(display=Display.FULL)

    def search_public_name(self, text: str):
        """Match ``text`` against the name as the public sees it, accents and case
        ignored (``q=zoe`` finds "Zoë"), so a search can never reveal a hidden surname:
        it reads only ``sort_name``, which holds the shown name, folded, and is empty for
        initials and anonymous signatures. ``text`` is folded the same way, leading "The "
        included, so "the children" finds "The Children's Society"."""
        folded = sort_name_of(" ".join(text.split()))
        if not folded:  # nothing but accents: every name would contain it
            return self.none()
        return self.filter(sort_name__contains=folded)

    def in_display_order(self, *leading: str):
        """Organisations, then people; named ones alphabetically by the name as shown;
        initials and anonymous ones last, in the order they signed (``list_sort_key``,
        stored on each signature so that an index serves the order). ``leading`` fields
        sort before all that (e.g. the letter, on a page listing several)."""
        return self.order_by(*leading, *LIST_ORDER)


LIST_ORDER = ("list_rank", "sort_name", "pk")


class Signature(models.Model):
    """One signatory's support for one letter, and how their name is shown on it."""

    Display = Display
    Status = SignatureStatus
    Source = Source
    Verification = Verification
    VERIFIED = VERIFIED_STATES

    # No index of its own: every index below starts with the letter, and each signature
    # added would pay for one more.
    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="signatures", db_index=False
    )
    signatory = models.ForeignKey(Signatory, on_delete=models.CASCADE, related_name="signatures")
    signed_on = models.DateField(null=True, blank=True, help_text="When they signed, if known.")
    display = models.CharField(
        max_length=20,
        choices=Display,
        default=Display.FULL,
        help_text="How the name appears publicly on this letter. Organisations sign by full name.",
    )
    statement = models.TextField(
        blank=True,
        help_text="A public statement by the signatory about this letter (optional).",
    )
    featured = models.BooleanField(
        default=False,
        help_text="Show the statement among the featured ones on the letter page.",
    )
    status = models.CharField(
        max_length=20,
        choices=SignatureStatus,
        default=SignatureStatus.PUBLISHED,
        help_text="Only published signatures are shown and counted.",
    )
    source = models.CharField(max_length=20, choices=Source, default=Source.ADMIN)
    verification = models.CharField(
        max_length=30,
        choices=Verification,
        default=Verification.UNVERIFIED,
        help_text="How this signature was checked. Shown publicly as a badge.",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Staff member who recorded the verification. Private.",
    )
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the verification was recorded."
    )
    rejection_reason = models.TextField(
        blank=True, help_text="Why staff rejected the signature. Private, kept for the record."
    )
    notes = models.TextField(blank=True, help_text="Private notes for staff.")
    # Public sign form: all private, and the email and IP are erased a set number of days
    # after the letter closes (anonymise_closed).
    email = models.EmailField(
        blank=True, help_text="Private. The address the signer gave on the sign form."
    )
    email_normalised = models.CharField(
        max_length=254,
        blank=True,
        editable=False,
        help_text="The email as compared for duplicates: lower case, and for known "
        "providers without dots or +tags. One signature per address per letter.",
    )
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="Private. Where the sign form was sent from."
    )
    consent_text = models.TextField(
        blank=True, help_text="The consent wording the signer agreed to, as shown to them."
    )
    consented_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the signer confirmed through the emailed link."
    )
    follow_up = models.BooleanField(
        default=False,
        help_text="The signer asked to be emailed when a recipient answers the letter.",
    )
    # Not in any public output (the CSV, the API, pages): it can hint at where someone is
    # from. Erased with the email by ``anonymise_closed``: it serves only to write to them.
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        help_text="The site's language when they signed on the public form (a code such as "
        "“fr”): their emails are written in it. Empty: the site's default language.",
    )
    moderation_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="Private. Why a public signature waits for a moderator.",
    )
    # Set by the email tasks, never typed in: staff see a signer whose mail did not go out.
    email_failed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the last email to this signer failed to send (being retried, or given "
        "up). Empty once an email went out.",
    )
    email_error = models.CharField(
        max_length=300,
        blank=True,
        editable=False,
        help_text="Private. What the mail server said, and whether it will be tried again.",
    )
    # Derived from the signatory's kind and name and this display (``list_sort_key``):
    # kept in step by save() here and by ``editing.update_signatory``, set by every bulk
    # insert, checked by ``reconcile_counts`` (``signatories.list_keys``).
    # sort_name is the name as shown, folded (``sort_name_of``): what the public name
    # search reads, so it is empty whenever the name is hidden (a constraint below).
    list_rank = models.PositiveSmallIntegerField(
        choices=ListRank, default=ListRank.NAMED, editable=False
    )
    sort_name = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignatureQuerySet.as_manager()

    # Delivery marks are the tasks' bookkeeping, not edits: kept out of the audit trail.
    history = HistoricalRecords(excluded_fields=["email_failed_at", "email_error"])

    class Meta:
        ordering = ["letter", "pk"]
        permissions = [
            (
                "export_private_signatures",
                "Can export signatures with private fields (emails, notes)",
            ),
            ("import_signatures", "Can import signatures from files"),
            (
                "view_signer_personal_data",
                "Can view signers' personal data (emails, IP addresses, consent records, "
                "moderation reasons and notes)",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "signatory"], name="one_signature_per_letter"
            ),
            models.CheckConstraint(
                condition=Q(display__in=Display.values), name="signature_display_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SignatureStatus.values),
                name="signature_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="signature_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(verification__in=Verification.values),
                name="signature_verification_valid",
            ),
            models.CheckConstraint(
                condition=Q(verification=Verification.UNVERIFIED) | Q(verified_at__isnull=False),
                name="signature_verified_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=SignatureStatus.REJECTED) | ~Q(rejection_reason=""),
                name="signature_rejection_has_reason",
            ),
            # One standing signature per address and letter. Open submissions from the
            # form are not counted here (several may wait, each for its own emailed link,
            # until one is confirmed: signing.confirm_signature), nor withdrawn ones.
            models.UniqueConstraint(
                fields=["letter", "email_normalised"],
                condition=~Q(email_normalised="")
                & ~Q(status=SignatureStatus.WITHDRAWN)
                & ~awaiting_confirmation(),
                name="one_standing_signature_per_email_per_letter",
            ),
            # A signature from the public form counts only once its signer confirmed it;
            # "from the public form" is also told by its consent record, which staff can't
            # edit, so changing the source can't get round this.
            models.CheckConstraint(
                condition=~Q(status=SignatureStatus.PUBLISHED)
                | Q(confirmed_at__isnull=False)
                | Q(consented_at__isnull=True) & ~Q(source=Source.PUBLIC_FORM),
                name="signature_public_form_published_confirmed",
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.PUBLIC_FORM)
                | ~Q(consent_text="") & Q(consented_at__isnull=False),
                name="signature_public_form_has_consent",
            ),
            # A hidden name has no place of its own in a list: its key is what
            # ``list_sort_key`` gives it, an empty sort name (which the public name search
            # reads) and the unnamed rank, or an organisation's (the row does not know its
            # signatory's kind; an organisation hiding its name is refused by the forms
            # and imports, but its kind can change after it signed).
            models.CheckConstraint(
                condition=Q(display__in=NAMED_DISPLAYS)
                | Q(sort_name="", list_rank__in=[ListRank.UNNAMED, ListRank.ORGANISATION]),
                name="signature_hidden_name_unranked",
            ),
        ]
        indexes = [
            # An address's signatures on a letter, standing or not (submissions.same_address).
            models.Index(fields=["letter", "email_normalised"], name="signature_letter_email_idx"),
            # Serves every public list in display order, and keyset pages deep in it.
            models.Index(
                fields=["letter", "status", "list_rank", "sort_name", "id"],
                name="signature_list_order_idx",
            ),
            models.Index(
                fields=["letter", "list_rank", "sort_name", "id"],
                condition=Q(featured=True, status=SignatureStatus.PUBLISHED) & ~Q(statement=""),
                name="signature_featured_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signatory} — {self.letter}"

    # Sets its own derived columns (its list key) and nothing else.
    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"display", "signatory"} & set(update_fields):
            self.list_rank, self.sort_name = list_sort_key(
                kind=self.signatory.kind, display=self.display, name=self.signatory.name
            )
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "list_rank", "sort_name"}
        super().save(*args, **kwargs)

    @staticmethod
    def unconfirmed() -> Q:
        """Signatures from the public form that their signer has not confirmed by email:
        nobody else may publish them (``signature_public_form_published_confirmed``).
        "From the public form" is also told by the consent record, which staff can't edit."""
        return Q(confirmed_at__isnull=True) & (
            Q(source=Source.PUBLIC_FORM) | Q(consented_at__isnull=False)
        )

    @property
    def is_unconfirmed(self) -> bool:
        """``unconfirmed()`` for this signature as loaded (the same rule: a test holds them
        equal on the database for every combination of the fields they read)."""
        return self.confirmed_at is None and (
            self.source == Source.PUBLIC_FORM or self.consented_at is not None
        )

    @staticmethod
    def awaiting_confirmation() -> Q:
        """Open submissions: unconfirmed signatures (``unconfirmed()``) that their signer's
        link can still confirm. Staff may hold or hide one first (confirming then records
        the confirmation and leaves it held or hidden); a withdrawn or rejected one is
        closed. Several may wait for one address (each for its own link): the constraint
        ``one_standing_signature_per_email_per_letter`` leaves them out."""
        return awaiting_confirmation()

    @property
    def is_awaiting_confirmation(self) -> bool:
        """``awaiting_confirmation()`` for this signature as loaded."""
        return self.is_unconfirmed and self.status in CONFIRMABLE_STATUSES

    @property
    def public_name(self) -> str:
        """The name exactly as the public may see it; empty for anonymous signatures."""
        return public_name_of(self.signatory.name, self.display)

    @property
    def verification_explanation(self) -> str:
        return VERIFICATION_EXPLANATIONS[self.verification]

    @property
    def is_verified(self) -> bool:
        """Whether a public list marks it with a badge (``VERIFIED_STATES``)."""
        return self.verification in VERIFIED_STATES

    @property
    def shows_full_identity(self) -> bool:
        """Whether role, affiliation, website and the signatory's page may be shown."""
        return self.display == Display.FULL


class BlockedEmailDomain(models.Model):
    """An email domain the sign form refuses (throwaway-mail services, known abusers)."""

    domain = models.CharField(
        max_length=253,
        unique=True,
        help_text="e.g. “mailinator.com”. Its subdomains are blocked too. Lower case, no @. "
        "The sign form applies a change within a minute.",
    )
    reason = models.CharField(max_length=200, blank=True, help_text="Why, for other staff.")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(
                condition=Q(domain=Lower("domain"))
                & ~Q(domain="")
                & ~Q(domain__contains="@")
                & ~Q(domain__contains=" "),
                name="blocked_domain_normalised",
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class UsedFormStamp(models.Model):
    """A sign-form stamp that was sent back, and for which address: a stamp serves one
    signer (``signatories.abuse``). A row is useful only while its stamp is: stamps older
    than ``SIGN_FORM_MAX_AGE`` are refused anyway, and ``anonymise_closed`` deletes them."""

    nonce = models.CharField(max_length=32, unique=True)
    email_digest = models.CharField(
        max_length=64,
        help_text="A keyed hash (with SECRET_KEY) of the normalised address it was first "
        "sent with: tells the same signer sending again from someone else, without keeping "
        "the address.",
    )
    shown_at = models.DateTimeField(help_text="When the form was shown: the stamp's time.")

    class Meta:
        indexes = [models.Index(fields=["shown_at"], name="used_form_stamp_shown_idx")]

    def __str__(self) -> str:
        return self.nonce


class LetterTally(models.Model):
    """A letter's published signatures counted by kind, category, country and
    verification: what its page, the letter lists and count.json show.

    Kept apart from the letter, and refreshed by the task worker shortly after signatures
    change (``signatories.tallies``), so that recording a signature never writes a row
    that every other signer also writes: counts lag by under a minute instead.
    ``reconcile_counts`` checks them against the signatures themselves."""

    letter = models.OneToOneField(
        Letter, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )
    total = models.PositiveIntegerField(default=0)
    organisations = models.PositiveIntegerField(default=0)
    individuals = models.PositiveIntegerField(default=0)
    countries = models.PositiveIntegerField(default=0)
    breakdown = models.JSONField(
        default=list,
        help_text="[kind, category, country, verification, count] for each combination.",
    )
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.letter}: {self.total}"


class ListMark(models.Model):
    """A bookmark in a letter's public list: the sort key of the row just before
    ``position`` (rows counted from 0 in list order). ``?page=N`` deep in a list jumps to
    the nearest mark and reads one short index range from it, instead of an ``OFFSET``
    through every row before the page (``signatories.paging``). One every ``MARK_EVERY``
    rows, recomputed with the letter's tally, so they lag as its counts do."""

    MARK_EVERY = 500

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    list_rank = models.PositiveSmallIntegerField()
    sort_name = models.CharField(max_length=200, blank=True)
    # The key's last part, not a link: the row may since have been withdrawn.
    signature_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "position"], name="one_list_mark_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} @ {self.position}"


class PrivateExport(models.Model):
    """A record of each export that carried private fields: who, when, how many rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    row_count = models.PositiveIntegerField()
    letters = models.TextField(help_text="Slugs of the letters the rows came from.")
    filename = models.CharField(max_length=200)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.row_count} rows)"


class PersonalDataView(models.Model):
    """A record of each admin page that showed a signer's personal data to someone: who,
    when, which record, which page. Kept like the private export log (``PrivateExport``)."""

    class Page(models.TextChoices):
        CHANGE = "change", "Change page"
        HISTORY = "history", "History"
        HISTORY_VERSION = "history_version", "A past version"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    model = models.CharField(max_length=20, help_text="signature or signatory")
    object_id = models.PositiveBigIntegerField(
        help_text="The record's id (kept when the record is deleted; no name is copied here)."
    )
    page = models.CharField(max_length=20, choices=Page)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["model", "object_id"], name="personal_data_view_obj_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(page__in=["change", "history", "history_version"]),
                name="personal_data_view_page_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} viewed {self.model} {self.object_id} ({self.get_page_display()})"


class DateOrder(models.TextChoices):
    """How to read a date such as 05/06/2023: the file tells when one of its dates has a
    day over 12; else staff say."""

    AUTO = "auto", "Work it out from the file"
    DAY_FIRST = "day_first", "Day first (14.09.2023, 25/09/2023)"
    MONTH_FIRST = "month_first", "Month first (09/14/2023)"


class ImportStage(models.TextChoices):
    """How far the task worker got with a file (``SignatureImport.stage``)."""

    READING = "reading", "Reading the file"
    CHECKING = "checking", "Checking the rows"
    MATCHING = "matching", "Matching the rows against the signatories already recorded"
    WRITING = "writing", "Writing the signatures"


class SignatureImport(models.Model):
    """One import of a file into a letter: who, when, which file, what it did. The file is
    kept only between preview and confirmation, then dropped (it holds private emails).

    A big file (``IMPORT_BACKGROUND_ROWS``) is checked and written by the task worker
    (``signatories.importers.background``), not in the web request: the record then says
    where it is, how far the worker got, and keeps the preview's report for the admin::

        queued → previewing → previewed → confirmed → importing → imported
                            ↘ refused                           ↘ refused
        (previewing, importing: or failed, when the worker stopped or crashed)
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the task worker to check it"
        PREVIEWING = "previewing", "Being checked by the task worker"
        PREVIEWED = "previewed", "Previewed, awaiting confirmation"
        CONFIRMED = "confirmed", "Confirmed, waiting for the task worker to import it"
        IMPORTING = "importing", "Being imported by the task worker"
        IMPORTED = "imported", "Imported"
        REFUSED = "refused", "Refused: the file had errors"
        FAILED = "failed", "Failed: the task worker stopped"

    WAITING = (Status.QUEUED, Status.CONFIRMED)
    WORKING = (Status.PREVIEWING, Status.IMPORTING)

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveIntegerField()
    content = models.BinaryField(blank=True, default=b"", editable=False)
    publish = models.BooleanField(default=False)
    date_order = models.CharField(
        max_length=20,
        choices=DateOrder,
        default=DateOrder.AUTO,
        help_text="How dates such as 05/06/2023 were read.",
    )
    # Staff's choices in the preview, applied when the file is checked again and imported:
    # {column: {value as written (folded): known value}} and {line: signatory id}.
    mapping = models.JSONField(default=dict, blank=True, editable=False)
    same_as = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status)
    background = models.BooleanField(
        default=False,
        help_text="Checked and imported by the task worker, the file being big.",
    )
    stage = models.CharField(
        max_length=20,
        choices=ImportStage,
        blank=True,
        help_text="What the task worker is doing with the file.",
    )
    rows_done = models.PositiveIntegerField(
        default=0, help_text="Rows the task worker has checked so far."
    )
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="When the task worker last said how far it got."
    )
    failure = models.CharField(
        max_length=300, blank=True, help_text="Why the task worker did not finish."
    )
    report = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The preview's report, bounded, kept until the import is done "
        "(``signatories.importers.stored``).",
    )
    preview_csv = models.TextField(
        blank=True,
        editable=False,
        help_text="Every row of a preview the task worker made, with its outcome, as the "
        "preview's CSV download gives it; kept with the file.",
    )
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0, help_text="New signatories.")
    matched = models.PositiveIntegerField(default=0, help_text="Existing signatories.")
    skipped = models.PositiveIntegerField(default=0, help_text="Already signed or duplicates.")
    errors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "queued",
                        "previewing",
                        "previewed",
                        "confirmed",
                        "importing",
                        "imported",
                        "refused",
                        "failed",
                    ]
                ),
                name="signature_import_status_valid",
            ),
            # The file (and what shows all its rows) holds signers' emails: kept only
            # while the import waits for staff or for the worker.
            models.CheckConstraint(
                condition=Q(
                    status__in=["queued", "previewing", "previewed", "confirmed", "importing"]
                )
                | (Q(content=b"") & Q(preview_csv="")),
                name="signature_import_file_kept_only_until_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.letter}"

    @property
    def in_progress(self) -> bool:
        """Waiting for the task worker, or being worked on by it."""
        return self.status in (*self.WAITING, *self.WORKING)

    @property
    def progress(self) -> str:
        """How far the task worker got, for staff: empty when it has nothing to do."""
        if self.status == self.Status.FAILED:
            return self.failure
        if self.status in self.WAITING:
            return "Waiting for the task worker"
        if self.status not in self.WORKING:
            return ""
        if self.stage == ImportStage.CHECKING and self.rows:
            return f"{self.get_stage_display()}: {self.rows_done:,} of {self.rows:,}"
        if self.rows:
            return f"{self.get_stage_display()} ({self.rows:,} rows)"
        return self.get_stage_display() or "Starting"


class FollowUpDelivery(models.Model):
    """One follower's email about one answer from a recipient (``tasks.notify_followers``).

    The row is written, in its own transaction, just before the email is handed to the mail
    server, and marked sent as soon as the server accepted it; the unique constraint makes
    the claim, so two runs of the task never email the same follower about the same answer.
    A claimed row never sent is in doubt (the worker was killed, or the connection dropped,
    while sending it) or was refused (``error`` says which): it is never sent again on its
    own, since the signer may already have it.
    """

    event = models.ForeignKey(ResponseEvent, on_delete=models.CASCADE, related_name="deliveries")
    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="follow_up_deliveries"
    )
    claimed_at = models.DateTimeField(help_text="When sending this email began.")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the mail server accepted it."
    )
    error = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why it was not marked sent: in doubt (the connection was lost while "
        "sending) or refused by the mail server.",
    )

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        verbose_name_plural = "follow-up deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "signature"], name="one_follow_up_per_signature_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → signature {self.signature_id}"


class DeliveredList(models.Model):
    """A letter's public signatory list as it stood when staff recorded its delivery,
    frozen for good (``signatories.delivered``): one row per public signature, each hashed
    with a salt of its own into a Merkle tree whose root is published. A row whose
    signature later stops being public as it was (withdrawn, hidden, a name taken back) is
    redacted: its text and salt erased, its leaf hash kept, so the root still checks out."""

    FORMAT_VERSION = 1

    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, related_name="delivered_list")
    frozen_at = models.DateTimeField()
    delivered_on = models.DateField(
        null=True, blank=True, help_text="The letter's delivery date when it was frozen."
    )
    rows = models.PositiveIntegerField(help_text="Public signatures on the list when frozen.")
    redacted = models.PositiveIntegerField(
        default=0, help_text="Rows since redacted (withdrawn, hidden or changed by their signer)."
    )
    root = models.CharField(max_length=64, help_text="The Merkle tree's root, SHA-256 in hex.")
    format_version = models.PositiveSmallIntegerField(default=FORMAT_VERSION)
    changes_checked_to = models.DateTimeField(
        help_text="Signatures changed before this have been looked at for rows to redact "
        "(``redact_stale_rows``): a letter's check reads only those changed since."
    )
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-frozen_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(redacted__lte=models.F("rows")), name="delivered_redacted_within_rows"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter}: {self.rows} rows, root {self.root[:12]}…"

    def get_absolute_url(self) -> str:
        return reverse("signatories:delivered", args=[self.letter.slug])

    @property
    def shown(self) -> int:
        return self.rows - self.redacted


class DeliveredRow(models.Model):
    """One row of a frozen list, at its place in the list (``position`` from 0). Shown:
    ``salt`` and ``text`` hold what the leaf hash is made of. Redacted: both empty, the
    leaf hash alone kept."""

    delivered_list = models.ForeignKey(
        DeliveredList, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    position = models.PositiveIntegerField()
    # No foreign key constraint: the row outlives its signature (deleted, merged away)
    # and must not hold its deletion up. A relation only so that a redaction check can
    # join the signature as it is now.
    signature = models.ForeignKey(
        Signature,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    salt = models.CharField(max_length=32, blank=True)
    text = models.TextField(blank=True)
    leaf = models.CharField(max_length=64)

    class Meta:
        ordering = ["delivered_list_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivered_list", "position"], name="one_delivered_row_per_position"
            ),
            models.CheckConstraint(
                condition=Q(signature__isnull=False), name="delivered_row_names_its_signature"
            ),
            # Shown (salt and text) or redacted (neither): never half of one.
            models.CheckConstraint(
                condition=Q(salt="", text="") | (~Q(salt="") & ~Q(text="")),
                name="delivered_row_shown_or_redacted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivered_list_id} @ {self.position}"

    @property
    def is_redacted(self) -> bool:
        return not self.salt
