"""Loading checklist files: one transaction, no-op when unchanged, new versions add rows, immutability."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from inspect_app.checklists import loader, services
from inspect_app.checklists.errors import ChecklistError
from inspect_app.errors import Conflict
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, ChecklistItem, ChecklistTemplate, Inspection

from .conftest import SYSTEM_OK, UNIT_OK, item_yaml, template_yaml


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(ChecklistTemplate.id))),
        db.session.scalar(sa.select(sa.func.count(ChecklistItem.id))),
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action.like("checklist.%"))
        ),
    )


def test_load_adds_versions_with_items_and_audit_events(en):
    results = services.load_paths([str(UNIT_OK), str(SYSTEM_OK)])
    assert [(r.key, r.version, r.status, r.items) for r in results] == [
        ("TESTU", "2026.1", "added", 8),
        ("TESTS", "1", "added", 4),
    ]
    assert counts() == (2, 12, 2)
    t = services.find_version("TESTU")
    assert t.title == "测试责任制清单" and t.target == "unit" and len(t.sha256) == 64
    assert [i.code for i in t.items][:3] == ["TESTU-01", "TESTU-02", "TESTU-03"]
    first = t.items[0]
    assert first.legal_basis[0] == {
        "law": "网络安全法",
        "article": "第23条",
        "article_pre2026": "第21条",
        "quote": "明确网络安全负责人",
    }
    assert first.veto and first.severity == "high" and first.lead_department == "CAC"
    assert t.items[3].section_index == 1 and t.items[3].section_title == "B 关基与网站"
    assert t.items[1].options[0] == {"value": "never", "label": "从未", "label_en": "Never"}
    assert t.items[2].show_if == {"TESTU-02": "never"}
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "checklist.load").limit(1)
    )
    assert event.after["key"] == "TESTU" and event.actor_name == "system"


def test_loading_again_is_a_no_op(en):
    services.load_paths([str(UNIT_OK)])
    before = counts()
    results = services.load_paths([str(UNIT_OK)])
    assert results[0].status == "unchanged"
    assert counts() == before


def test_same_content_written_differently_is_unchanged(en, write):
    services.load_paths([str(UNIT_OK)])
    text = "# reformatted\n" + UNIT_OK.read_text(encoding="utf-8").replace(
        "  - title: A", "\n  - title: A"
    )
    assert services.load_paths([str(write("same.yaml", text))])[0].status == "unchanged"


def test_a_new_version_adds_a_row(en, write):
    services.load_paths([str(UNIT_OK)])
    text = (
        UNIT_OK.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.2"')
        .replace("查阅任命文件", "查阅文件")
    )
    results = services.load_paths([str(write("v2.yaml", text))])
    assert results[0].status == "added"
    assert [t.version for t in services.versions_of("TESTU")] == ["2026.2", "2026.1"]
    assert services.find_version("TESTU").version == "2026.2"


def test_changed_content_with_the_same_version_is_refused(en, write):
    services.load_paths([str(UNIT_OK)])
    before = counts()
    text = UNIT_OK.read_text(encoding="utf-8").replace("查阅任命文件", "查阅文件")
    path = write("changed.yaml", text)
    with pytest.raises(ChecklistError) as err:
        services.load_paths([str(path)])
    assert [str(p) for p in err.value.problems] == [
        f"{path}:3:10: version: TESTU version 2026.1 is already loaded with different content "
        "(expected a new version for changed content, e.g. 2026.2)"
    ]
    assert counts() == before
    # validate reports the same without loading anything.
    _parsed, problems = services.validate_paths([str(path)])
    assert len(problems) == 1 and "already loaded with different content" in str(problems[0])


def test_nothing_is_half_loaded_when_one_file_fails(en, write, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(UNIT_OK, folder / "a.yaml")
    shutil.copy(SYSTEM_OK, folder / "b.yaml")
    (folder / "c.yaml").write_text(
        template_yaml(item_yaml("A-1", "severity: urgent")), encoding="utf-8"
    )
    before = counts()
    with pytest.raises(ChecklistError) as err:
        services.load_paths([str(folder)])
    assert len(err.value.problems) == 1 and "c.yaml:12:19" in str(err.value.problems[0])
    assert counts() == before


def test_a_database_error_rolls_back_every_file(en, monkeypatch):
    real_build = services._build
    calls = []

    def build_then_fail(t, **kw):
        calls.append(t.key)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_build(t, **kw)

    monkeypatch.setattr(services, "_build", build_then_fail)
    before = counts()
    with pytest.raises(RuntimeError):
        services.load_paths([str(UNIT_OK), str(SYSTEM_OK)])
    assert counts() == before


def test_the_same_version_twice_in_one_batch_is_refused(en, write):
    copy = write("copy.yaml", UNIT_OK.read_text(encoding="utf-8"))
    with pytest.raises(ChecklistError) as err:
        services.load_paths([str(UNIT_OK), str(copy)])
    assert "also defined in" in str(err.value.problems[0])
    assert counts()[0] == 0


def test_a_missing_path_is_a_problem(en, tmp_path):
    with pytest.raises(ChecklistError) as err:
        services.load_paths([str(tmp_path / "nope.yaml")])
    assert "no such file or folder" in str(err.value.problems[0])


def _inspection_using(template, make):
    rnd, unit = make.round(), make.unit()
    visit = make.visit(unit=unit, round=rnd)
    inspection = Inspection(
        round_id=rnd.id, visit_id=visit.id, unit_id=unit.id, template_id=template.id
    )
    db.session.add(inspection)
    db.session.commit()
    return inspection


def test_a_version_used_by_an_inspection_is_immutable(en, make):
    services.load_paths([str(UNIT_OK)])
    template = services.find_version("TESTU")
    _inspection_using(template, make)
    template.items[0].text = "改过的问题"
    with pytest.raises(Conflict):
        db.session.commit()
    db.session.rollback()
    template = services.find_version("TESTU")
    template.title = "改过的标题"
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Conflict):
        services.delete_version(template.id, actor=None)
    assert services.find_version("TESTU").items[0].text == "是否明确网络安全第一责任人？"


def test_an_unused_version_can_be_deleted_with_an_audit_event(en, make):
    services.load_paths([str(UNIT_OK)])
    template = services.find_version("TESTU")
    actor = make.user(role="coordinator")
    services.delete_version(template.id, actor=actor)
    assert services.find_version("TESTU") is None
    assert counts()[:2] == (0, 0)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "checklist.delete"))
    assert event.before["key"] == "TESTU" and event.actor_id == actor.id


def test_unused_templates_may_change_bookkeeping(en, make):
    services.load_paths([str(UNIT_OK)])
    template = services.find_version("TESTU")
    _inspection_using(template, make)
    template.source_path = "moved.yaml"  # not part of the content
    db.session.commit()


# --- the CLI ------------------------------------------------------------------------------------


def run(app, *args, lang="en"):
    return app.test_cli_runner().invoke(
        args=["checklists", *args, *(["--lang", lang] if lang else [])]
    )


def test_cli_validate_reports_every_problem_and_exits_1(app, write):
    bad = write("bad.yaml", template_yaml(item_yaml("A-1", "severity: urgent") + item_yaml("A-1")))
    result = run(app, "validate", str(bad))
    assert result.exit_code == 1
    assert (
        f"{bad}:12:19: sections.0.items.0.severity: urgent is not an allowed value" in result.stderr
    )
    assert f"{bad}:14:15: sections.0.items.1.code: duplicate code A-1" in result.stderr
    assert "2 problem(s) found; nothing was saved." in result.stderr


def test_cli_validate_passes_good_files(app):
    result = run(app, "validate", str(UNIT_OK), str(SYSTEM_OK))
    assert result.exit_code == 0, result.output
    assert "TESTU version 2026.1 is valid (8 items)" in result.output


def test_cli_speaks_chinese_by_default(app, write, monkeypatch):
    monkeypatch.delenv("LANG", raising=False)
    bad = write("bad.yaml", template_yaml(item_yaml("A-1", "severity: urgent")))
    result = run(app, "validate", str(bad), lang=None)
    assert result.exit_code == 1
    assert "不是允许的值" in result.stderr and "sections.0.items.0.severity" in result.stderr
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert "is not an allowed value" in run(app, "validate", str(bad), lang=None).stderr


def test_cli_load_then_no_op(app):
    first = run(app, "load", str(UNIT_OK))
    assert first.exit_code == 0, first.output
    assert "TESTU version 2026.1 loaded (8 items)" in first.output
    again = run(app, "load", str(UNIT_OK))
    assert "TESTU version 2026.1 unchanged" in again.output
    with app.app_context():
        assert counts()[0] == 1


def test_cli_load_failure_changes_nothing(app, write):
    bad = write("bad.yaml", "key: [\n")
    result = run(app, "load", str(UNIT_OK), str(bad))
    assert result.exit_code == 1
    assert "bad.yaml:2:1: YAML syntax error" in result.stderr
    with app.app_context():
        assert counts() == (0, 0, 0)


def test_cli_load_without_paths_uses_the_checklists_folder(app, tmp_path, monkeypatch):
    empty = tmp_path / "checklists"
    empty.mkdir()
    monkeypatch.setattr(loader, "default_folder", lambda: empty)
    result = run(app, "load")
    assert result.exit_code == 0 and "Nothing to load" in result.output
    shutil.copy(UNIT_OK, empty / "unit.yaml")
    result = run(app, "load")
    assert result.exit_code == 0 and "TESTU version 2026.1 loaded" in result.output
    monkeypatch.setattr(loader, "default_folder", lambda: tmp_path / "missing")
    assert run(app, "load").exit_code == 0
    assert run(app, "validate").exit_code == 0


def test_cli_export_unknown_key_fails(app, tmp_path):
    result = run(app, "export-xlsx", "NOPE", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1 and "no loaded checklist NOPE" in result.stderr


def test_services_work_in_a_chinese_context(ctx):
    with force_locale("zh_Hans_CN"):
        assert services.load_paths([str(UNIT_OK)])[0].status == "added"
