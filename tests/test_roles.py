"""The permission matrix: each role × each page, action, API endpoint and media URL."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from .support import PASSWORD

ANONYMOUS, NO_ROLE, MEMBER, REVIEWER, ADMIN = "anonymous", "no role", "member", "reviewer", "admin"
ROLES = [ANONYMOUS, NO_ROLE, MEMBER, REVIEWER, ADMIN]


@pytest.fixture
def people(make_user, user, reviewer, admin_user):
    nobody = make_user("nobody", role=None)
    return {NO_ROLE: nobody, MEMBER: user, REVIEWER: reviewer, ADMIN: admin_user}


@pytest.fixture
def browser_for(client_for, people):
    """browser_for(role): a Client of someone in that role, or of nobody logged in."""

    def browser(role):
        return Client() if role == ANONYMOUS else client_for(people[role])

    return browser


def allowed(response):
    return response.status_code < 300 or (
        response.status_code in (301, 302) and "/login/" not in response.get("Location", "")
    )


# (description, method, url builder, roles allowed)
MATRIX = [
    ("studio page", "get", lambda g: "/", {MEMBER, REVIEWER, ADMIN}),
    ("generation detail", "get", lambda g: f"/generations/{g.pk}/", {MEMBER, REVIEWER, ADMIN}),
    ("queue partial", "get", lambda g: "/generations/rows/", {MEMBER, REVIEWER, ADMIN}),
    ("video file", "get", lambda g: f"/generations/{g.pk}/video.mp4", {MEMBER, REVIEWER, ADMIN}),
    ("poster file", "get", lambda g: g.poster.url, {MEMBER, REVIEWER, ADMIN}),
    ("source picture", "get", lambda g: g.source_image.image.url, {MEMBER, REVIEWER, ADMIN}),
    ("review queue", "get", lambda g: "/review/", {REVIEWER, ADMIN}),
    ("review page", "get", lambda g: f"/review/{g.pk}/", {REVIEWER, ADMIN}),
    ("ledger", "get", lambda g: "/ledger/", {ADMIN}),
    ("team page", "get", lambda g: "/team/", {ADMIN}),
    ("set a budget", "post", lambda g: f"/team/{g.owner_id}/budget/", {ADMIN}),
    ("own password", "get", lambda g: "/account/password/", {NO_ROLE, MEMBER, REVIEWER, ADMIN}),
    ("pulse", "get", lambda g: "/pulse/", {MEMBER, REVIEWER, ADMIN}),
    ("recent takes", "get", lambda g: "/recent/", {MEMBER, REVIEWER, ADMIN}),
    ("sequences", "get", lambda g: "/sequences/", {MEMBER, REVIEWER, ADMIN}),
    ("admin site", "get", lambda g: "/admin/generations/generation/", {ADMIN}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what, method, url, roles", MATRIX, ids=[row[0] for row in MATRIX])
def test_pages_and_media(role, what, method, url, roles, browser_for, finished):
    response = getattr(browser_for(role), method)(url(finished))
    assert allowed(response) == (role in roles), (role, what, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_creating_a_generation(role, browser_for, source_image):
    response = browser_for(role).post("/", {"prompt": "x", "source_image": source_image.pk})
    assert allowed(response) == (role in {MEMBER, REVIEWER, ADMIN}), response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_reviewing(role, browser_for, finished):
    response = browser_for(role).post(f"/review/{finished.pk}/decide/", {"state": "approved"})
    finished.refresh_from_db()
    assert (finished.review_state == "approved") == (role in {REVIEWER, ADMIN})
    assert allowed(response) == (role in {REVIEWER, ADMIN})


@pytest.mark.parametrize("role", ROLES)
def test_resuming_submissions(role, browser_for, db):
    from generations.models import StudioState

    StudioState.pause("out of credit")
    browser_for(role).post("/studio/resume/")
    assert StudioState.submissions_are_paused() == (role != ADMIN)


@pytest.mark.parametrize("role", [NO_ROLE, MEMBER, REVIEWER, ADMIN])
@pytest.mark.parametrize("method", ["get", "post"])
def test_json_api_by_token(role, method, api_client_for, people, source_image):
    data = {"prompt": "x", "source_image": source_image.pk} if method == "post" else None
    response = getattr(api_client_for(people[role]), method)("/api/generations/", data=data)
    expected = 403 if role == NO_ROLE else (201 if method == "post" else 200)
    assert response.status_code == expected


def test_json_api_logged_out_is_401(db):
    assert Client().get("/api/generations/").status_code == 401
    assert Client().post("/api/generations/").status_code == 401


def test_admin_role_grants_the_admin_site(admin_user):
    assert admin_user.is_staff


def fresh(person):
    """The account as the next request loads it."""
    return get_user_model().objects.get(pk=person.pk)


def test_permissions_come_from_roles_and_from_the_person_in_one_query(
    reviewer, user, django_assert_num_queries
):
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="review_generation"))
    member = fresh(user)
    with django_assert_num_queries(1):
        assert member.has_perm("generations.review_generation")  # granted to the person
        assert not member.has_perm("generations.manage_studio")
    assert fresh(reviewer).has_perm("generations.review_generation")  # granted to the role
    assert not fresh(reviewer).has_perm("generations.manage_studio")
    next_request = fresh(user)
    with django_assert_num_queries(1):  # each request reads them afresh
        assert next_request.has_perm("generations.review_generation")


def test_role_and_grant_changes_take_effect_on_the_next_request(user, browser_for):
    from django.contrib.auth.models import Group, Permission

    from generations.roles import assign_role

    browser = browser_for(MEMBER)
    assert browser.get("/review/").status_code == 403
    assign_role(user, REVIEWER)
    assert browser.get("/review/").status_code == 200
    review = Permission.objects.get(codename="review_generation")
    Group.objects.get(name=REVIEWER).permissions.remove(review)
    assert browser.get("/review/").status_code == 403
    user.user_permissions.add(review)
    assert browser.get("/review/").status_code == 200
    user.user_permissions.clear()
    assert browser.get("/review/").status_code == 403
    user.is_superuser = True
    user.save()
    assert browser.get("/review/").status_code == 200


def test_superusers_have_every_permission_and_inactive_people_none(user):
    boss = get_user_model().objects.create_superuser("boss", password=PASSWORD)
    assert boss.has_perm("generations.manage_studio")
    assert user.has_perm("generations.add_generation")
    user.is_active = False
    user.save()
    assert not get_user_model().objects.get(pk=user.pk).has_perm("generations.add_generation")


def nav_links(browser):
    html = browser.get("/gallery/").content.decode()
    nav = html[html.index('<nav aria-label="Main">') : html.index("</nav>")]
    return [name for name in ("Studio", "Review", "Ledger", "Admin") if f">{name}</a>" in nav]


def test_the_main_navigation_offers_each_role_the_places_it_may_go(user, browser_for):
    from generations.roles import assign_role

    assert nav_links(browser_for(MEMBER)) == ["Studio"]
    assert nav_links(browser_for(REVIEWER)) == ["Studio", "Review"]
    assert nav_links(browser_for(ADMIN)) == ["Studio", "Review", "Ledger", "Admin"]

    browser = browser_for(MEMBER)  # the same person, given a role: a new navigation
    assign_role(user, REVIEWER)
    assert nav_links(browser) == ["Studio", "Review"]
