"""Text in studio/static/css/studio.css reaches WCAG AA (4.5:1) in the dark and the light theme.

The colours are read from the stylesheet's custom properties, the pairs from its rules: a
rule that sets both a text colour and a background is one pair; a text colour set alone
sits on one of the page's surfaces (SURFACES), so it is checked on each of them.
"""

import re
from pathlib import Path

import pytest

STYLESHEET = Path(__file__).resolve().parent.parent / "studio" / "static" / "css" / "studio.css"
AA_TEXT = 4.5
AA_FOCUS_RING = 3.0  # WCAG 1.4.11, for a non-text indicator
# The backgrounds text is laid on: the page, cards and the top bar, rows, tiles and fields.
SURFACES = ("--bg", "--surface", "--surface-2")
LIGHT_THEME = "prefers-color-scheme: light"


def stylesheet():
    return re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.DOTALL)


def rules(css):
    """(selector, {property: value}, offset) for every innermost block, in order."""
    for match in re.finditer(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in match[2].split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip()] = value.strip()
        yield match[1].strip(), declarations, match.start()


def custom_properties(declarations):
    return {name: value for name, value in declarations.items() if name.startswith("--")}


def themes():
    """{"dark": {--name: value}, "light": {...}}: the light theme overrides the dark one."""
    css = stylesheet()
    light_at = css.index(LIGHT_THEME)
    dark, light = {}, {}
    for selector, declarations, offset in rules(css):
        if selector == ":root":
            (light if offset > light_at else dark).update(custom_properties(declarations))
    return {"dark": dark, "light": {**dark, **light}}


def colour(value, theme):
    """A #rgb/#rrggbb colour, looking through var(--name); None for anything else."""
    while match := re.fullmatch(r"var\((--[\w-]+)\)", value.strip()):
        value = theme[match[1]]
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) else None


def luminance(hex_colour):
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first, second):
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_pairs():
    """(where, foreground, background) as the rules put text on backgrounds."""
    pairs = []
    for selector, declarations, _ in rules(stylesheet()):
        if "color" not in declarations:
            continue
        background = declarations.get("background-color") or declarations.get("background")
        if background in (None, "none", "transparent"):  # the text sits on what is behind
            pairs += [(selector, declarations["color"], f"var({bg})") for bg in SURFACES]
        else:
            pairs.append((selector, declarations["color"], background))
    return pairs


def test_the_stylesheet_declares_both_themes():
    declared = themes()
    assert {"--text", "--bad", "--surface"} <= set(declared["dark"])
    assert declared["light"]["--bg"] != declared["dark"]["--bg"]


def test_the_pairs_cover_error_text_badges_and_danger_buttons():
    selectors = " ".join(selector for selector, _, _ in text_pairs())
    for rule in (".error", ".status-failed", "button.danger", ".danger-link", ".banner"):
        assert rule in selectors


@pytest.mark.parametrize("theme_name", ["dark", "light"])
def test_every_text_colour_reaches_aa_on_its_background(theme_name):
    theme = themes()[theme_name]
    failing = []
    for where, foreground, background in text_pairs():
        fg, bg = colour(foreground, theme), colour(background, theme)
        if fg is None or bg is None:  # inherit, currentColor, none: nothing of its own
            continue
        ratio = contrast(fg, bg)
        if ratio < AA_TEXT:
            failing.append(f"{where}: {foreground} {fg} on {background} {bg} = {ratio:.2f}:1")
    assert not failing, "\n".join(failing)


@pytest.mark.parametrize("theme_name", ["dark", "light"])
def test_the_focus_ring_stands_out_from_every_surface(theme_name):
    theme = themes()[theme_name]
    for surface in SURFACES:
        assert contrast(theme["--focus"], theme[surface]) >= AA_FOCUS_RING, surface


def test_no_text_is_faded_with_opacity():
    """Opacity lowers contrast below what the colours promise: only pictures may fade."""
    faded = [
        selector
        for selector, declarations, _ in rules(stylesheet())
        if float(declarations.get("opacity", "1")) < 1
        and not all(
            part.strip().split()[-1].startswith(("img", "video")) for part in selector.split(",")
        )
    ]
    assert not faded


def test_the_contrast_formula_matches_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
