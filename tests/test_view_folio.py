"""Large folios in the views: one box per folio with its subpage strip, PTE runs, PMDs,
arrows to the subpage they map, a compact text view; order-0 pictures as before."""

import xml.etree.ElementTree as ET

from cowlib import Kernel
from cowlib.view.changes import diff
from cowlib.view.folios import MAX_STRIP, STRIP
from cowlib.view.layout import CHAR, MIN_WIDTH, PAD, layout
from cowlib.view.player import Player
from cowlib.view.svg import box_lines, render_svg
from cowlib.view.text import render_step

SVG = "{http://www.w3.org/2000/svg}"


def shared_thp(order=4):
    """A PMD-mapped THP shared with a child, a pipe on subpage 3, then a write to subpage 1."""
    k = Kernel("linux-6.x", pmd_order=order)
    p = k.spawn("P")
    a = p.mmap(1 << order, thp=order)
    p.write(a, "X")
    c = p.fork("C")
    c.vmsplice(a + 3 * 4096)
    p.write(a + 4096, "Y")
    return k


def boxes(step, prev):
    return {
        b.key: b
        for b in layout(step.snapshot, box_lines(step, diff(prev.snapshot, step.snapshot))).boxes
    }


def test_one_box_per_folio_with_a_mark_per_subpage():
    k = shared_thp()
    step, prev = k.trace[-1], k.trace[-2]
    found = boxes(step, prev)
    assert ("folio", 1) in found and not any(key[0] == "page" and key[1] <= 16 for key in found)
    lines = [ln.text for ln in found["folio", 1].lines]
    assert lines[0] == "folio pfn 1" and "order 4, 16 pages" in lines
    strip = [t for t in lines if t.replace("\u00a0", " ").startswith("  0 ")]
    assert strip == ["\u00a0\u00a0" + "0\u00a01\u00b711\u00a01111\u00a01111\u00a01111"]
    # at 16 subpages the box stays narrow; the whole picture fits the text column
    assert found["folio", 1].w < 250
    root = ET.fromstring(render_svg(step, prev))
    assert float(root.get("width")) <= MIN_WIDTH


def test_exclusive_flags_per_subpage_and_runs_for_big_folios():
    k = Kernel("linux-6.x", pmd_order=6)
    p = k.spawn("P")
    a = p.mmap(64, thp=4)
    p.memset(a, 16, "X")
    lines = [ln.text for ln in boxes(k.trace[-1], k.trace[-2])["folio", 1].lines]
    assert "\u00a0" * 4 + "EEEE\u00a0EEEE\u00a0EEEE\u00a0EEEE" in lines
    big = Kernel("linux-6.x")  # a real 512-page THP: runs instead of a strip
    q = big.spawn("P")
    b = q.mmap(512, thp=9)
    q.write(b, "X")
    lines = [ln.text for ln in boxes(big.trace[-1], big.trace[-2])["folio", 1].lines]
    assert 512 > MAX_STRIP and "0-511: mapcount 0, PageAnonExclusive" in lines


def test_pmd_and_pte_runs_are_one_cell_each_and_arrows_meet_their_subpage():
    k = shared_thp()
    step, prev = k.trace[-1], k.trace[-2]
    found = boxes(step, prev)
    child = [key for key in found if key[:2] == ("pte", "C")]
    assert child == [("pte", "C", 0x10000)]  # one PMD cell
    assert [ln.text for ln in found["pte", "C", 0x10000].lines][1:] == ["folio 1", "PMD ro"]
    parent = sorted(key for key in found if key[:2] == ("pte", "P"))
    assert len(parent) == 3  # pfn 1, the copy of subpage 1, and the run of subpages 2-15
    lay = layout(step.snapshot, box_lines(step, diff(prev.snapshot, step.snapshot)))
    folio = next(b for b in lay.boxes if b.key == ("folio", 1))
    pipe = next(a for a in lay.arrows if a.src == ("holder", "pipe1"))
    col = 3 % STRIP
    assert pipe.dst == ("folio", 1)
    assert pipe.x2 == folio.x + PAD + (4 + col + col // 4 + 0.5) * CHAR


def test_hugetlb_and_the_text_view():
    k = Kernel("linux-6.x", pmd_order=4)
    p = k.spawn("P")
    h = p.mmap(8, hugetlb=3)
    p.write(h, "H")
    text = render_step(k.trace[-1])
    assert "folio: hugetlb, order 3, refcount 1, entire mapcount 1, pincount 0" in text
    assert "0x10000 +7 -> huge PTE: folio 1 rw" in text
    assert len(text.splitlines()) < 14  # one line per run of alike subpages, not per page
    found = boxes(k.trace[-1], k.trace[-2])
    assert [ln.text for ln in found["pte", "P", 0x10000].lines][2] == "huge PTE rw"


def test_players_step_large_folios():
    player = Player(
        "P:mmap 16 thp=4; P:memset 0 16 X; P:fork C; C:vmsplice 2; C:munmap 0 16; P:write 2 Y",
        presets=["linux-5.7", "linux-6.x"],
    )
    html = player.html()
    assert "folio pfn 1" in html and "PTEs" in html


def test_a_swapped_out_folio_is_one_run_of_slots():
    k = Kernel("linux-6.x", pmd_order=4)
    p = k.spawn("P")
    a = p.mmap(16, thp=4)
    p.memset(a, 16, "X")
    k.pageout(p, a, 16)
    step, prev = k.trace[-1], k.trace[-2]
    found = boxes(step, prev)
    slots = [key for key in found if key[0] == "slot"]
    assert slots == [("slot", 0)]
    assert [ln.text for ln in found["slot", 0].lines][0] == "swap slots 0-15"
    assert [ln.text for ln in found["pte", "P", a].lines][1:] == ["slots 0-15", "16 swap PTEs"]
    root = ET.fromstring(render_svg(step, prev))
    assert float(root.get("width")) <= MIN_WIDTH


def test_the_release_keyed_changes_table():
    from cowlib.view.tables import change_table

    table = change_table()
    rows = {row[1]: row for row in table.rows}
    assert set(rows) >= {"v5.18-rc1", "v6.15-rc1", "v6.1-rc1"}
    assert rows["v6.15-rc1"][4] == "6.x" and "1da190f4d0a6 (v6.15-rc1)" in rows["v6.15-rc1"][2]
    assert rows["v5.18-rc1"][4] == "5.18, 6.x"
