"""The audit log's pages at any size: keyed by event id, a capped count, filters an index can serve
(audit/browse.py)."""

import html as htmllib
import re

import pytest
import sqlalchemy as sa

from inspect_app import audit
from inspect_app.audit import browse
from inspect_app.extensions import db
from inspect_app.models import AuditEvent

from ..dashboard.conftest import StatementCounter


def _shown(action: str) -> str:
    """How a row of the table shows an event's action code."""
    return f'<code class="code-hint">{action}</code>'


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="#"><a href="/audit/(\d+)">', page)]


def _link(page: str, key: str) -> str | None:
    """The pager's link to the older (before) or newer (after) page."""
    pager = page[page.index('<nav class="pager"') :]
    found = re.search(rf'href="(/audit/\?[^"]*\b{key}=\d+[^"]*)"', pager)
    return htmllib.unescape(found.group(1)) if found else None


@pytest.fixture
def eight_events(app):
    with app.app_context():
        for _ in range(8):
            audit.record(None, "round.update", object_type="Round", object_id=4242)
        db.session.commit()
        return db.session.scalars(
            sa.select(AuditEvent.id).where(AuditEvent.object_id == "4242")
        ).all()


def test_pages_walk_the_log_newest_first_and_back_without_gaps(
    app, login_as, eight_events, monkeypatch
):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    office = login_as("coordinator")
    url, seen, pages = "/audit/?object_id=4242", [], []
    while url:
        page = office.get(url).get_data(as_text=True)
        pages.append(_ids(page))
        seen += pages[-1]
        url = _link(page, "before")
        assert len(pages) < 5
    assert seen == sorted(eight_events, reverse=True)
    assert [len(p) for p in pages] == [3, 3, 2]
    assert "共 8 条" in page and _link(page, "after")
    # Back to the newest through the newer pages: the same pages in turn.
    url, back = _link(page, "after"), []
    while url:
        page = office.get(url).get_data(as_text=True)
        back.append(_ids(page))
        assert "object_id=4242" in (_link(page, "before") or "")  # the filter stays
        url = _link(page, "after")
        assert len(back) < 5
    assert back == pages[-2::-1]


def test_the_count_stops_at_the_cap(app, login_as, eight_events, monkeypatch):
    monkeypatch.setattr(browse, "COUNT_CAP", 5)
    office = login_as("coordinator")
    page = office.get("/audit/?object_id=4242").get_data(as_text=True)
    assert "超过 5 条" in page and "共 8 条" not in page
    monkeypatch.setattr(browse, "COUNT_CAP", 8)
    assert "共 8 条" in office.get("/audit/?object_id=4242").get_data(as_text=True)


def test_a_page_reads_no_rows_before_it_and_counts_no_further_than_the_cap(
    app, login_as, eight_events, monkeypatch
):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    office = login_as("coordinator")
    with StatementCounter() as counter:
        office.get(f"/audit/?before={eight_events[5]}")
    log = [s for s in counter.statements if "audit_events" in s]
    (count,) = [s for s in log if "count(" in s.lower()]
    (rows,) = [s for s in log if "ORDER BY" in s.upper()]
    assert "audit_events.id <" in rows  # from the key on, not an OFFSET past earlier rows
    assert "LIMIT" in count.upper()


def test_an_actor_is_found_by_account_or_display_name(app, login_as, make):
    with app.app_context():
        auditor = make.user(role="coordinator", username="wangsj", display_name="王审计")
        other = make.user(role="coordinator", username="lisi", display_name="李四")
        audit.record(auditor, "round.create", object_type="Round", object_id=5151)
        audit.record(other, "round.create", object_type="Round", object_id=5152)
        audit.record(None, "round.create", object_type="Round", object_id=5153)
        db.session.commit()
    office = login_as("coordinator")

    def objects(actor):
        page = office.get(f"/audit/?object_type=Round&actor={actor}").get_data(as_text=True)
        return sorted(int(n) for n in re.findall(r"轮次 (\d+)", page))

    assert objects("王审计") == [5151]
    assert objects("wangsj") == [5151]
    assert objects("system") == [5153]  # events with no account, by the name they carry
    assert objects("%") == []  # a wildcard is a character like any other


def test_actions_are_chosen_by_label_one_or_a_whole_family(app, login_as, make):
    with app.app_context():
        unit = make.unit()
        audit.record(None, "unit.create", unit)
        audit.record(None, "unit.update", unit)
        audit.record(None, "round.create", object_type="Round", object_id=6161)
        db.session.commit()
    office = login_as("coordinator")

    page = office.get("/audit/").get_data(as_text=True)
    assert '<optgroup label="单位">' in page
    assert '<option value="unit.create">创建单位</option>' in page
    assert '<option value="unit">全部：单位</option>' in page

    page = office.get("/audit/?action=unit").get_data(as_text=True)
    assert _shown("unit.create") in page and _shown("unit.update") in page
    assert _shown("round.create") not in page
    assert '<option value="unit" selected>' in page

    page = office.get("/audit/?action=unit.update").get_data(as_text=True)
    assert _shown("unit.update") in page and _shown("unit.create") not in page

    # The old filter's ways, typed into the address, still work and are shown as chosen: a
    # prefix, and a family with its dot.
    page = office.get("/audit/?action=round.cr").get_data(as_text=True)
    assert _shown("round.create") in page and _shown("unit.create") not in page
    assert '<option value="round.cr" selected>round.cr</option>' in page
    page = office.get("/audit/?action=round.").get_data(as_text=True)
    assert _shown("round.create") in page and _shown("unit.create") not in page
    assert '<option value="round" selected>' in page

    page = office.get("/audit/?object_type=Unit").get_data(as_text=True)
    assert _shown("unit.create") in page and _shown("round.create") not in page


def test_an_overlong_filter_is_cut_to_what_a_column_holds(login_as):
    office = login_as("coordinator")
    for key in ("action", "actor", "object_type", "object_id"):
        response = office.get(f"/audit/?{key}={'a' * 5000}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert [len(v) for v in re.findall(r'value="(a+)"', page)] == [100]


def test_the_pager_offers_only_pages_that_hold_events(app, login_as, eight_events, monkeypatch):
    """Review: a page opened with `before` offered "newer" even when none matched, and an empty
    page past either end offered no way back."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    office = login_as("coordinator")
    newest, oldest = max(eight_events), min(eight_events)

    page = office.get(f"/audit/?object_id=4242&before={newest + 1000}").get_data(as_text=True)
    assert _ids(page) == sorted(eight_events, reverse=True)[:3]
    assert _link(page, "after") is None and _link(page, "before")

    page = office.get(f"/audit/?object_id=4242&before={oldest}").get_data(as_text=True)
    assert _ids(page) == [] and _link(page, "before") is None
    back = office.get(_link(page, "after")).get_data(as_text=True)
    assert _ids(back) == sorted(eight_events)[:3][::-1]

    page = office.get(f"/audit/?object_id=4242&after={newest}").get_data(as_text=True)
    assert _ids(page) == [] and _link(page, "after") is None
    back = office.get(_link(page, "before")).get_data(as_text=True)
    assert _ids(back) == sorted(eight_events, reverse=True)[:3]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("since=2026-13-01", "请按 YYYY-MM-DD 格式填写日期。"),
        ("until=abc", "请按 YYYY-MM-DD 格式填写日期。"),
        ("since=2026-12-09&until=2026-12-01", "结束日期不能早于开始日期。"),
    ],
)
def test_a_bad_date_filter_is_a_400_that_says_so(login_as, query, says):
    """It was ignored: the whole log was listed under a filter the page still showed."""
    response = login_as("coordinator").get(f"/audit/?{query}")
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
