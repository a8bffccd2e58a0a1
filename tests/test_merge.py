"""Merging signatories entered twice ("Barnardo’s" and "Barnardo's") through the admin's
"Merge selected signatories…" action: signatures move to the one kept, no letter is
signed twice, counts follow, history says so, the old public address leads to the kept
page in one hop, and a name chosen to be hidden stays hidden."""

import html
import threading

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_tasks_db.models import DBTaskResult

from letters.models import Letter
from signatories.models import (
    Category,
    Display,
    LetterTally,
    Signatory,
    SignatoryKind,
    SignatoryRedirect,
    Signature,
    list_sort_key,
)
from signatories.signing import CONSENT_TEXT
from signatories.tallies import refresh_letter_tally
from tests.factories import make_letter, make_person, make_signatory, make_signature
from tests.helpers import shown_count, shown_names

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/signatories/signatory/"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="unused", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def merger() -> User:
    return staff("merger", "view_signatory", "change_signatory", "delete_signatory")


@pytest.fixture
def merger_client(merger) -> Client:
    client = Client()
    client.force_login(merger)
    return client


def ask_to_merge(client: Client, signatories, **extra):
    """The action chosen on the changelist with these rows ticked: the confirmation page,
    or a refusal."""
    return client.post(
        CHANGELIST,
        {
            "action": "merge_selected",
            ACTION_CHECKBOX_NAME: [signatory.pk for signatory in signatories],
            **extra,
        },
        follow=True,
    )


def merge(client: Client, signatories, *, keep):
    """The confirmation page's "Merge" button, with ``keep`` chosen."""
    keep_value = keep.pk if isinstance(keep, Signatory) else keep
    return ask_to_merge(client, signatories, post="yes", keep=keep_value)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def org(name: str, **fields) -> Signatory:
    return make_signatory(name=name, **{"slug": slugify(name), **fields})


@pytest.fixture
def barnardos():
    """One charity entered twice, and three letters: the curly one signed the first two,
    the straight one the last two."""
    curly = org("Barnardo’s", slug="barnardos-curly")
    straight = org("Barnardo's", slug="barnardos")
    first, shared, last = (
        make_letter(title=f"{word} letter") for word in ("First", "Shared", "Last")
    )
    make_signature(first, curly)
    make_signature(shared, curly, statement="Children first.")
    make_signature(shared, straight)
    make_signature(last, straight)
    return curly, straight, (first, shared, last)


def test_the_confirmation_page_lists_the_selected_their_signatures_and_the_shared_letters(
    merger_client, barnardos
):
    curly, straight, (_first, shared, _last) = barnardos

    response = ask_to_merge(merger_client, [curly, straight])

    assert response.status_code == 200
    text = page_text(response)
    assert "Their names differ" not in text  # organisations: only people are warned
    assert "Merge signatories" in text
    assert f'name="keep" value="{curly.pk}"' in text
    assert f'name="keep" value="{straight.pk}"' in text
    assert "Barnardo’s" in text and "Barnardo's" in text
    assert "2 (2)" in text  # each has two signatures, both published
    duplicates = text.split("Letters on which more than one of them signed")[1]
    assert shared.title in duplicates
    assert "with a statement: “Children first.”" in duplicates
    assert "First letter" not in duplicates
    assert Signatory.objects.filter(pk__in=[curly.pk, straight.pk]).count() == 2


def test_merging_moves_every_signature_to_the_kept_signatory_and_deletes_the_other(
    merger_client, barnardos
):
    curly, straight, letters = barnardos

    response = merge(merger_client, [curly, straight], keep=straight)

    assert response.redirect_chain[-1][0] == reverse(
        "admin:signatories_signatory_change", args=[straight.pk]
    )
    assert (
        "Merged 1 signatory into “Barnardo's”: 1 signature moved. "
        "1 old public address now leads to its page."
    ) in page_text(response)
    assert not Signatory.objects.filter(pk=curly.pk).exists()
    signed = Signature.objects.filter(signatory=straight).values_list("letter__title", flat=True)
    assert sorted(signed) == sorted(letter.title for letter in letters)


def test_no_letter_is_signed_twice_and_the_kept_signatorys_own_signature_stays(
    merger_client, merger, barnardos
):
    curly, straight, (_first, shared, _last) = barnardos
    kept_signature = Signature.objects.get(letter=shared, signatory=straight)
    dropped = Signature.objects.get(letter=shared, signatory=curly)
    Signature.objects.filter(pk=dropped.pk).update(
        verification=Signature.Verification.STAFF_VETTED, verified_at=timezone.now()
    )

    response = merge(merger_client, [curly, straight], keep=straight)

    assert list(Signature.objects.filter(letter=shared)) == [kept_signature]
    # The dropped one is named, with what was lost with it.
    assert (
        "1 duplicate signature was deleted, on a letter that another of them had signed too: "
        "“Shared letter” (from “Barnardo’s”: published, checked by staff, with a statement)."
    ) in page_text(response)
    gone = Signature.history.filter(id=dropped.pk).latest()
    assert gone.history_type == "-"
    assert gone.history_user == merger
    assert gone.history_change_reason == (
        f"Duplicate dropped merging #{curly.pk} into #{straight.pk}; "
        f"kept signature #{kept_signature.pk}"
    )


def test_where_only_merged_away_signatories_signed_a_letter_their_best_signature_stays(
    merger_client,
):
    keep, pending_one, published_one = (org(f"Merge Org {n}") for n in range(3))
    letter = make_letter()
    make_signature(letter, pending_one, status=Signature.Status.PENDING)
    best = make_signature(letter, published_one)

    merge(merger_client, [keep, pending_one, published_one], keep=keep)

    assert list(Signature.objects.filter(letter=letter).values_list("pk", "signatory")) == [
        (best.pk, keep.pk)
    ]


def test_counts_on_the_letter_page_are_right_at_once_after_merging(
    merger_client, client, barnardos
):
    curly, straight, (first, shared, last) = barnardos
    assert [shown_count(client, letter) for letter in (first, shared, last)] == [1, 2, 1]

    merge(merger_client, [curly, straight], keep=straight)

    assert [shown_count(client, letter) for letter in (first, shared, last)] == [1, 1, 1]
    count = client.get(reverse("signatories:letter_count", args=[shared.slug])).json()
    assert (count["signatures"], count["organisations"]) == (1, 1)


def test_with_the_task_worker_each_changed_letter_is_recounted_by_its_queued_task(
    merger_client, client, settings
):
    """As in production: the merge queues a recount of each letter it changed, and the
    counts are right once the worker runs it."""
    keep = org("Kept Charity", category=Category.CHARITY, country="GB")
    other = org("Other Entry", category=Category.NGO, country="FR")
    shared, untouched = make_letter(), make_letter()
    make_signature(shared, keep)
    make_signature(shared, other)
    make_signature(untouched, keep)
    settings.TASKS = DATABASE_TASKS

    merge(merger_client, [keep, other], keep=keep)

    queued = DBTaskResult.objects.filter(task_path=refresh_letter_tally.module_path)
    assert [task.args_kwargs["args"] for task in queued] == [[shared.pk]]
    assert shown_count(client, shared) == 2  # until the worker recounts
    refresh_letter_tally.call(shared.pk)  # what the worker does when the delay is up
    assert shown_count(client, shared) == 1
    tally = LetterTally.objects.get(letter=shared)
    assert (tally.countries, [row[1:3] for row in tally.breakdown]) == (1, [["charity", "GB"]])


def test_history_records_the_merge_with_its_reason_and_who_did_it(merger_client, merger, barnardos):
    curly, straight, (first, _shared, _last) = barnardos
    moved = Signature.objects.get(letter=first, signatory=curly)

    merge(merger_client, [curly, straight], keep=straight)

    latest = straight.history.latest()
    assert latest.history_user == merger
    assert latest.history_change_reason == (
        f"Merged 1 signatory into this one (1 duplicate signature dropped): #{curly.pk} Barnardo’s"
    )
    deleted = Signatory.history.filter(id=curly.pk).latest()
    assert (deleted.history_type, deleted.history_change_reason) == (
        "-",
        f"Merged into #{straight.pk} Barnardo's",
    )
    moved_history = moved.history.latest()
    assert moved_history.signatory_id == straight.pk
    assert moved_history.history_change_reason == f"Moved from #{curly.pk} Barnardo’s (merged)"
    page = merger_client.get(reverse("admin:signatories_signatory_history", args=[straight.pk]))
    assert "Merged 1 signatory into this one" in page_text(page)


def test_the_old_address_redirects_permanently_to_the_kept_page_which_lists_the_merged_letters(
    merger_client, client, barnardos
):
    curly, straight, letters = barnardos
    old_url = curly.get_absolute_url()

    merge(merger_client, [curly, straight], keep=straight)

    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == straight.get_absolute_url()
    kept_page = page_text(client.get(straight.get_absolute_url()))
    assert all(letter.title in kept_page for letter in letters)


def test_a_chain_of_merges_still_lands_on_the_last_kept_page_in_one_hop(merger_client, client):
    first, second, third = (org(f"Chain Org {n}") for n in "ABC")
    for signatory in (first, second, third):
        make_signature(make_letter(), signatory)

    merge(merger_client, [first, second], keep=second)
    merge(merger_client, [second, third], keep=third)

    for old in (first, second):
        response = client.get(old.get_absolute_url())
        assert (response.status_code, response["Location"]) == (301, third.get_absolute_url())
        assert client.get(response["Location"]).status_code == 200
    assert set(SignatoryRedirect.objects.values_list("old_slug", "signatory")) == {
        (first.slug, third.pk),
        (second.slug, third.pk),
    }


def test_merging_back_into_a_signatory_whose_old_address_redirects_makes_no_loop(
    merger_client, client
):
    """A, merged into B, leaves a redirect from A's slug; a new signatory later takes
    that slug and B is merged into it: its address is its own page, not a redirect."""
    first, second = org("Loop Org A"), org("Loop Org B")
    for signatory in (first, second):
        make_signature(make_letter(), signatory)
    merge(merger_client, [first, second], keep=second)
    newcomer = org("Loop Org A New", slug=first.slug)
    make_signature(make_letter(), newcomer)

    merge(merger_client, [newcomer, second], keep=newcomer)

    assert client.get(newcomer.get_absolute_url()).status_code == 200
    assert client.get(second.get_absolute_url())["Location"] == newcomer.get_absolute_url()
    assert not SignatoryRedirect.objects.filter(old_slug=newcomer.slug).exists()


def test_sort_keys_follow_the_kept_name(merger_client, client):
    letter = make_letter()
    keep = org("Zebra Trust")
    other = org("The Aardvark Trust")
    make_signature(letter, other)
    make_signature(letter, org("Middle Trust"))
    make_signature(make_letter(), keep)
    assert shown_names(client, letter)[0] == "The Aardvark Trust"

    merge(merger_client, [keep, other], keep=keep)

    assert shown_names(client, letter) == ["Middle Trust", "Zebra Trust"]
    signature = Signature.objects.get(letter=letter, signatory=keep)
    assert (signature.list_rank, signature.sort_name) == list_sort_key(
        kind=keep.kind, display=signature.display, name=keep.name
    )


HIDDEN_SURNAME = "Quillfeather"


def public_texts(client: Client, urls: list[str]) -> dict[str, str]:
    """Every public page that shows signatures, and these other ``urls``, as a visitor
    reads them (redirects not followed: their Location header is read too)."""
    urls = [
        *urls,
        reverse("letters:home"),
        reverse("letters:list"),
        reverse("signatories:country_list"),
    ]
    for letter in Letter.objects.order_by("pk"):
        urls += [
            letter.get_absolute_url(),
            reverse("signatories:letter_csv", args=[letter.slug]),
            reverse("signatories:letter_count", args=[letter.slug]),
        ]
    codes = set(Signatory.objects.exclude(country="").values_list("country", flat=True))
    urls += [reverse("signatories:country_detail", args=[code]) for code in sorted(codes)]
    urls += [signatory.get_absolute_url() for signatory in Signatory.objects.order_by("pk")]
    texts = {}
    for url in urls:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts[url] = f"{response.status_code} {response.get('Location', '')} {body.decode()}"
    return texts


def test_merging_people_never_shows_a_name_they_chose_to_hide(merger_client, client):
    """Frida signed twice, never by full name: once by first name, once anonymously (an
    import made her slug from her full name), and later by initials from the sign form."""
    first_name_letter, anonymous_letter, initials_letter = (make_letter() for _ in range(3))
    imported = make_person(f"Frida {HIDDEN_SURNAME}", slug=slugify(f"Frida {HIDDEN_SURNAME}"))
    make_signature(first_name_letter, imported, display=Display.FIRST_NAME)
    make_signature(anonymous_letter, imported, display=Display.ANONYMOUS)
    from_form = make_person(f"Frida {HIDDEN_SURNAME}", slug="signer-5e1f2a")
    make_signature(initials_letter, from_form, display=Display.INITIALS)
    old_url = imported.get_absolute_url()

    merge(merger_client, [imported, from_form], keep=from_form)

    pages = public_texts(client, [old_url])
    assert pages[old_url].startswith("404 ")  # never public, so no redirect from it
    leaking = sorted(url for url, text in pages.items() if HIDDEN_SURNAME.lower() in text.lower())
    assert leaking == []
    assert shown_names(client, first_name_letter) == ["Frida"]
    assert shown_names(client, initials_letter) == ["F. Q."]
    assert Signature.objects.filter(signatory=from_form).count() == 3
    assert not SignatoryRedirect.objects.exists()


def test_only_an_address_that_was_public_redirects(merger_client, client):
    """The merged-away person had a page (named in full on one letter): its address
    redirects. The kept one had none until now: its page is public from this merge on."""
    named_letter, anonymous_letter = make_letter(), make_letter()
    named = make_person("Ada Named", slug="ada-named")
    make_signature(named_letter, named, display=Display.FULL)
    unnamed = make_person("Ada Named", slug="signer-0a1b2c")
    make_signature(anonymous_letter, unnamed, display=Display.ANONYMOUS)
    assert client.get(unnamed.get_absolute_url()).status_code == 404

    merge(merger_client, [named, unnamed], keep=unnamed)

    response = client.get("/signatories/ada-named/")
    assert (response.status_code, response["Location"]) == (301, unnamed.get_absolute_url())
    kept_page = page_text(client.get(unnamed.get_absolute_url()))
    assert named_letter.title in kept_page
    assert anonymous_letter.title not in kept_page  # signed anonymously: never linked


def test_a_redirect_is_not_followed_once_the_kept_page_is_no_longer_public(merger_client, client):
    """The kept person later withdraws the one signature that named them in full: their
    old address must not go on revealing the kept page's address (which carries a name)."""
    first = make_person("Bea Withdrawn", slug="bea-withdrawn")
    make_signature(make_letter(), first)
    kept = make_person("Bea Withdrawn", slug="bea-withdrawn-2")
    make_signature(make_letter(), kept)
    merge(merger_client, [first, kept], keep=kept)
    assert client.get(first.get_absolute_url()).status_code == 301

    for signature in Signature.objects.filter(signatory=kept):
        signature.status = Signature.Status.WITHDRAWN
        signature.save()

    response = client.get(first.get_absolute_url())
    assert response.status_code == 404
    assert "bea-withdrawn-2" not in response.get("Location", "") + response.content.decode()


@pytest.mark.parametrize("missing", ["delete_signatory", "change_signatory"])
def test_a_user_without_change_and_delete_permission_cannot_merge(client, barnardos, missing):
    curly, straight, _letters = barnardos
    granted = {"view_signatory", "change_signatory", "delete_signatory"} - {missing}
    client.force_login(staff("editor", *granted))

    changelist = client.get(CHANGELIST)
    response = merge(client, [curly, straight], keep=straight)

    assert changelist.status_code == 200
    assert "merge_selected" not in changelist.content.decode()
    assert response.status_code == 200
    assert "Merged" not in page_text(response)
    assert Signatory.objects.filter(pk__in=[curly.pk, straight.pk]).count() == 2
    assert Signature.objects.filter(letter__title="Shared letter").count() == 2
    assert not SignatoryRedirect.objects.exists()


def test_merging_fewer_than_two_is_refused_with_a_message(merger_client, barnardos):
    curly, _straight, _letters = barnardos

    response = merge(merger_client, [curly], keep=curly)

    assert response.status_code == 200
    assert "Select two or more signatories to merge." in page_text(response)
    assert Signatory.objects.filter(pk=curly.pk).exists()


def test_an_organisation_and_a_person_are_not_merged(merger_client):
    organisation = org("Mixed Kind Org")
    person = make_person("Mixed Kind Person")

    response = merge(merger_client, [organisation, person], keep=organisation)

    assert "Organisations and individuals can't be merged into one another" in page_text(response)
    assert Signatory.objects.filter(pk__in=[organisation.pk, person.pk]).count() == 2


@pytest.mark.parametrize("keep", ["not-a-number", "", "unselected"])
def test_keeping_a_signatory_that_was_not_selected_shows_the_page_again(
    merger_client, barnardos, keep
):
    curly, straight, _letters = barnardos
    unselected = org("Unselected Org")
    value = unselected.pk if keep == "unselected" else keep

    response = merge(merger_client, [curly, straight], keep=value)

    assert response.status_code == 200
    text = page_text(response)
    assert "Choose one of the selected signatories to keep." in text or (
        keep == "" and "Choose the signatory to keep." in text
    )
    assert Signatory.objects.filter(pk__in=[curly.pk, straight.pk, unselected.pk]).count() == 3


def test_a_signatory_with_a_sign_form_submission_awaiting_confirmation_is_not_merged(
    merger_client,
):
    keep = make_person("Open Submission", slug="open-submission")
    make_signature(make_letter(), keep)
    submitted = make_person("Open Submission", slug="signer-77aa88")
    make_signature(
        make_letter(),
        submitted,
        status=Signature.Status.UNCONFIRMED,
        source=Signature.Source.PUBLIC_FORM,
        email="open@example.org",
        consent_text=CONSENT_TEXT,
        consented_at=timezone.now(),
    )

    history_rows = Signatory.history.count() + Signature.history.count()

    response = merge(merger_client, [keep, submitted], keep=keep)

    assert "has a sign-form submission its signer has not confirmed yet" in page_text(response)
    assert Signatory.objects.filter(pk=submitted.pk).exists()
    assert Signatory.history.count() + Signature.history.count() == history_rows


def test_more_than_the_limit_at_once_is_refused(merger_client):
    many = Signatory.objects.bulk_create(
        [
            Signatory(
                name=f"Limit Org {n}",
                slug=f"limit-org-{n}",
                kind=SignatoryKind.ORGANISATION,
                category=Category.NGO,
            )
            for n in range(21)
        ]
    )

    response = merge(merger_client, many, keep=many[0])

    assert "Merge at most 20 signatories at a time." in page_text(response)
    assert Signatory.objects.filter(slug__startswith="limit-org-").count() == 21


@pytest.mark.django_db(transaction=True)
def test_two_opposite_merges_at_once_leave_one_signatory_and_no_server_error(merger):
    """Each keeps the one the other merges away: the row locks make one wait for the
    other, which then finds its signatory gone and says so. PostgreSQL only: SQLite
    serialises every write."""
    if connection.vendor != "postgresql":
        pytest.skip("Races need PostgreSQL's concurrent writers.")
    first, second = org("Race Org A"), org("Race Org B")
    shared = make_letter()
    for signatory in (first, second):
        make_signature(shared, signatory)
        make_signature(make_letter(), signatory)
    barrier = threading.Barrier(2)
    responses = []

    def run(keep, other):
        client = Client(raise_request_exception=False)
        client.force_login(merger)
        try:
            barrier.wait(timeout=30)
            responses.append(merge(client, [keep, other], keep=keep))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=pair) for pair in ((first, second), (second, first))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_code for r in responses] == [200, 200]
    [survivor] = Signatory.objects.filter(pk__in=[first.pk, second.pk])
    assert Signature.objects.filter(signatory=survivor).count() == 3
    assert Signature.objects.filter(letter=shared).count() == 1
    texts = [page_text(r) for r in responses]
    assert sum("Merged 1 signatory" in text for text in texts) == 1
    assert sum("no longer exist" in text for text in texts) == 1


def test_staff_see_each_redirect_in_the_admin_and_may_delete_it(merger_client, client, barnardos):
    curly, straight, _letters = barnardos
    merge(merger_client, [curly, straight], keep=straight)
    [redirect] = SignatoryRedirect.objects.all()
    admin_client = Client()
    admin_client.force_login(User.objects.create_superuser("boss", password="unused"))

    listed = admin_client.get(reverse("admin:signatories_signatoryredirect_changelist"))
    shown = admin_client.get(
        reverse("admin:signatories_signatoryredirect_change", args=[redirect.pk])
    )
    admin_client.post(
        reverse("admin:signatories_signatoryredirect_delete", args=[redirect.pk]), {"post": "yes"}
    )

    assert "barnardos-curly" in page_text(listed) and "Barnardo's" in page_text(listed)
    assert shown.status_code == 200 and "barnardos-curly" in page_text(shown)
    assert client.get(curly.get_absolute_url()).status_code == 404


def test_people_with_different_names_are_merged_only_after_a_warning(merger_client):
    maiden, married = make_person("Ada Byron"), make_person("Ada Lovelace")

    response = ask_to_merge(merger_client, [maiden, married])

    assert "Their names differ. A person’s signatures will all show the kept name" in page_text(
        response
    )
    assert Signatory.objects.filter(pk__in=[maiden.pk, married.pk]).count() == 2
