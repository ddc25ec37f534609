"""The legal review's rules (domain-review §1): statutory basis or advisory, Party-rule items only for
Party/government/SOE units, no 全文 for laws, GB/T 22239 clauses per MLPS level, and the shipped
checklists' corrected items."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

import pytest

from inspect_app.checklists import basis, conditions, loader
from inspect_app.extensions import db
from inspect_app.inspections import answering
from inspect_app.inspections import services as inspections
from inspect_app.labels import legal_basis_text
from inspect_app.models import Finding
from inspect_app.models.org import kinds_covered

from ..inspections.conftest import change
from ..inspections.helpers import png_bytes
from .conftest import item_yaml, template_yaml


@pytest.fixture(autouse=True)
def _app(ctx):
    """Parsing reads the size limit from the app's config."""
    yield


def check(text: str) -> list[str]:
    return [str(p) for p in loader.parse_bytes(text.encode(), "t.yaml").problems]


@cache
def shipped() -> dict[str, dict]:
    """Every shipped item by code (as validated), from checklists/*.yaml."""
    items = {}
    for path in sorted(loader.default_folder().glob("*.yaml")):
        parsed = loader.parse_path(path)
        assert parsed.problems == [], parsed.problems
        for section in parsed.template.definition()["sections"]:
            for item in section["items"]:
                item["legal_basis"] = [basis.without_none(b) for b in item["legal_basis"]]
                items[item["code"]] = item
    return items


def laws(code: str) -> list[tuple[str, str]]:
    return [(b["law"], b["article"]) for b in shipped()[code]["legal_basis"] if "law" in b]


# --- validator rules ----------------------------------------------------------------------------


def test_an_item_without_statutory_basis_is_refused(en):
    problems = check(
        template_yaml(
            item_yaml("A-1", "legal_basis: [{standard: GB/T 22239-2019, clause: 8.1.9.1}]")
        )
    )
    assert any("A-1" in p or "items.0" in p for p in problems)
    assert any("has no statutory basis" in p for p in problems)


def test_an_advisory_item_needs_no_statutory_basis(en):
    assert check(template_yaml(item_yaml("A-1", "advisory: true"))) == []


def test_a_fact_item_needs_no_basis(en):
    assert check(template_yaml(item_yaml("A-1", "advisory: false"))) != []
    assert check(template_yaml(item_yaml("A-1", "kind: number\nadvisory: false"))) == []


@pytest.mark.parametrize(
    "law, kind",
    [
        ("网络安全法", "law"),
        ("关键信息基础设施安全保护条例", "regulation"),
        ("公安机关互联网安全监督检查规定", "rule"),
        ("互联网信息服务管理办法", "regulation"),
        ("党委（党组）网络安全工作责任制实施办法", "party"),
        ("国办秘函〔2019〕19号", "normative"),
        ("信息安全等级保护管理办法（公通字〔2007〕43号）", "normative"),
        ("工业控制系统信息安全防护指南", "normative"),
    ],
)
def test_instruments_are_classified(law, kind):
    assert basis.instrument_of({"law": law, "article": "第1条"}) == kind


def test_an_entry_may_name_its_instrument(en):
    entry = "legal_basis: [{law: 某某管理规定, article: 第5条, instrument: rule}]"
    assert check(template_yaml(item_yaml("A-1", entry))) == []
    assert any(
        "no statutory basis" in p
        for p in check(
            template_yaml(item_yaml("A-1", "legal_basis: [{law: 某某通知, article: 一}]"))
        )
    )


PARTY_ONLY = (
    "legal_basis: [{law: 党委（党组）网络安全工作责任制实施办法, article: 第3条}]\nadvisory: true"
)


def test_a_party_rule_alone_cannot_apply_to_enterprises(en):
    problems = check(template_yaml(item_yaml("A-1", PARTY_ONLY)))
    assert any("rests only on a Party rule" in p for p in problems)
    problems = check(
        template_yaml(item_yaml("A-1", PARTY_ONLY + "\napplies_if: {unit.kind: {ne: party_gov}}"))
    )
    assert any("rests only on a Party rule" in p for p in problems)


def test_a_party_rule_item_limited_to_party_government_and_soe_units_passes(en):
    limited = PARTY_ONLY + "\napplies_if: {unit.kind: {in: [party_gov, public_institution, soe]}}"
    assert check(template_yaml(item_yaml("A-1", limited))) == []
    nested = PARTY_ONLY + "\napplies_if: {all: [{unit.has_website: true}, {unit.kind: party_gov}]}"
    assert check(template_yaml(item_yaml("A-1", nested))) == []


def test_a_party_rule_beside_a_statute_needs_no_limit(en):
    entries = (
        "legal_basis:\n  - {law: 党委（党组）网络安全工作责任制实施办法, article: 第2条}\n"
        "  - {law: 网络安全法, article: 第23条第（一）项}"
    )
    assert check(template_yaml(item_yaml("A-1", entries))) == []


def test_a_law_cited_as_a_whole_is_refused(en):
    problems = check(
        template_yaml(item_yaml("A-1", "legal_basis: [{law: 网络安全审查办法, article: 全文}]"))
    )
    assert any("must be cited by article, not 全文" in p for p in problems)
    problems = check(
        template_yaml(item_yaml("A-1", "legal_basis: [{law: 数据安全法, article: 全文}]"))
    )
    assert any("legal_basis.0.article" in p and "全文" in p for p in problems)


def test_a_system_template_needs_a_gbt_22239_clause_for_every_level_it_applies_to(en):
    plain = 'legal_basis:\n  - {law: 网络安全法, article: 第23条}\n  - {standard: GB/T 22239-2019, clause: "8.1.4.9"}\napplies_if: {system.mlps_level: {gte: 2}}'
    problems = check(template_yaml(item_yaml("A-1", plain), target="system"))
    assert any("no clause for level 2, 3, 4" in p for p in problems)
    partial = 'legal_basis:\n  - {law: 网络安全法, article: 第23条}\n  - {standard: GB/T 22239-2019, clauses: {level3: "8.1.4.9"}}\napplies_if: {system.mlps_level: {gte: 3}}'
    problems = check(template_yaml(item_yaml("A-1", partial), target="system"))
    assert any("no clause for level 4" in p for p in problems)
    full = partial.replace('level3: "8.1.4.9"', 'level3: "8.1.4.9", level4: "9.1.4.9"')
    assert check(template_yaml(item_yaml("A-1", full), target="system")) == []


def test_a_unit_template_may_cite_a_plain_gbt_22239_clause(en):
    entries = 'legal_basis:\n  - {law: 网络安全法, article: 第23条}\n  - {standard: GB/T 22239-2019, clause: "8.1.7.1 a)"}'
    assert check(template_yaml(item_yaml("A-1", entries))) == []


# --- rendering per level ------------------------------------------------------------------------

ENTRY = {
    "standard": "GB/T 22239-2019",
    "clauses": {"level2": "7.1.4.8", "level3": "8.1.4.9", "level4": "9.1.4.9"},
}


def test_a_clause_is_resolved_for_the_systems_level():
    assert basis.for_level(ENTRY, 2) == {"standard": "GB/T 22239-2019", "clause": "7.1.4.8"}
    assert basis.for_level(ENTRY, 4) == {"standard": "GB/T 22239-2019", "clause": "9.1.4.9"}
    assert basis.for_level({"law": "网络安全法", "article": "第23条"}, 4)["article"] == "第23条"
    assert basis.for_level(ENTRY, 5) == ENTRY and basis.for_level(ENTRY, None) == ENTRY


def test_an_unresolved_entry_prints_every_levels_clause(en):
    text = legal_basis_text(ENTRY)
    assert "7.1.4.8" in text and "8.1.4.9" in text and "9.1.4.9" in text


@pytest.mark.parametrize(
    "cond, levels",
    [
        ({"system.mlps_level": {"gte": 3}}, {3, 4}),
        ({"system.mlps_level": 2}, {2}),
        ({"all": [{"system.is_cii": True}, {"system.mlps_level": {"in": [2, 4]}}]}, {2, 4}),
        (None, {1, 2, 3, 4}),
    ],
)
def test_levels_an_item_can_apply_to(cond, levels):
    assert basis.levels_allowed(cond) == levels


# --- the shipped checklists ---------------------------------------------------------------------


def test_every_shipped_item_has_a_statutory_basis_or_is_advisory():
    for code, item in shipped().items():
        if item["kind"] == "yes_no":
            assert item["advisory"] or basis.has_statutory_basis(item["legal_basis"]), code


def test_every_shipped_advisory_item_is_limited_to_public_bodies():
    advisory = {code for code, item in shipped().items() if item["advisory"]}
    assert {"RESP-02", "RESP-03", "RESP-06", "WEB-06", "WEB-07", "WEB-10", "WEB-11"} <= advisory
    for code in advisory - {"RESP-23"}:
        kinds = basis.kinds_allowed(shipped()[code]["applies_if"])
        assert kinds is not None and kinds <= set(basis.PARTY_RULE_KINDS), code


def test_every_mlps_item_cites_the_cybersecurity_law_so_the_notice_has_a_basis():
    mlps = [c for c, item in shipped().items() if c.startswith("MLPS-") and not item["advisory"]]
    assert len(mlps) == 57
    for code in mlps:
        assert any(law == "网络安全法" for law, _ in laws(code)), code
    assert ("网络安全法", "第23条第（三）项") in laws("MLPS-SMC-02")
    assert ("网络安全法", "第23条第（四）项") in laws("MLPS-CE-11")
    assert ("公安机关互联网安全监督检查规定", "第10条第（七）项") in laws("MLPS-CE-07")


def test_no_shipped_law_is_cited_as_a_whole():
    for code, item in shipped().items():
        for entry in item["legal_basis"]:
            if basis.is_statutory(entry):
                assert "全文" not in entry["article"], code


def test_resp_03_and_06_apply_only_to_party_government_and_soe_units():
    for code in ("RESP-02", "RESP-03", "RESP-06"):
        item = shipped()[code]
        assert item["advisory"] is True
        # 团场 and 团镇 are 党政机关 by their legal character (models/org.py).
        assert basis.kinds_allowed(item["applies_if"]) == set(
            kinds_covered(("party_gov", "public_institution", "soe"))
        )
    assert ("党委（党组）网络安全工作责任制实施办法", "第7条、第8条") in laws("RESP-06")


def test_resp_23_no_longer_cites_the_secrecy_bureaus_duty():
    assert all(law != "保守国家秘密法实施条例" for law, _ in laws("RESP-23"))
    assert shipped()["RESP-23"]["advisory"] is True
    assert "不另行形成新的整改问题" in shipped()["RESP-23"]["guidance"]


def test_resp_24_binds_the_buyer_not_the_seller_and_asks_for_certificates():
    assert ("网络安全法", "第25条") not in laws("RESP-24")
    assert ("网络安全法", "第23条") in laws("RESP-24")
    assert ("关键信息基础设施安全保护条例", "第19条") in laws("RESP-24")
    guidance = shipped()["RESP-24"]["guidance"]
    assert "安全认证证书" in guidance and "2023年7月1日起不再核发" in guidance


@pytest.mark.parametrize("code", ["DATA-10", "PI-12"])
def test_public_affairs_organisations_see_the_state_organ_items(code):
    assert basis.kinds_allowed(shipped()[code]["applies_if"]) == set(
        kinds_covered(("party_gov", "public_institution"))
    )


def test_web_01_names_the_provincial_telecom_authority():
    guidance = shipped()["WEB-01"]["guidance"]
    assert "省级电信管理机构" in guidance and "移交" in guidance
    assert ("互联网信息服务管理办法", "第4条、第8条、第12条") in laws("WEB-01")


def test_web_02_cites_article_12_and_the_police_inspection_hook():
    assert laws("WEB-02") == [
        ("计算机信息网络国际联网安全保护管理办法", "第12条"),
        ("公安机关互联网安全监督检查规定", "第10条第（一）项"),
    ]


def test_web_04_cites_the_attack_duties_and_keeps_article_49_for_illegal_content():
    cited = laws("WEB-04")
    assert ("网络安全法", "第23条第（二）项") in cited and ("网络安全法", "第27条") in cited
    assert ("网络安全法", "第49条") in cited
    assert "第49条（原第47条）仅用于违法有害信息" in shipped()["WEB-04"]["guidance"]


@pytest.mark.parametrize("code", ["WEB-07", "WEB-10"])
def test_single_veto_web_items_are_high_and_veto(code):
    item = shipped()[code]
    assert item["severity"] == "high" and item["veto"] is True


def test_bm_01_and_02_skip_private_enterprises_without_secrets():
    for code in ("BM-01", "BM-02"):
        cond = shipped()[code]["applies_if"]
        private = _unit(kind="private_enterprise")
        assert conditions.applies(cond, unit=private) is False
        assert conditions.applies(cond, unit=_unit(kind="private_enterprise", classified=True))
        assert conditions.applies(cond, unit=_unit(kind="soe"))


@pytest.mark.parametrize("code", ["BM-03", "BM-04", "BM-05"])
def test_secret_handling_items_reach_every_party_and_government_body(code):
    cond = shipped()[code]["applies_if"]
    assert conditions.applies(cond, unit=_unit(kind="party_gov")) is True
    assert conditions.applies(cond, unit=_unit(kind="private_enterprise")) is False


def test_bm_05_is_a_veto_and_cites_article_57_10():
    item = shipped()["BM-05"]
    assert item["veto"] is True
    assert laws("BM-05") == [("保守国家秘密法", "第31条第（三）项、第29条、第57条第（十）项")]


def test_the_self_check_sheet_is_no_longer_a_basis():
    for code, item in shipped().items():
        assert all(b.get("law") != "机关单位工作人员保密自查内容" for b in item["legal_basis"]), (
            code
        )
    assert ("保守国家秘密法", "第31条第（六）项") in laws("BM-07")
    assert ("保守国家秘密法实施条例", "第58条第（七）项") in laws("BM-07")


def test_bm_11_no_longer_applies_to_private_websites():
    cond = shipped()["BM-11"]["applies_if"]
    assert (
        conditions.applies(cond, unit=_unit(kind="private_enterprise", has_website=True)) is False
    )
    assert conditions.applies(cond, unit=_unit(kind="party_gov", has_website=True)) is True


def test_cii_16_and_pi_09_cite_articles():
    assert ("网络安全审查办法", "第5条") in laws("CII-16")
    assert all(law != "个人信息保护合规审计管理办法" for law, _ in laws("PI-09"))


def test_level_4_only_requirements_exist():
    for code in ("MLPS-PE-05", "MLPS-CN-04", "MLPS-AB-07", "MLPS-CE-13"):
        item = shipped()[code]
        assert basis.levels_allowed(item["applies_if"]) == {4}, code
        standard = next(b for b in item["legal_basis"] if "standard" in b)
        assert standard["clauses"]["level4"].startswith("9."), code


def _unit(**facts):
    from inspect_app.models import Unit

    defaults = dict(
        kind="party_gov",
        is_key_unit=False,
        is_cii=False,
        has_website=False,
        has_new_media=False,
        handles_pi=False,
        important_data=False,
        classified=False,
        sector="",
    )
    return Unit(**{**defaults, **facts})


# --- findings ------------------------------------------------------------------------------------

ADVISORY_ITEMS = [
    {"code": "AD-01", "text": "领导班子是否专题研究？", "advisory": True},
    {"code": "AD-02", "text": "是否留存日志？"},
]


def _submit(make, template, unit, *, system=None, results):
    team = [make.user(role="inspector"), make.user(role="inspector")]
    inspection = make.inspection(template=template, unit=unit, system=system, members=team)
    changes = [
        change(
            template.items[n].id,
            result=result,
            finding_description="经查，未落实" if result == "noncompliant" else "",
        )
        for n, result in enumerate(results)
    ]
    answering.apply_changes(inspection.id, changes, actor=team[0])
    inspections.submit_inspection(
        inspection.id,
        actor=team[0],
        signatory_name="王五",
        signature_png=png_bytes(),
        today=date(2026, 6, 1),
        now=datetime(2026, 6, 1, 9, 0),
    )
    return db.session.scalars(
        db.select(Finding).where(Finding.inspection_id == inspection.id).order_by(Finding.id)
    ).all()


def test_an_advisory_item_never_becomes_a_finding_for_an_enterprise(ctx, make):
    template = make.template(key="ADV", items=ADVISORY_ITEMS)
    findings = _submit(
        make,
        template,
        make.unit(kind="private_enterprise"),
        results=["noncompliant", "noncompliant"],
    )
    assert [f.item_id for f in findings] == [template.items[1].id]


def test_an_advisory_item_is_a_finding_for_a_government_body(ctx, make):
    template = make.template(key="ADV", items=ADVISORY_ITEMS)
    findings = _submit(
        make, template, make.unit(kind="party_gov"), results=["noncompliant", "noncompliant"]
    )
    assert len(findings) == 2


@pytest.mark.parametrize("level, clause", [(2, "7.1.4.8"), (3, "8.1.4.9"), (4, "9.1.4.9")])
def test_a_finding_cites_the_clause_of_its_systems_level(ctx, make, level, clause):
    items = [
        {
            "code": "LV-01",
            "text": "是否定期备份？",
            "legal_basis": [{"law": "网络安全法", "article": "第23条第（四）项"}, ENTRY],
        }
    ]
    template = make.template(key="LVL", target="system", items=items)
    system = make.system(mlps_level=level)
    (finding,) = _submit(make, template, system.unit, system=system, results=["noncompliant"])
    assert finding.legal_basis == [
        {"law": "网络安全法", "article": "第23条第（四）项"},
        {"standard": "GB/T 22239-2019", "clause": clause},
    ]


# --- coverage added after the review (§2.2) ------------------------------------------------------


@pytest.mark.parametrize(
    "code, cited, lead",
    [
        ("RESP-25", ("计算机信息网络国际联网安全保护管理办法", "第12条"), "PSB"),
        ("RESP-26", ("公安机关互联网安全监督检查规定", "第10条第（三）项"), "PSB"),
        ("RESP-27", ("网络安全法", "第24条"), "MIIT"),
        ("WEB-14", ("反电信网络诈骗法", "第23条"), "MIIT"),
        ("WEB-15", ("互联网新闻信息服务管理规定", "第5条"), "CAC"),
        ("WEB-16", ("网络安全法", "第26条"), "CAC"),
        ("WEB-17", ("互联网信息服务算法推荐管理规定", "第24条"), "CAC"),
        ("BM-14", ("保守国家秘密法实施条例", "第58条"), "SEC"),
        ("BM-19", ("保守国家秘密法实施条例", "第58条"), "SEC"),
        ("PI-14", ("个人信息保护法", "第6条"), "CAC"),
        ("MLPS-CR-01", ("密码法", "第27条"), ""),
        ("ICS-02", ("网络安全法", "第23条第（二）项"), "MIIT"),
        ("PWR-02", ("电力监控系统安全防护规定", "第3条"), ""),
    ],
)
def test_new_coverage_items_carry_basis_guidance_and_lead(code, cited, lead):
    item = shipped()[code]
    assert cited in laws(code)
    assert basis.has_statutory_basis(item["legal_basis"]) and not item["advisory"]
    assert item["guidance"] and item["lead_department"] == lead
    assert item["severity"] in ("high", "medium", "low") and item["deadline_days"] > 0


def test_miit_now_leads_real_items():
    miit = [code for code, item in shipped().items() if item["lead_department"] == "MIIT"]
    assert len(miit) >= 8 and {"ICS-01", "ICS-02", "WEB-14", "RESP-27"} <= set(miit)


def test_every_government_body_is_asked_about_internet_use_and_ai_tools():
    cond = shipped()["BM-19"]["applies_if"]
    assert conditions.applies(cond, unit=_unit(kind="party_gov")) is True
    assert "人工智能" in shipped()["BM-19"]["text"]


def test_review_notes_taken_up():
    assert ("个人信息保护法", "第25条") in laws("PI-12")
    assert shipped()["CII-09"]["deadline_days"] == 60
    assert "报送履行个人信息保护职责的部门" in shipped()["PI-08"]["guidance"]
    assert "第13条第一款第（三）项" in shipped()["PI-06"]["guidance"]
    assert "较大及以上" in shipped()["RESP-19"]["guidance"]


def test_a_finding_of_the_shipped_mlps_checklist_on_a_level_4_system(ctx, make):
    """The notice's 依据 is built from the findings' law entries: an MLPS finding now has one, and
    its GB/T clause is the level-4 one (chapter 9)."""
    from inspect_app.checklists import services as checklists

    folder = loader.default_folder()  # mlps.yaml links to resp.yaml (same_as)
    checklists.load_paths([str(folder / "resp.yaml"), str(folder / "mlps.yaml")])
    template = checklists.find_version("MLPS")
    system = make.system(mlps_level=4, unit=make.unit(kind="soe"))
    results = ["noncompliant" if i.code == "MLPS-OM-06" else "compliant" for i in template.items]
    (finding,) = _submit(make, template, system.unit, system=system, results=results)
    assert {
        "law": "网络安全法",
        "article": "第23条第（四）项",
        "article_pre2026": "第21条第（四）项",
    } in (finding.legal_basis)
    assert {"standard": "GB/T 22239-2019", "clause": "9.1.10.11"} in finding.legal_basis
    assert all("clauses" not in b for b in finding.legal_basis)


def test_no_item_rests_only_on_cii_duties_unless_it_applies_to_cii_operators_or_public_bodies():
    cii_articles = ("第35条", "第36条", "第37条", "第38条", "第39条", "第40条", "第41条")

    def cii_only(entry):
        if entry["law"] == "关键信息基础设施安全保护条例":
            return True
        return entry["law"] == "网络安全法" and entry["article"].startswith(cii_articles)

    for code, item in shipped().items():
        statutory = [e for e in item["legal_basis"] if "law" in e and basis.is_statutory(e)]
        if statutory and all(cii_only(e) for e in statutory):
            cond = item["applies_if"]
            enterprise = _unit(kind="private_enterprise")
            assert not conditions.applies(cond, unit=enterprise), code


def test_an_advisory_item_on_an_enterprise_needs_no_finding_description(ctx, make):
    template = make.template(key="ADV", items=ADVISORY_ITEMS)
    unit = make.unit(kind="soe")
    team = [make.user(role="inspector"), make.user(role="inspector")]
    inspection = make.inspection(template=template, unit=unit, members=team)
    answering.apply_changes(
        inspection.id,
        [
            change(template.items[0].id, result="noncompliant"),
            change(template.items[1].id, result="compliant"),
        ],
        actor=team[0],
    )
    assert inspections.missing_for_submit(inspection) == []
