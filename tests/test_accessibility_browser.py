"""Every page a person uses, checked by axe-core in real Chromium, light and dark, desktop and
phone: no serious or critical violation, no console error, no failed request; and the creative
loop driven by the keyboard alone."""

import json
from pathlib import Path

import pytest

from .live_studio import LiveStudio, wait_until
from .support import PASSWORD
from .support.chromium import CHROMIUM, CHROMIUM_FLAGS, DESKTOP, SCREENSHOTS, wait_for_js
from .support.pictures import picture_bytes

pytestmark = [pytest.mark.live, pytest.mark.browser]

# `make test` installs it from the npm registry (the Makefile's $(AXE) target).
AXE = Path(__file__).resolve().parents[1] / "var/npm/node_modules/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}
# Each theme once and each width once: contrast follows the theme and layout the width, so the
# two other pairings repeated the same findings at the cost of a minute of make test.
MODES = {
    "desktop-light": {"viewport": DESKTOP, "color_scheme": "light"},
    "phone-dark": {"viewport": PHONE, "color_scheme": "dark"},
}
BLOCKING = {"serious", "critical"}

MAKE_ADMIN_AND_LORA = (
    "from django.contrib.auth import get_user_model; "
    "from generations.models import LoraPreset; "
    "from generations.roles import ADMIN, assign_role; "
    "assign_role(get_user_model().objects.get(username='maya'), ADMIN); "
    "LoraPreset.objects.create(name='Painting', path='Remade-AI/Painting', default_scale=0.8)"
)

MAKE_BOARD = (
    "from generations.models import Board, Generation; from generations import boards; "
    "board = Board.objects.create(name='Client launch'); "
    "boards.place_on_board(board, Generation.objects.filter(pk__in={ids}), None); "
    "print(board.pk)"
)


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("accessibility")).start()
    live.manage("shell", "-c", MAKE_ADMIN_AND_LORA)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def content(studio):
    """A little of everything the pages show: takes (one failed), a batch, presets, a sequence."""
    harbour = studio.create("boats rocking in the harbour", picture_bytes(960, 540))
    tower = studio.create(
        "a lighthouse in the fog",
        picture_bytes(480, 800, colour=(90, 160, 200)),
        loras=json.dumps([{"preset": "Painting", "scale": 0.8}]),
        save_preset_as="Lighthouse",
    )
    failed = studio.create("a kite that will not fly [sim:fail]", picture_bytes(640, 480))
    batch = studio.create(
        "slow zoom on the dunes\nwind over the dunes",
        picture_bytes(800, 450),
        one_prompt_per_line="on",
    )
    ids = [harbour["id"], tower["id"], failed["id"]] + [g["id"] for g in batch["generations"]]
    studio.wait_for_terminal(ids)
    clips = {"clips": [{"generation": harbour["id"]}, {"generation": tower["id"]}]}
    sequence = studio.api("POST", "/api/sequences/", json=clips)
    assert sequence.status_code == 201, sequence.text
    board = studio.manage("shell", "-c", MAKE_BOARD.format(ids=[harbour["id"], tower["id"]]))
    share = studio.api("POST", "/api/shares/", json={"generations": [harbour["id"]]})
    assert share.status_code == 201, share.text
    return {
        "first": harbour["id"],
        "second": tower["id"],
        "failed": failed["id"],
        "batch": batch["batch"],
        "sequence": sequence.json()["id"],
        "board": board.splitlines()[-1],
        "share": share.json()["url"].split("://", 1)[1].split("/", 1)[1],
    }


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core from npm")
    (SCREENSHOTS / "pages").mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def pages_to_check(content):
    first, second = content["first"], content["second"]
    return {
        "studio": "/",
        "gallery": "/gallery/",
        "gallery-filtered": "/gallery/?who=mine&q=dunes&favourites=",
        "gallery-viewer": f"/gallery/?view={first}",
        "batch": f"/batches/{content['batch']}/",
        "detail": f"/generations/{first}/",
        "detail-failed": f"/generations/{content['failed']}/",
        "compare": f"/compare/?ids={first},{second}",
        "library-pictures": "/library/pictures/",
        "library-loras": "/library/loras/",
        "library-prompts": "/library/prompts/",
        "review": "/review/",
        "ledger": "/ledger/",
        "sequences": "/sequences/",
        "sequence": f"/sequences/{content['sequence']}/",
        "extend": f"/generations/{first}/extend/",
        "team": "/team/",
        "notifications": "/settings/notifications/",
        "boards": "/boards/",
        "board": f"/boards/{content['board']}/",
        "shares": "/shares/",
        "guest": f"/{content['share']}",
    }


class Watched:
    """What went wrong on a page besides axe: console errors, failed or refused requests."""

    def __init__(self, page):
        self.problems = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self.failed)
        page.on("response", self.response)

    def console(self, message):
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def failed(self, request):
        # Aborted is the browser letting go, not the studio failing: a player dropping a range
        # request it no longer needs, or the next page starting before the favicon arrived.
        # A request the studio answers badly shows as a response >= 400 below.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")

    def take(self):
        problems, self.problems = self.problems, []
        return problems


def serious_violations(page):
    """axe's serious and critical violations on the page as it is now: 'rule: targets' lines."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Through DevTools, which the page's CSP does not govern: an inline <script> from
        # add_script_tag would be refused by script-src 'self', and bypass_csp would hide
        # what the policy refuses.
        page.evaluate(AXE.read_text())
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((node) => node.target.join(" ")),
                summary: v.nodes.length ? v.nodes[0].failureSummary : "",
            }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}: {v['help']}) on {json.dumps(v['targets'][:6])}"
        f"\n      {v['summary'].splitlines()[-1] if v['summary'] else ''}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def settle(page):
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)  # htmx's first swaps and the gallery's packing


def check(page, watched, name, mode, problems):
    settle(page)
    found = serious_violations(page) + watched.take()
    page.screenshot(path=SCREENSHOTS / "pages" / f"{name}-{mode}.png", full_page=True)
    problems.extend(f"{name} ({page.url}): {line}" for line in found)


def log_in(page, base_url):
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + "/")


@pytest.mark.parametrize("mode", MODES)
def test_every_page_has_no_serious_accessibility_violation(browser, studio, content, mode):
    context = browser.new_context(**MODES[mode])
    page = context.new_page()
    watched = Watched(page)
    problems = []
    try:
        page.goto(studio.base_url + "/login/")
        check(page, watched, "login", mode, problems)
        log_in(page, studio.base_url)
        for name, path in pages_to_check(content).items():
            if name == "team" and context.request.get(studio.base_url + path).status == 404:
                continue  # not built yet
            page.goto(studio.base_url + path)
            check(page, watched, name, mode, problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# --- the loop by keyboard alone --------------------------------------------------------------


def tab_until(page, predicate, key="Tab", most=80):
    """Press Tab (or Shift+Tab) until the focused element passes `predicate` (a JS arrow
    function of document.activeElement)."""
    for _ in range(most):
        page.keyboard.press(key)
        if page.evaluate(f"({predicate})(document.activeElement)"):
            return
    focused = page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{most} × {key} never reached {predicate}; focus is on {focused}")


def test_the_loop_by_keyboard_alone(browser, studio, content, tmp_path):
    picture = tmp_path / "meadow.jpg"
    picture.write_bytes(picture_bytes(960, 540, colour=(80, 170, 90)))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(studio.base_url + "/login/")
        log_in(page, studio.base_url)
        page.evaluate("window.__sameDocument = true")

        tab_until(page, "(el) => el.id === 'id_image'")
        page.set_input_files("#id_image:focus", str(picture))
        page.wait_for_selector("#picture-preview:not([hidden])")
        tab_until(page, "(el) => el.id === 'id_prompt'")
        page.keyboard.type("a meadow in the wind, by keyboard")
        tab_until(page, "(el) => el.type === 'submit' && el.textContent.includes('Generate')")
        before = page.locator("#recent-list .take").count()
        page.keyboard.press("Enter")
        wait_until(lambda: page.locator("#recent-list .take").count() > before, 10, "the take")
        take_id = page.locator("#recent-list .take").first.get_attribute("data-id")
        page.wait_for_selector(f"#take-{take_id} video", timeout=90_000)
        assert page.evaluate("window.__sameDocument") is True
        page.screenshot(path=SCREENSHOTS / "pages" / "keyboard-take.png", full_page=True)

        tab_until(page, "(el) => el.matches('a[href=\"/gallery/\"]')", key="Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(studio.base_url + "/gallery/")
        tab_until(page, "(el) => el.matches('#gallery .card-tile[data-video] .tile-link')")
        first = page.evaluate("document.activeElement.closest('.card-tile').dataset.id")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**view={first}")
        assert page.locator("#viewer").is_visible()

        page.keyboard.press("ArrowRight")
        tiles = page.locator("#gallery .card-tile[data-video]")
        second = tiles.nth(1).get_attribute("data-id")
        wait_until(lambda: f"view={second}" in page.evaluate("location.href"), 10, "the step")
        assert page.locator("#viewer-title").inner_text() == f"#{second}"

        page.keyboard.press("f")
        favourite = page.locator('#viewer [data-viewer="favourite"]')
        wait_until(lambda: favourite.get_attribute("aria-pressed") == "true", 10, "the star")
        assert tiles.nth(1).locator(".star.on").count() == 1
        page.screenshot(path=SCREENSHOTS / "pages" / "keyboard-viewer.png")

        page.keyboard.press("Escape")
        wait_until(lambda: "view=" not in page.evaluate("location.href"), 10, "the viewer to close")
        assert page.locator("#viewer").is_hidden()
        wait_for_js(
            page,
            f"document.activeElement.matches('.card-tile[data-id=\"{second}\"] .tile-link')",
            timeout=5,
        )
    finally:
        context.close()
