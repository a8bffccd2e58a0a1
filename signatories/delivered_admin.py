"""The delivered list in the admin: frozen from the letter (its delivery date, or an
action), then read-only. Nobody adds, changes or deletes a frozen list or its rows here:
``verify_delivered`` finds a change made any other way."""

from django.contrib import admin, messages
from django.utils.html import format_html

from signatories.delivered import FreezeError, freeze_delivered_list
from signatories.models import DeliveredList, Signature


class FreezesDeliveredListMixin:
    """For the letter admin: freeze the delivered list when staff first record a delivery
    date (if anyone has signed yet), or with the action. (What an edit of the letter's
    signatures took back is redacted by the service that saved it: ``editing``.)"""

    @admin.action(description="Freeze the delivered list", permissions=["change"])
    def freeze_delivered_list(self, request, queryset):
        for letter in queryset.order_by("pk"):
            self._freeze(request, letter)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        letter = form.instance
        if "delivered_on" not in form.changed_data or letter.delivered_on is None:
            return
        if DeliveredList.objects.filter(letter=letter).exists():
            return
        if not Signature.objects.public_on(letter).exists():
            self.message_user(
                request,
                "The delivered list was not frozen: nobody is listed yet. Once the list is "
                "complete, use the action “Freeze the delivered list”.",
                messages.WARNING,
            )
            return
        self._freeze(request, letter)

    def _freeze(self, request, letter) -> None:
        try:
            delivered = freeze_delivered_list(letter=letter, by=request.user)
        except FreezeError as error:
            self.message_user(request, f"“{letter}”: {error}", messages.ERROR)
            return
        self.message_user(
            request,
            format_html(
                "The delivered list of “{}” is frozen: {} signatures, digest {}. "
                '<a href="{}">See its public page</a>.',
                letter,
                delivered.rows,
                delivered.root,
                delivered.get_absolute_url(),
            ),
            messages.SUCCESS,
        )


@admin.register(DeliveredList)
class DeliveredListAdmin(admin.ModelAdmin):
    list_display = ["letter", "frozen_at", "delivered_on", "rows", "redacted", "root_start"]
    list_select_related = ["letter"]
    search_fields = ["letter__title", "root"]
    fields = [
        "letter",
        "frozen_at",
        "delivered_on",
        "rows",
        "redacted",
        "root",
        "format_version",
        "frozen_by",
    ]
    readonly_fields = fields

    @admin.display(description="Root (start)")
    def root_start(self, obj):
        # The whole digest is on the list's page; 64 characters would push the list wide.
        return f"{obj.root[:16]}…"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return obj.get_absolute_url() if obj.letter.is_public else None
