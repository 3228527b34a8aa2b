"""The team page (admins add people, change roles, set budgets, deactivate) and a person's own
password change."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from generations.models import Budget, Generation, LedgerEntry, ReviewState, Status
from generations.roles import ADMIN, MEMBER, REVIEWER, role_of

from .support import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase"


def logged_in(username, password):
    """A new browser that logged in on the login page, or None when the page refused."""
    browser = Client()
    response = browser.post("/login/", {"username": username, "password": password})
    return browser if response.status_code == 302 else None


def can_log_in(username, password):
    return logged_in(username, password) is not None


def person(username):
    return get_user_model().objects.get(username=username)


# --- who may use it ------------------------------------------------------------------------


def test_a_member_cannot_reach_the_team_page(member_client):
    assert member_client.get("/team/").status_code == 403


def test_a_member_cannot_change_anyone(member_client, user, other_user):
    response = member_client.post(f"/team/{other_user.pk}/active/", {"active": "0"})
    assert response.status_code == 403
    assert person("noor").is_active


def test_a_reviewer_cannot_reach_the_team_page(reviewer_client):
    assert reviewer_client.get("/team/").status_code == 403


def test_the_top_bar_offers_team_to_admins_and_password_to_everyone(admin_client, member_client):
    admin_page = admin_client.get("/").content.decode()
    member_page = member_client.get("/").content.decode()
    assert 'href="/team/"' in admin_page and 'href="/team/"' not in member_page
    assert 'href="/account/password/"' in admin_page
    assert 'href="/account/password/"' in member_page


# --- the page ------------------------------------------------------------------------------


def test_the_page_lists_role_activity_spend_and_budget(
    admin_client, user, reviewer, make_generation, make_user
):
    Budget.objects.create(user=user, monthly_limit=Decimal("12.50"))
    make_generation(owner=user, estimated_cost=Decimal("0.40"))  # queued: holds its price
    make_user("gone", is_active=False)

    page = admin_client.get("/team/").content.decode()

    assert "spent 0.40 USD this month · budget 12.50 USD" in page
    assert "rui" in page and "reviewer" in page
    assert "Inactive" in page


def test_spend_counts_the_ledger_and_held_work_per_person(
    admin_client, user, other_user, make_generation
):
    make_generation(owner=user, status=Status.SUCCEEDED, accepted=True, estimated_cost=1)
    make_generation(owner=user, estimated_cost=Decimal("0.25"))
    make_generation(owner=other_user, estimated_cost=Decimal("0.20"))
    assert LedgerEntry.objects.count() == 1

    from generations import costs

    spend = costs.monthly_spend_by_person()

    assert spend[user.pk] == costs.monthly_spend(user)
    assert spend[other_user.pk] == Decimal("0.20")


def page_queries(admin_client):
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get("/team/").status_code == 200
    return len(queries)


def add_people(make_user, make_generation, count):
    """count more people, every other one a reviewer, each with a budget and queued work."""
    start = get_user_model().objects.count()
    for index in range(start, start + count):
        somebody = make_user(f"person{index}", REVIEWER if index % 2 else MEMBER)
        Budget.objects.create(user=somebody, monthly_limit=5)
        make_generation(owner=somebody)


def test_the_page_costs_the_same_queries_for_3_and_30_people(
    admin_client, user, make_user, make_generation
):
    add_people(make_user, make_generation, 1)
    assert get_user_model().objects.count() == 3
    few = page_queries(admin_client)

    add_people(make_user, make_generation, 27)
    assert get_user_model().objects.count() == 30

    assert page_queries(admin_client) == few


# --- adding a person -----------------------------------------------------------------------


def add(browser, username, role, password=NEW_PASSWORD, again=None):
    data = {"username": username, "password1": password, "password2": again or password}
    return browser.post("/team/", {**data, "role": role})


def test_an_admin_adds_a_reviewer_who_can_log_in_and_review(admin_client, make_generation):
    finished = make_generation(status=Status.SUCCEEDED)

    response = add(admin_client, "lee", REVIEWER)

    assert response.status_code == 302
    browser = logged_in("lee", NEW_PASSWORD)
    assert browser
    decided = browser.post(f"/review/{finished.pk}/decide/", {"state": "approved"})
    assert decided.status_code == 302
    finished.refresh_from_db()
    assert finished.review_state == ReviewState.APPROVED
    assert role_of(person("lee")) == REVIEWER


def test_adding_says_so(admin_client):
    page = admin_client.get(add(admin_client, "lee", MEMBER)["Location"]).content.decode()
    assert "lee can log in now, with the role member." in page


def test_an_added_admin_gets_the_admin_site_and_a_member_does_not(admin_client):
    add(admin_client, "boss", ADMIN)
    add(admin_client, "newbie", MEMBER)
    assert person("boss").is_staff and not person("newbie").is_staff


def test_passwords_that_differ_are_refused_next_to_the_field(admin_client):
    response = add(admin_client, "lee", MEMBER, again="something-else-entirely")

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_password2-error"' in page
    assert not get_user_model().objects.filter(username="lee").exists()


def test_a_weak_password_is_refused_by_djangos_validators(admin_client):
    response = add(admin_client, "lee", MEMBER, password="password")

    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()


def test_a_taken_username_is_refused_next_to_the_field(admin_client, user):
    response = add(admin_client, "MAYA", MEMBER)

    assert response.status_code == 400
    assert 'id="id_username-error"' in response.content.decode()


def test_an_unknown_role_is_refused(admin_client):
    response = add(admin_client, "lee", "overlord")
    assert response.status_code == 400
    assert 'id="id_role-error"' in response.content.decode()


# --- roles ---------------------------------------------------------------------------------


def test_an_admin_changes_a_role(admin_client, user):
    response = admin_client.post(f"/team/{user.pk}/role/", {"role": REVIEWER})

    assert response.status_code == 302
    assert role_of(person("maya")) == REVIEWER


def test_demoting_an_admin_takes_the_admin_site_away(admin_client, make_user):
    other_admin = make_user("bea", ADMIN)
    admin_client.post(f"/team/{other_admin.pk}/role/", {"role": MEMBER})
    assert not person("bea").is_staff


def test_an_admin_cannot_demote_themselves(admin_client, admin_user):
    response = admin_client.post(f"/team/{admin_user.pk}/role/", {"role": MEMBER})

    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="person-{admin_user.pk}-role-error"' in page
    assert "take away your own admin role" in page
    assert role_of(person("ada")) == ADMIN


def test_changes_need_a_post(admin_client, user):
    assert admin_client.get(f"/team/{user.pk}/role/").status_code == 405


def test_changes_need_the_csrf_token(client_for, admin_user, user):
    browser = client_for(admin_user, enforce_csrf_checks=True)
    response = browser.post(f"/team/{user.pk}/role/", {"role": ADMIN})
    assert response.status_code == 403
    assert role_of(person("maya")) == MEMBER


# --- budgets -------------------------------------------------------------------------------


def test_a_budget_set_on_the_page_refuses_a_submit_beyond_it(
    admin_client, member_client, user, source_image
):
    response = admin_client.post(f"/team/{user.pk}/budget/", {"monthly_limit": "0.30"})
    assert response.status_code == 302

    assert member_client.post("/", {"prompt": "x", "source_image": source_image.pk}).status_code
    refused = member_client.post("/", {"prompt": "x", "source_image": source_image.pk})

    assert refused.status_code == 400
    assert "monthly budget is 0.30 USD" in refused.content.decode()
    assert Generation.objects.count() == 1


def test_an_empty_budget_clears_it(admin_client, user):
    Budget.objects.create(user=user, monthly_limit=Decimal("3"))

    response = admin_client.post(f"/team/{user.pk}/budget/", {"monthly_limit": ""})

    assert response.status_code == 302
    assert Budget.objects.get(user=user).monthly_limit is None
    assert "maya has no monthly budget now." in admin_client.get("/team/").content.decode()


@pytest.mark.parametrize("amount", ["-1", "lots", "1.234", "10000000"])
def test_a_bad_budget_is_refused_next_to_the_field(admin_client, user, amount):
    response = admin_client.post(f"/team/{user.pk}/budget/", {"monthly_limit": amount})

    assert response.status_code == 400
    assert f'id="person-{user.pk}-monthly_limit-error"' in response.content.decode()
    assert not Budget.objects.filter(user=user).exists()


def test_an_unknown_person_is_a_404(admin_client):
    assert admin_client.post("/team/9999/budget/", {"monthly_limit": "1"}).status_code == 404


# --- deactivating --------------------------------------------------------------------------


def test_a_deactivated_person_cannot_log_in_and_keeps_their_work(
    admin_client, user, make_generation
):
    make_generation(owner=user, status=Status.SUCCEEDED, accepted=True)

    response = admin_client.post(f"/team/{user.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    assert not can_log_in("maya", PASSWORD)
    assert Generation.objects.filter(owner=user).exists()
    assert LedgerEntry.objects.filter(person=user).exists()


def test_deactivating_ends_the_persons_open_session(admin_client, member_client, user):
    admin_client.post(f"/team/{user.pk}/active/", {"active": "0"})
    assert "/login/" in member_client.get("/")["Location"]


def test_a_reactivated_person_can_log_in_again(admin_client, make_user):
    gone = make_user("gone", is_active=False)

    admin_client.post(f"/team/{gone.pk}/active/", {"active": "1"})

    assert can_log_in("gone", PASSWORD)


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_user):
    response = admin_client.post(f"/team/{admin_user.pk}/active/", {"active": "0"})

    assert response.status_code == 400
    assert "deactivate your own account" in response.content.decode()
    assert person("ada").is_active


# --- a person's own password ---------------------------------------------------------------


def change_password(browser, old, new, again=None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return browser.post("/account/password/", data)


def test_a_member_changes_their_password_and_the_old_one_stops_working(member_client):
    response = change_password(member_client, PASSWORD, NEW_PASSWORD)

    assert response["Location"] == "/account/password/done/"
    assert not can_log_in("maya", PASSWORD)
    assert can_log_in("maya", NEW_PASSWORD)
    assert member_client.get("/").status_code == 200  # still logged in here


def test_the_password_page_looks_like_the_studio(member_client):
    page = member_client.get("/account/password/").content.decode()
    assert "Change your password" in page and 'class="topbar"' in page


def test_a_wrong_old_password_is_shown_next_to_the_field(member_client):
    response = change_password(member_client, "not-my-password", NEW_PASSWORD)

    assert 'id="id_old_password-error"' in response.content.decode()
    assert can_log_in("maya", PASSWORD)


def test_the_first_admin_account_holds_the_admin_role(db, monkeypatch):
    get_user_model().objects.all().delete()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-first-password")
    call_command("ensureadmin", stdout=io.StringIO())

    assert role_of(get_user_model().objects.get(username="admin")) == ADMIN
