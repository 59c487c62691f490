"""The SVG diagram of one step: contents, highlights, violations, layout and determinism."""

import xml.etree.ElementTree as ET

import pytest

from cowlib import PRESETS
from cowlib.actions import run_actions
from cowlib.moves import random_actions
from cowlib.scenarios import SCENARIOS
from cowlib.view.changes import diff
from cowlib.view.layout import MIN_WIDTH, layout
from cowlib.view.svg import Diagram, box_lines, render_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def svg_of(scenario: str, preset: str, index: int) -> str:
    trace = SCENARIOS[scenario].run(preset).trace
    return render_svg(trace[index], trace[index - 1] if index else None, standalone=False)


def groups(svg: str, cls: str) -> list[ET.Element]:
    """Every <g> whose class list contains cls."""
    root = ET.fromstring(svg)
    return [
        g for g in root.iter("{http://www.w3.org/2000/svg}g") if cls in g.get("class", "").split()
    ]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter("{http://www.w3.org/2000/svg}text")]


def test_s2_leak_step_shows_pfn_refcount_and_a_violation_label():
    svg = svg_of("S2", "linux-5.7", 7)
    page = groups(svg, "cow-page")
    assert len(page) == 1 and texts(page[0])[:3] == ["pfn 1", "'Y'", "refcount 3"]
    assert "\u2716 LEAK:" in svg
    (bad,) = groups(svg, "cow-bad")
    assert texts(bad)[0] == "pipe1" and "\u2716 LEAK" in texts(bad)


def test_vmsplice_step_highlights_the_page_and_the_new_pipe():
    svg = svg_of("S2", "linux-5.7", 4)
    changed = {texts(g)[0] for g in groups(svg, "cow-changed") if texts(g)}
    assert changed == {"pfn 1", "pipe1"}
    assert "refcount 4 (+1)" in svg
    assert "get_user_pages_fast(C, 0x10000): PTE to pfn 1 is usable" in svg


def test_cow_step_highlights_the_remapped_pte_and_its_arrow():
    svg = svg_of("S2", "linux-5.11", 6)
    changed_ptes = [texts(g) for g in groups(svg, "cow-pte") if "cow-changed" in g.get("class")]
    assert changed_ptes == [["0x10000", "pfn 2", "writable"]]
    assert any("rw" in g.get("class").split() for g in groups(svg, "cow-changed"))
    assert "mapcount 0 (-1)" in svg


def test_first_step_and_unchanged_steps_highlight_nothing():
    trace = SCENARIOS["S1"].run("linux-6.x").trace
    assert "cow-changed" not in render_svg(trace[0], standalone=False)
    read = next(i for i, s in enumerate(trace) if s.op.startswith("C.read"))
    assert not diff(trace[read - 1].snapshot, trace[read].snapshot).pages


def test_stale_pin_is_marked_on_the_pin_with_its_word():
    svg = svg_of("S6", "linux-5.9-rc4", 6)
    assert [texts(g)[0] for g in groups(svg, "cow-bad")] == ["pin1"]
    assert "\u2716 STALE-PIN" in svg and "oracle: wrong copy" in svg


def test_pinned_page_shows_kernel_names():
    svg = svg_of("S6", "linux-6.x", 4)
    for name in (
        "page_maybe_dma_pinned",
        "PageAnonExclusive",
        "MMF_HAS_PINNED",
        "pincount 1",
        "FOLL_PIN rw",
        "write_protect_seq",
    ):
        assert name in svg, name
    assert groups(svg, "pin")


def test_swap_entries_point_at_slots_and_the_swap_cache_at_its_page():
    svg = svg_of("S3", "linux-5.7", 5)
    assert "swap slot 0" in svg and "swap cache: pfn 2" in svg and "swap cache, slot 0" in svg
    assert len(groups(svg, "swap")) == 1 and len(groups(svg, "cache")) == 1


def test_gup_fast_in_flight_holder_has_no_arrow():
    svg = svg_of("S7", "linux-5.7", 3)
    (pin,) = groups(svg, "cow-holder")
    assert "GUP-fast in flight" in texts(pin)
    assert not groups(svg, "pin")


def test_values_are_escaped_and_long_ones_cut():
    k = run_actions(["P:mmap 1", "P:write 0 '<b>&\"x\"</b> and more'"], "linux-6.x")
    svg = render_svg(k.trace[-1], k.trace[-2])
    root = ET.fromstring(svg)
    assert "<b>" not in svg and "\u2026" in "".join(texts(root))


def test_standalone_svg_has_style_and_legend_and_frames_do_not():
    trace = SCENARIOS["S2"].run("linux-5.7").trace
    alone, frame = render_svg(trace[4], trace[3]), render_svg(trace[4], trace[3], standalone=False)
    assert "<style>" in alone and "read-only PTE" in alone
    assert "<style>" not in frame and "read-only PTE" not in frame


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_step_is_well_formed_and_fits_700px(name):
    for preset in PRESETS:
        trace = SCENARIOS[name].run(preset).trace
        for i, step in enumerate(trace):
            root = ET.fromstring(render_svg(step, trace[i - 1] if i else None))
            assert float(root.get("width")) <= MIN_WIDTH
            assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"


def test_rendering_is_deterministic():
    first = [svg_of("S8", "linux-5.9-rc4", i) for i in range(8)]
    assert first == [svg_of("S8", "linux-5.9-rc4", i) for i in range(8)]


def _curve(arrow, n=40):
    """Points along an arrow as svg draws it: a cubic with vertical ends (or a line)."""
    if arrow.kind == "cache":
        return [(arrow.x1 + (arrow.x2 - arrow.x1) * i / n, arrow.y1) for i in range(n + 1)]
    mid = (arrow.y1 + arrow.y2) / 2
    points = []
    for i in range(n + 1):
        t = i / n
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        points.append(
            (
                a * arrow.x1 + b * arrow.x1 + c * arrow.x2 + d * arrow.x2,
                a * arrow.y1 + b * mid + c * mid + d * arrow.y2,
            )
        )
    return points


@pytest.mark.parametrize("seed", range(12))
def test_arrows_and_boxes_do_not_cover_labels(seed):
    """In random three-process runs, boxes of a tier never overlap, and no arrow passes
    through a box other than the two it joins (and the process holding its PTE)."""
    k = run_actions(random_actions(seed, 18, 2), "linux-5.7")
    for i, step in enumerate(k.trace):
        prev = k.trace[i - 1].snapshot if i else None
        lay = layout(step.snapshot, box_lines(step, diff(prev, step.snapshot)))
        tops = [b for b in lay.boxes if b.key[0] != "pte"]
        for a in tops:
            for b in tops:
                if a is not b and a.y == b.y:
                    assert a.x + a.w <= b.x or b.x + b.w <= a.x, (a.key, b.key)
        for arrow in lay.arrows:
            ends = {arrow.src, arrow.dst, ("proc", arrow.src[1])}
            for box in lay.boxes:
                if box.key in ends:
                    continue
                for x, y in _curve(arrow):
                    inside = box.x < x < box.x + box.w and box.y < y < box.y + box.h
                    assert not inside, (i, arrow, box.key)


def test_diagram_shows_a_step_of_a_trace():
    k = SCENARIOS["S2"].run("linux-5.7")
    html = Diagram(k.trace, 7)._repr_html_()
    assert "step 7  pipe1.read()" in html and Diagram(k.trace).index == len(k.trace) - 1


def test_diagram_as_text_is_the_steps_text_view():
    from IPython.lib.pretty import pretty

    from cowlib.view.text import render_step

    k = SCENARIOS["S2"].run("linux-5.7")
    diagram = Diagram(k.trace, 7)
    assert pretty(diagram) == render_step(k.trace[7])
    assert "!! LEAK: pipe1 (taken by C)" in pretty(diagram)


def test_diagram_html_has_its_style_and_a_text_legend():
    html = Diagram(SCENARIOS["S2"].run("linux-5.7").trace, 7).html()
    assert html.startswith('<div class="cow-diagram"><style>') and "--jp-layout-color0" in html
    assert '<ul class="cow-legend"' in html and ">violation</li>" in html
