from django import forms
from django.utils.text import slugify

from signatories.importers import MAX_FILE_BYTES
from signatories.models import (
    INDIVIDUAL_CATEGORIES,
    ORGANISATION_CATEGORIES,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
    normalise_name,
)


def unique_signatory_slug(name: str, *, exclude_pk: int | None = None) -> str:
    """A free slug for ``name``: ``barnardos``, then ``barnardos-2``, ``barnardos-3``…"""
    base = (slugify(name) or "signatory")[:200]
    taken = set(
        Signatory.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


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
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "Leave empty to make one from the name."

    def clean_name(self):
        return normalise_name(self.cleaned_data["name"])

    def clean(self):
        cleaned = super().clean()
        kind, category = cleaned.get("kind"), cleaned.get("category")
        allowed = {
            SignatoryKind.INDIVIDUAL: INDIVIDUAL_CATEGORIES,
            SignatoryKind.ORGANISATION: ORGANISATION_CATEGORIES,
        }.get(kind, [])
        if kind and category and category not in allowed:
            labels = ", ".join(str(c.label).lower() for c in allowed)
            self.add_error("category", f"For {kind}s choose one of: {labels}.")
        if cleaned.get("name") and not cleaned.get("slug"):
            cleaned["slug"] = unique_signatory_slug(cleaned["name"], exclude_pk=self.instance.pk)
        return cleaned


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

    def clean(self):
        cleaned = super().clean()
        signatory = cleaned.get("signatory")
        if signatory and signatory.is_organisation and cleaned.get("display") != Display.FULL:
            self.add_error("display", "Organisations sign by their full name.")
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


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (comma, semicolon or tab separated, any common encoding) or XLSX.",
    )
    publish = forms.BooleanField(
        required=False,
        help_text="Publish the new signatures at once. Leave unticked to vet them first.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{MAX_FILE_BYTES // 1_048_576} MB. Split it, or use the import_signatures command."
            )
        return upload
