import django_filters

from letters.models import Letter, Recipient


class LetterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in Letter.PUBLIC_STATUSES],
        empty_label="Open or closed",
        label="Status",
    )
    recipient = django_filters.ModelChoiceFilter(
        field_name="addressees__recipient",
        queryset=Recipient.objects.public(),
        to_field_name="slug",
        empty_label="Any recipient",
        label="Addressed to",
    )

    class Meta:
        model = Letter
        fields = ["status", "recipient"]
