from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from signatories.exports import PRIVATE_COLUMNS, csv_lines, csv_response, private_rows
from signatories.forms import SignatoryForm, SignatureForm
from signatories.models import Signatory, Signature, public_signature_count

INLINE_SIGNATURES_SHOWN = 30


class RecentSignaturesFormSet(BaseInlineFormSet):
    """Only the most recent signatures, so a letter with thousands still opens; the
    rest are one link away in the filtered signature list."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            recent = super().get_queryset().order_by("-pk")
            pks = list(recent.values_list("pk", flat=True)[:INLINE_SIGNATURES_SHOWN])
            self._queryset = recent.filter(pk__in=pks)
        return self._queryset


class SignatureInline(admin.TabularInline):
    model = Signature
    form = SignatureForm
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
class SignatoryAdmin(admin.ModelAdmin):
    form = SignatoryForm
    list_display = ["name", "kind", "category", "country", "published_signatures"]
    list_filter = ["kind", "category", "country"]
    search_fields = ["name", "email", "affiliation"]
    # Meta.ordering is dropped once get_queryset() annotates a Count (GROUP BY), and the
    # autocomplete pages through that queryset: unordered, its pages may repeat or skip rows.
    ordering = ["name", "pk"]
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

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_published=public_signature_count())

    @admin.display(description="Published signatures", ordering="_published")
    def published_signatures(self, obj):
        return obj._published

    def view_on_site(self, obj):
        return None


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    form = SignatureForm
    list_display = [
        "signatory",
        "shown_as",
        "letter",
        "kind",
        "category",
        "country",
        "status",
        "featured",
        "source",
        "signed_on",
    ]
    list_filter = [
        "status",
        "display",
        "featured",
        "source",
        "signatory__kind",
        "signatory__category",
        "letter",
    ]
    list_select_related = ["signatory", "letter"]
    search_fields = ["signatory__name", "signatory__email", "statement"]
    autocomplete_fields = ["letter", "signatory"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["publish", "hide", "export_private_csv"]
    show_full_result_count = False
    list_per_page = 100

    @admin.display(description="Shown publicly as")
    def shown_as(self, obj):
        return obj.public_name or "Anonymous"

    @admin.display(description="Kind", ordering="signatory__kind")
    def kind(self, obj):
        return obj.signatory.get_kind_display()

    @admin.display(description="Category", ordering="signatory__category")
    def category(self, obj):
        return obj.signatory.get_category_display()

    @admin.display(description="Country", ordering="signatory__country")
    def country(self, obj):
        return obj.signatory.country.name or "—"

    @admin.action(description="Publish selected signatures", permissions=["change"])
    def publish(self, request, queryset):
        count = queryset.update(status=Signature.Status.PUBLISHED, updated_at=timezone.now())
        self.message_user(request, f"Published {count} signature(s).", messages.SUCCESS)

    @admin.action(description="Hide selected signatures", permissions=["change"])
    def hide(self, request, queryset):
        count = queryset.update(status=Signature.Status.HIDDEN, updated_at=timezone.now())
        self.message_user(request, f"Hid {count} signature(s).", messages.SUCCESS)

    @admin.action(
        description="Export selected signatures with private fields (CSV)",
        permissions=["export_private"],
    )
    def export_private_csv(self, request, queryset):
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(
            csv_lines(PRIVATE_COLUMNS, private_rows(queryset.order_by("letter", "pk"))),
            filename=f"signatures-private-{stamp}.csv",
        )

    def has_export_private_permission(self, request):
        return request.user.has_perm("signatories.export_private_signatures")


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
    return format_html('<a href="{}">All signatures of this letter</a> ({})', url, summary)
