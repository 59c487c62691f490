"""The history registry: well-formed ids and tags, honest verification, exact citations."""

import ast
import re
from pathlib import Path

import pytest

from cowlib import BadArgument, history
from cowlib.history import COMMITS, MAILS, TAG_PATTERN, Commit, cite, commit, mail

RECORDS = [*COMMITS.values(), *MAILS.values()]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?")


def test_every_commit_is_keyed_by_its_own_12_hex_id():
    assert COMMITS
    for key, c in COMMITS.items():
        assert re.fullmatch(r"[0-9a-f]{12}", c.id), c.id
        assert key == c.id


def test_commit_ids_and_titles_are_unique():
    records = history._COMMITS
    assert len({c.id for c in records}) == len(records)
    assert len({c.title for c in records}) == len(records)


@pytest.mark.parametrize("c", COMMITS.values(), ids=lambda c: c.id)
def test_tags_name_a_release_or_release_candidate(c):
    assert TAG_PATTERN.fullmatch(c.tag), c.tag


@pytest.mark.parametrize("c", COMMITS.values(), ids=lambda c: c.id)
def test_every_record_has_a_title_author_and_one_sentence_summary(c):
    assert c.title.strip() == c.title and c.title
    assert c.author and c.summary.endswith(".")


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: getattr(r, "id", None) or r.key)
def test_a_verified_record_names_its_source_and_has_no_note(record):
    if record.verified:
        assert record.source.strip()
        assert record.note == ""


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: getattr(r, "id", None) or r.key)
def test_an_unverified_record_says_what_was_not_established(record):
    if not record.verified:
        assert len(record.note) > 40
        assert re.search(r"\b(not|no)\b", record.note)


def test_some_records_are_verified_and_some_are_not():
    verified = [c for c in COMMITS.values() if c.verified]
    assert verified and len(verified) < len(COMMITS)


@pytest.mark.parametrize("m", MAILS.values(), ids=lambda m: m.key)
def test_mails_have_iso_dates_and_message_ids(m):
    assert ISO_DATE.fullmatch(m.date), m.date
    key = re.fullmatch(r"[a-z]+-(\d{4}-\d{2}-\d{2})[a-z]?", m.key)
    assert key and key.group(1) == m.date[:10], (m.key, m.date)
    if m.verified:
        assert re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", m.message_id), m.message_id
    assert m.established.endswith(".")


def test_cite_gives_id_title_and_tag():
    assert cite("09854ba94c6a") == '09854ba94c6a ("mm: do_wp_page() simplification", v5.9-rc4)'


def test_commit_accepts_a_full_hash():
    assert commit("09854ba94c6aad7886996bfbee2530b3d8a7f4f4") is COMMITS["09854ba94c6a"]


@pytest.mark.parametrize("bad", ["0123456789ab", "not-a-commit", ""])
def test_commit_names_an_unknown_id(bad):
    with pytest.raises(BadArgument, match=re.escape(repr(bad))):
        commit(bad)


def test_mail_names_an_unknown_key():
    with pytest.raises(BadArgument, match="'nobody-1999'"):
        mail("nobody-1999")
    assert mail("torvalds-2021-12-18a").message_id.startswith("<CAHk-=wg95CiyT45")


@pytest.mark.parametrize(
    "tag, release",
    [
        ("v5.11-rc5", "5.11"),
        ("v5.18", "5.18"),
        ("v5.9-rc7", "5.9"),
        ("v2.6.13-rc1", "2.6.13"),
    ],
)
def test_release_drops_the_v_and_the_rc(tag, release):
    c = Commit("0" * 12, "t", "a", tag, "s", True, "x.")
    assert c.release == release


def test_the_findings_of_issue_9_are_recorded():
    # The fork series is in v5.9-rc7 itself; Linus wrote the do_wp_page() simplification.
    for id in ("70e806e4e645", "008cfe4418b3", "7a4830c380f3", "d042035eaf5f"):
        assert commit(id).tag == "v5.9-rc7" and commit(id).author == "Peter Xu"
    assert commit("09854ba94c6a").author == "Linus Torvalds"
    assert mail("torvalds-2021-12-17c").date.startswith("2021-12-17")


def test_module_imports_only_the_stdlib_and_errors():
    tree = ast.parse(Path(history.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(("." * node.level) + (node.module or ""))
    assert imported <= {"__future__", "re", "dataclasses", ".errors"}
