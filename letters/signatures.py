"""The signatures of letters, as the letters app reaches them: the one module of ``letters``
that imports ``signatories``.

Signatures belong to letters, so ``signatories`` depends on ``letters`` (its models import
``letters.models``, never the reverse). The letter's pages and its admin still show and
manage signatures; what they use of ``signatories`` is named here, so the dependency back
is one short list a reader can see whole (``tests/test_architecture.py`` holds it so).
"""

from signatories.admin import (
    ChangelistCountsMixin,
    LetterColumnMixin,
    LetterImportMixin,
    SignatureInline,
    SignatureServicesMixin,
    letter_signatures_link,
)
from signatories.counts import count_signatures, tally_rows
from signatories.delivered_admin import FreezesDeliveredListMixin
from signatories.filters import SignatureFilter
from signatories.models import VERIFICATION_EXPLANATIONS, ListMark, Signature
from signatories.paging import page_of
from signatories.stats import Totals
from signatories.tallies import tallied, tally_of
from signatories.tasks import announce_response, followers_of

__all__ = [
    # The letter's page and its embed: the public list, its filters, pages and totals.
    "VERIFICATION_EXPLANATIONS",
    "ListMark",
    "Signature",
    "SignatureFilter",
    "Totals",
    "page_of",
    "tallied",
    "tally_of",
    "tally_rows",
    # The letter admin: its signatures, imports, delivered list, counts and follow-ups.
    "ChangelistCountsMixin",
    "FreezesDeliveredListMixin",
    "LetterColumnMixin",
    "LetterImportMixin",
    "SignatureInline",
    "SignatureServicesMixin",
    "announce_response",
    "count_signatures",
    "followers_of",
    "letter_signatures_link",
]
