import functools

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext, pgettext_lazy
from django_countries import countries

from signatories.abuse import (
    form_stamp,
    is_blocked_domain,
    read_form_stamp,
    stamp_used_for_another_address,
)
from signatories.emails import normalise_email, split_email
from signatories.importers import MAX_FILE_BYTES
from signatories.models import (
    CATEGORIES_OF_KIND,
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    BlockedEmailDomain,
    Category,
    DateOrder,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    category_fits_kind,
    normalise_name,
)
from signatories.signing import CONSENT_TEXT, SignerDetails
from signatories.slugs import slug_base, unique_slug


def country_choices() -> list[tuple[str, str]]:
    """Every ISO country, named and sorted in the active language: a callable, so that
    each form doesn't copy the list (``countries_in``)."""
    return countries_in(translation.get_language())


@functools.cache
def countries_in(language: str | None) -> list[tuple[str, str]]:
    """``country_choices`` for one language, made once per language."""
    with translation.override(language):
        return [("", pgettext("country", "Not stated")), *countries]


@functools.cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries_in(None))


class CountryChoiceField(forms.ChoiceField):
    """A country code checked against a set: ``ChoiceField`` walks and re-normalises all
    250 choices for each value it checks, on every signature."""

    def valid_value(self, value) -> bool:
        return str(value) in country_codes()


class SignatoryForm(forms.ModelForm):
    class Meta:
        model = Signatory
        fields = [
            "name",
            "slug",
            "kind",
            "category",
            "country",
            "role",
            "affiliation",
            "website",
            "description",
            "email",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Absent when the admin shows the signatory read-only (staff who may only view).
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = (
                "Leave empty to make one from the name. One made from the name follows it "
                "when the name changes, so that a former name never stays in the address."
            )

    def clean_name(self):
        return normalise_name(self.cleaned_data["name"])

    def clean(self):
        cleaned = super().clean()
        kind, category = cleaned.get("kind"), cleaned.get("category")
        if kind and category and not category_fits_kind(kind, category):
            labels = ", ".join(str(c.label).lower() for c in CATEGORIES_OF_KIND[kind])
            self.add_error("category", f"For {kind}s choose one of: {labels}.")
        if cleaned.get("name") and (not cleaned.get("slug") or self._slug_follows_name(cleaned)):
            others = Signatory.objects.exclude(pk=self.instance.pk)
            cleaned["slug"] = unique_slug(cleaned["name"], among=others)
        return cleaned

    def _slug_follows_name(self, cleaned) -> bool:
        """Whether a rename takes a new slug: when the slug was made from the old name and
        staff left it as it was. Else the old name would stay in the address of the
        person's page after, say, a survivor asked to be shown under another name. A
        slug staff chose themselves ("nspcc") stays."""
        if not self.instance.pk or "name" not in self.changed_data:
            return False
        if "slug" not in self.fields or "slug" in self.changed_data:
            return False
        old_base = slug_base(self.instance.name)
        return cleaned["slug"] == old_base or cleaned["slug"].startswith(f"{old_base}-")


class SignatureForm(forms.ModelForm):
    class Meta:
        model = Signature
        fields = [
            "letter",
            "signatory",
            "signed_on",
            "display",
            "statement",
            "featured",
            "status",
            "source",
            "notes",
        ]

    def clean_source(self):
        """Only the sign form makes public-form signatures, and they stay so: the source
        says how the signer's consent and confirmation were collected."""
        source = self.cleaned_data["source"]
        was_public = self.instance.pk and self.instance.source == Signature.Source.PUBLIC_FORM
        if was_public and source != Signature.Source.PUBLIC_FORM:
            raise forms.ValidationError(
                "A signature made on the public sign form keeps its source."
            )
        if not was_public and source == Signature.Source.PUBLIC_FORM:
            raise forms.ValidationError("Only the public sign form makes public-form signatures.")
        return source

    def clean(self):
        cleaned = super().clean()
        signatory = cleaned.get("signatory")
        if signatory and signatory.is_organisation and cleaned.get("display") != Display.FULL:
            self.add_error("display", "Organisations sign by their full name.")
        if (
            cleaned.get("status") == Signature.Status.PUBLISHED
            # The instance still holds the stored values here (the form's are applied after).
            and self.instance.is_unconfirmed
        ):
            self.add_error(
                "status",
                "Its signer has not confirmed this signature by email yet; "
                "only they can make it countable.",
            )
        return cleaned


class LetterSignatureForm(SignatureForm):
    """A row of the letter's signature inline. An existing row shows its signatory as
    fixed text from the row already loaded, instead of an autocomplete that would look
    the signatory up again: no query per row. New rows keep the autocomplete."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "signatory" in self.fields:
            field = self.fields["signatory"]
            field.disabled = True
            field.widget = forms.Select(
                choices=[(self.instance.signatory_id, str(self.instance.signatory))]
            )


class BlockedEmailDomainForm(forms.ModelForm):
    class Meta:
        model = BlockedEmailDomain
        fields = ["domain", "reason"]

    def clean_domain(self):
        domain = self.cleaned_data["domain"].strip().lower().lstrip("@").removeprefix("*.")
        if not domain or "@" in domain or " " in domain or "." not in domain:
            raise forms.ValidationError("Enter a domain such as “mailinator.com”.")
        return domain.rstrip(".")


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Kept for the record and never shown publicly.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for the rejection.")
        return reason


class MergeSignatoriesForm(forms.Form):
    """Which of the selected signatories to keep (``merging.merge_signatories``)."""

    keep = forms.ModelChoiceField(
        queryset=Signatory.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the signatory to keep.",
            "invalid_choice": "Choose one of the selected signatories to keep.",
        },
    )

    def __init__(self, *args, signatories: list[Signatory], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = Signatory.objects.filter(
            pk__in=[signatory.pk for signatory in signatories]
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (comma, semicolon or tab separated, any common encoding), XLSX, "
        "ODS (LibreOffice) or XLS (Excel 97).",
    )
    publish = forms.BooleanField(
        required=False,
        help_text="Publish the new signatures at once. Leave unticked to vet them first.",
    )
    date_order = forms.ChoiceField(
        label="Dates such as 05/06/2023",
        choices=DateOrder.choices,
        initial=DateOrder.AUTO,
        required=False,
        help_text="Dates written YYYY-MM-DD are always understood. Others are read as the "
        "file's own dates show (a day over 12 tells); choose when none of them does.",
    )

    def clean_date_order(self):
        return self.cleaned_data["date_order"] or DateOrder.AUTO

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{MAX_FILE_BYTES // 1_048_576} MB. Split it, or use the import_signatures command."
            )
        return upload


SIGN_KINDS = (SignatoryKind.INDIVIDUAL, SignatoryKind.ORGANISATION)


def sign_kind(value) -> str | None:
    """The kind a sign form is for, from ``?as=`` or the posted ``kind``; None if unknown."""
    return value if value in SIGN_KINDS else None


class SignForm(forms.Form):
    """The public sign form, for one kind of signer (``kind``, chosen on the step before):
    a person sees only a person's fields, an organisation only an organisation's. Plain
    language; every field's error is shown beside it and listed in ``error_links``."""

    kind = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in SIGN_KINDS],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose whether you sign as yourself or for an organisation.")
        },
    )
    name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        help_text=_("Shown only in the way you choose below."),
        error_messages={"required": _("Enter your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    display = forms.ChoiceField(
        label=_("How should your name appear on the letter?"),
        choices=[
            (Display.FULL, _("My full name")),
            (Display.FIRST_NAME, _("My first name only")),
            (Display.INITIALS, _("My initials only")),
            (Display.ANONYMOUS, _("No name: count me as anonymous")),
        ],
        initial=Display.FULL,
        widget=forms.RadioSelect,
        help_text=_("Your country, category and statement are shown whatever you choose."),
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_(
            "Private: never shown or shared. We email you a link to confirm, and to "
            "withdraw whenever you want."
        ),
        error_messages={
            "required": _("Enter your email address: we send the confirmation link there."),
            "invalid": _("Enter an email address like name@example.org."),
        },
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    category = forms.ChoiceField(
        label=_("Which describes you best? (optional)"),
        choices=[
            (Category.PREFER_NOT_TO_SAY, _("Prefer not to say")),
            *((c.value, c.label) for c in INDIVIDUAL_CATEGORIES if c != Category.PREFER_NOT_TO_SAY),
        ],
        initial=Category.PREFER_NOT_TO_SAY,
        required=False,
        help_text=_("Shown with your signature, even without your name."),
        error_messages={
            "invalid_choice": _(
                "You are signing as yourself: choose one of the options listed, "
                "or “Prefer not to say”."
            )
        },
        widget=forms.Select(attrs={"autocomplete": "off"}),
    )
    country = CountryChoiceField(
        label=_("Country (optional)"),
        choices=country_choices,
        required=False,
        error_messages={"invalid_choice": _("Choose a country from the list, or “Not stated”.")},
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    role = forms.CharField(
        label=_("Your role (optional)"),
        max_length=200,
        required=False,
        help_text=_("e.g. “Campaigner”. Shown only with your full name."),
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    affiliation = forms.CharField(
        label=_("Your organisation or institution (optional)"),
        max_length=200,
        required=False,
        help_text=_("Shown only with your full name."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    website = forms.URLField(
        label=_("Organisation's website"),
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "If your email address is on the same domain, your signature is marked as "
            "confirmed by the organisation."
        ),
        error_messages={
            "required": _("Enter the organisation's website."),
            "invalid": _("Enter a website address like https://example.org."),
        },
        widget=forms.URLInput(
            attrs={"autocomplete": "url", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    statement = forms.CharField(
        label=_("Statement (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            "Why you sign, shown publicly. Up to 1,000 characters. Leave out anything "
            "that could identify you if you sign without your full name."
        ),
    )
    follow_up = forms.BooleanField(
        label=_("Email me when a recipient answers this letter"),
        required=False,
    )
    consent = forms.BooleanField(
        label=_(CONSENT_TEXT),  # marked where it is defined (gettext_noop)
        error_messages={
            "required": _("Tick this box to agree, or your signature can't be counted.")
        },
    )
    # Honeypot: hidden from people (and from screen readers); scripts fill it in.
    homepage = forms.CharField(
        # Translators: the label of a trap field hidden from people; only scripts fill it in.
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    stamp = forms.CharField(widget=forms.HiddenInput, required=False)

    PERSON_ONLY = ("display", "role", "affiliation")
    # The error summary shows each message alone, so every message names its field.
    # (Never one character: the plural is for the languages whose plurals need it.)
    TOO_LONG = {
        "name": ngettext_lazy(
            "The name can be at most %(limit_value)d character (it has %(show_value)d).",
            "The name can be at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
        "email": ngettext_lazy(
            "The email address can be at most %(limit_value)d character (it has %(show_value)d).",
            "The email address can be at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
        "role": ngettext_lazy(
            "Your role can be at most %(limit_value)d character (it has %(show_value)d).",
            "Your role can be at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
        "affiliation": ngettext_lazy(
            "Your organisation or institution can be at most %(limit_value)d character "
            "(it has %(show_value)d).",
            "Your organisation or institution can be at most %(limit_value)d characters "
            "(it has %(show_value)d).",
            "limit_value",
        ),
        "website": ngettext_lazy(
            "The website address can be at most %(limit_value)d character (it has %(show_value)d).",
            "The website address can be at most %(limit_value)d characters "
            "(it has %(show_value)d).",
            "limit_value",
        ),
        "statement": ngettext_lazy(
            "The statement can be at most %(limit_value)d character (it has %(show_value)d).",
            "The statement can be at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
    }
    ORGANISATION_ONLY = ("website",)

    def __init__(self, data=None, *args, kind: str, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        self.signer_kind = kind
        self.initial["kind"] = kind
        for name, message in self.TOO_LONG.items():
            self.fields[name].error_messages["max_length"] = message
        if kind == SignatoryKind.ORGANISATION:
            self._for_organisation()
        else:
            for name in self.ORGANISATION_ONLY:
                del self.fields[name]
        if data is None:
            self.initial["stamp"] = form_stamp()
            self.stamp = self.seconds_open = None
            return
        self.stamp = read_form_stamp(data.get("stamp", ""))
        self.seconds_open = self.stamp.seconds_open if self.stamp else None
        if self.stamp is None:
            # Shown again with a fresh stamp, so the next send is accepted.
            self.data = data.copy()
            self.data["stamp"] = form_stamp()

    def _for_organisation(self) -> None:
        for name in self.PERSON_ONLY:
            del self.fields[name]
        # The website stands beside the name, on the page and in the error summary.
        self.order_fields(["kind", "name", "website"])
        fields = self.fields
        fields["name"].label = _("Organisation's name")
        fields["name"].help_text = ""
        fields["name"].error_messages["required"] = _("Enter the organisation's name.")
        fields["name"].widget.attrs["autocomplete"] = "organization"
        fields["email"].label = _("Your email address")
        category = fields["category"]
        category.label = _("What kind of organisation is it?")
        category.required = True
        category.choices = [
            ("", pgettext_lazy("kind of organisation", "Choose one")),
            *((c.value, c.label) for c in ORGANISATION_CATEGORIES),
        ]
        category.initial = ""
        category.help_text = ""
        category.error_messages = {
            "required": _("Choose what kind of organisation this is: organisations must say."),
            "invalid_choice": _(
                "You are signing for an organisation: choose one of the organisation kinds."
            ),
        }
        fields["statement"].help_text = _("Why you sign, shown publicly. Up to 1,000 characters.")

    def clean_name(self):
        name = normalise_name(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        _local_part, domain = split_email(email)
        if is_blocked_domain(domain):
            raise forms.ValidationError(
                _(
                    "We can't accept signatures from this email provider. "
                    "Please use another address."
                )
            )
        return email

    def clean_category(self):
        # A person who leaves the question out prefers not to say.
        return self.cleaned_data["category"] or Category.PREFER_NOT_TO_SAY

    def clean(self):
        cleaned = super().clean()
        if self.seconds_open is None:
            raise forms.ValidationError(
                _(
                    "This form was open for more than a day, or it was changed on the way. "
                    "Please check your details and send it again."
                ),
                code="stamp",
            )
        if self.is_organisation:
            cleaned["display"] = Display.FULL
        return cleaned

    @property
    def is_organisation(self) -> bool:
        return self.signer_kind == SignatoryKind.ORGANISATION

    def error_links(self) -> list[tuple[str, str]]:
        """``(id, message)`` for each field error, in the order of the form: the id is the
        input's own (a radio group's first radio), which a link can move focus to."""
        links = []
        for field in self.visible_fields():
            target = field.subwidgets[0].id_for_label if field.use_fieldset else field.id_for_label
            links.extend((target, error) for error in field.errors)
        return links

    def stamp_used_for_another_address(self) -> bool:
        """Mark this valid form's stamp used by its address; True when another address
        used it first (``signatories.abuse``)."""
        return stamp_used_for_another_address(
            self.stamp, email_normalised=normalise_email(self.cleaned_data["email"])
        )

    @property
    def is_honeypot_filled(self) -> bool:
        return bool(self.cleaned_data.get("homepage"))

    def signer_details(self) -> SignerDetails:
        data = self.cleaned_data
        return SignerDetails(
            kind=data["kind"],
            name=data["name"],
            email=data["email"],
            category=data["category"],
            country=data.get("country") or "",
            website=data.get("website") or "",
            role=normalise_name(data.get("role") or ""),
            affiliation=normalise_name(data.get("affiliation") or ""),
            display=data["display"],
            statement=data.get("statement", "").strip(),
            follow_up=data.get("follow_up", False),
        )
