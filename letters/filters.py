import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from letters.models import Letter, Recipient


class LetterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in Letter.PUBLIC_STATUSES],
        empty_label=pgettext_lazy("letter status", "Open or closed"),
        label=pgettext_lazy("letter status", "Status"),
    )
    recipient = django_filters.ModelChoiceFilter(
        field_name="addressees__recipient",
        queryset=Recipient.objects.public(),
        to_field_name="slug",
        empty_label=_("Any recipient"),
        label=_("Addressed to"),
    )

    class Meta:
        model = Letter
        fields = ["status", "recipient"]
