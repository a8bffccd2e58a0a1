"""Signers' personal data in the admin: who may see it, and a record of each time they do.

What counts (``SIGNER_PERSONAL_FIELDS``): what identifies, reaches or locates a signer
beyond what they chose to publish — the email they gave (and its normalised form), the IP
address, the consent record (when they agreed, and to which wording: with the IP it places
them at a time and a network) — and what staff wrote about them: why a signature waits for
a moderator, why it was rejected, notes. Names, display, statement, status, verification
and dates stay visible to every role: each role's work needs them, and what a name may
show publicly is decided by ``display``, not here.

Only staff with ``signatories.view_signer_personal_data`` (the Moderators group, and
superusers) see these fields, search and filter by them, or see them in the change
history; each admin page that shows them to someone is recorded (``PersonalDataView``).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from signatories.models import PersonalDataView

SIGNER_PERSONAL_DATA_PERMISSION = "signatories.view_signer_personal_data"

SIGNER_PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "signature": (
        "email",
        "email_normalised",
        "ip_address",
        "consent_text",
        "consented_at",
        "moderation_reason",
        "rejection_reason",
        "notes",
        # A mail server's refusal, which may quote the address.
        "email_error",
    ),
    "signatory": ("email", "notes"),
}


def may_see_personal_data(user: AbstractBaseUser) -> bool:
    return user.has_perm(SIGNER_PERSONAL_DATA_PERMISSION)


def personal_fields_of(model: type[models.Model]) -> tuple[str, ...]:
    return SIGNER_PERSONAL_FIELDS.get(model._meta.model_name, ())


def holds_personal_data(obj: models.Model) -> bool:
    return any(getattr(obj, name, None) for name in personal_fields_of(type(obj)))


def is_personal_lookup(model: type[models.Model], lookup: str) -> bool:
    """Whether a search field or filter (``email``, ``^signatory__email``,
    ``signatures__ip_address__startswith``) reads a signer's personal data, following
    relations from ``model``."""
    opts = model._meta
    for part in lookup.lstrip("^=@").split(LOOKUP_SEP):
        if part in SIGNER_PERSONAL_FIELDS.get(opts.model_name, ()):
            return True
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return False
        if not field.is_relation or field.related_model is None:
            return False
        opts = field.related_model._meta
    return False


def record_personal_data_view(
    *, user: AbstractBaseUser, obj: models.Model, page: PersonalDataView.Page
) -> PersonalDataView:
    """Log that ``user`` was shown ``obj``'s personal data on an admin ``page``."""
    return PersonalDataView.objects.create(
        user=user, model=obj._meta.model_name, object_id=obj.pk, page=page
    )
