"""The demo letter: the September 2023 survivors' letter to Meta, Snap, Signal and Apple.

Facts only, from ``shared/seed-letter.md``; the title, summary and body are our own words,
and the letter is marked as summarised. No date, link, quotation or signatory beyond those
facts is recorded: the publication date is known to the month, from press coverage.
"""

import datetime

from django.db import transaction

from letters.models import Addressee, Letter, LetterTranslation, Recipient
from signatories.delivered import freeze_delivered_list
from signatories.editing import update_signatory
from signatories.models import (
    Category,
    DeliveredList,
    Display,
    Signatory,
    SignatoryKind,
    Signature,
)
from signatories.tallies import refresh_tally

LETTER_SLUG = "survivors-child-safety-risk-assessment-2023"

LETTER = {
    "title": "Survivors ask tech leaders to involve them in child-safety risk assessments",
    "summary": (
        "More than 100 survivors of sexual abuse, families, and child-safety experts and "
        "organisations from 24 countries asked the heads of Meta, Snap, Signal and Apple to "
        "engage with survivors when judging the child-safety risks of their products."
    ),
    "body": (
        "The signatories, writing while the UK's Online Safety Bill was in its final stages "
        "in Parliament, ask the companies to **engage with survivors** whenever they assess "
        "the risks that new and existing products pose to children.\n\n"
        "They ask that this include **end-to-end encrypted messaging**. In their view, "
        "encryption rolled out without safeguards lets offenders contact and groom children "
        "where no one can see it, and those who have lived through such abuse should be "
        "heard before such decisions are made.\n\n"
        "The coalition brings together survivors, their families, and child-protection "
        "charities, networks and advocates from 24 countries."
    ),
    "body_is_summary": True,
    "status": Letter.Status.OPEN,
    # So that the sign form can be tried on the demo (make run).
    "accepts_public_signatures": True,
    "published_on": datetime.date(2023, 9, 1),
    "published_on_precision": Letter.DatePrecision.MONTH,
    "language": "en",
    "reported_signatories": 100,
    "reported_signatories_is_minimum": True,
    "reported_countries": 24,
    "reported_figures_source": "press coverage, September 2023",
    "staff_notes": (
        "Only the signatories named in press coverage are recorded. Survivors who campaign "
        "with the NSPCC signed; the NSPCC's own role (signatory or organiser) was not stated, "
        "so it is not recorded as either. The NSPCC's chief executive, Sir Peter Wanless, "
        "commented publicly; he is not recorded as a signatory. Frida made a public "
        "statement with the letter; its text is not recorded here."
    ),
}

ADDRESSEES = [
    ("Meta", "meta", "Mark Zuckerberg", "Chief Executive Officer"),
    ("Snap", "snap", "Evan Spiegel", "Chief Executive Officer"),
    ("Signal", "signal", "Meredith Whittaker", "President"),
    ("Apple", "apple", "Tim Cook", "Chief Executive Officer"),
]

ORG = SignatoryKind.ORGANISATION
SIGNATORIES = [
    # name, slug, kind, category, country, description, display, private notes
    (
        "Phoenix 11",
        "phoenix-11",
        ORG,
        Category.NETWORK,
        "",
        "A collective of survivors whose abuse was recorded and shared online.",
        Display.FULL,
        "",
    ),
    (
        "The Alliance to Counter Crime Online",
        "alliance-to-counter-crime-online",
        ORG,
        Category.NETWORK,
        "US",
        "",
        Display.FULL,
        "Advocacy coalition.",
    ),
    ("Barnardo's", "barnardos", ORG, Category.CHARITY, "GB", "", Display.FULL, ""),
    (
        "The Canadian Centre for Child Protection",
        "canadian-centre-for-child-protection",
        ORG,
        Category.CHARITY,
        "CA",
        "",
        Display.FULL,
        "",
    ),
    (
        "Collective Shout",
        "collective-shout",
        ORG,
        Category.ADVOCACY_GROUP,
        "AU",
        "",
        Display.FULL,
        "",
    ),
    (
        "ECPAT International",
        "ecpat-international",
        ORG,
        Category.NETWORK,
        "TH",
        "",
        Display.FULL,
        "NGO network.",
    ),
    (
        "Eurochild",
        "eurochild",
        ORG,
        Category.NETWORK,
        "BE",
        "",
        Display.FULL,
        "NGO network.",
    ),
    (
        "The Network for Children's Rights",
        "network-for-childrens-rights",
        ORG,
        Category.NGO,
        "GR",
        "",
        Display.FULL,
        "",
    ),
    (
        "Frida",
        "demo-survivor-frida",
        SignatoryKind.INDIVIDUAL,
        Category.SURVIVOR,
        "",
        "",
        Display.FIRST_NAME,
        "Named by first name only in the coverage; abused via WhatsApp at 13, now in her "
        "early 20s; country not reported. Made a public statement with the letter.",
    ),
]


# Our summary (above) in French and German, translated for this site and marked so on the
# page; the letter's own text was not published in these languages, so none is invented.
SUMMARY_TRANSLATIONS = {
    "fr": (
        "Plus de 100 personnes ayant survécu à des violences sexuelles, des familles, ainsi "
        "que des spécialistes et des organisations de protection de l'enfance de 24 pays ont "
        "demandé aux dirigeants de Meta, Snap, Signal et Apple de consulter les personnes "
        "survivantes lorsqu'ils évaluent les risques de leurs produits pour la sécurité des "
        "enfants."
    ),
    "de": (
        "Mehr als 100 Überlebende sexuellen Missbrauchs, Familien sowie Fachleute und "
        "Organisationen für Kinderschutz aus 24 Ländern haben die Chefs von Meta, Snap, Signal "
        "und Apple aufgefordert, Überlebende einzubeziehen, wenn sie die Risiken ihrer "
        "Produkte für die Sicherheit von Kindern bewerten."
    ),
}


@transaction.atomic
def load_demo_letter() -> Letter:
    """Create or update the demo letter and everything on it; running it twice changes nothing."""
    letter, _ = Letter.objects.update_or_create(slug=LETTER_SLUG, defaults=LETTER)
    for language, summary in SUMMARY_TRANSLATIONS.items():
        LetterTranslation.objects.update_or_create(
            letter=letter,
            language=language,
            defaults={"summary": summary, "made_by": LetterTranslation.Source.SITE},
        )
    for position, (name, slug, person, title) in enumerate(ADDRESSEES):
        recipient, _ = Recipient.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "kind": Recipient.Kind.COMPANY, "country": "US"},
        )
        Addressee.objects.update_or_create(
            letter=letter,
            recipient=recipient,
            defaults={
                "person_name": person,
                "person_title": title,
                "position": position,
            },
            create_defaults={
                "person_name": person,
                "person_title": title,
                "position": position,
                "response_status": Addressee.ResponseStatus.AWAITING,
            },
        )
    for name, slug, kind, category, country, description, display, notes in SIGNATORIES:
        fields = {
            "name": name,
            "kind": kind,
            "category": category,
            "country": country,
            "description": description,
            "notes": notes,
        }
        signatory = Signatory.objects.filter(slug=slug).first()
        if signatory is None:
            signatory = Signatory.objects.create(slug=slug, **fields)
        else:  # a rerun: its signatures follow a change of name (list keys, counts)
            update_signatory(signatory=signatory, **fields)
        # How a name is shown is the signer's choice once staff have recorded it: a rerun
        # never turns an anonymised signature back into a named one.
        Signature.objects.get_or_create(
            letter=letter,
            signatory=signatory,
            defaults={
                "display": display,
                "status": Signature.Status.PUBLISHED,
                "source": Signature.Source.ADMIN,
            },
        )
    refresh_tally(letter.pk)
    # The letter was delivered in September 2023 (its day was not reported): the list
    # recorded here is what is frozen, once; a rerun keeps the list first frozen.
    if not DeliveredList.objects.filter(letter=letter).exists():
        freeze_delivered_list(letter=letter)
    return letter
