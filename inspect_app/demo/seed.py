"""Fictional demo data: departments, units with systems, one user per role and this year's rounds.

Every name here is invented. Running it again changes nothing that already exists.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .. import audit
from ..auth.services import hash_password
from ..clock import local_today
from ..extensions import db
from ..models import Department, Round, System, Unit, User

DEMO_PASSWORD = "demo-pass-2026"

# The joint departments of a 师市 office (a division and its city run as one, 师市合一); the
# notices are issued by the 网信 office's administrative name (NOTICE_ISSUER), and the numbers
# take the 师市 prefix (NOTICE_NUMBER_PATTERN).
DEPARTMENTS = [
    ("CAC", "师市党委网信办", "Cyberspace Affairs Office"),
    ("PSB", "师市公安局网安支队", "Police Cyber Security Unit"),
    ("MIIT", "师市工业和信息化局", "Industry and IT Bureau"),
    ("SEC", "师市国家保密局", "Secrecy Bureau"),
]

# code, name, kind, key unit, CII, sector, facts
UNITS = [
    (
        "U001",
        "示例市人民政府办公室",
        "party_gov",
        True,
        False,
        "政务",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "classified": True},
    ),
    (
        "U002",
        "示例市教育局",
        "party_gov",
        True,
        False,
        "教育",
        {"has_website": True, "has_new_media": True, "handles_pi": True},
    ),
    (
        "U003",
        "示例市卫生健康委员会",
        "party_gov",
        True,
        False,
        "卫生健康",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U004",
        "示例市人力资源和社会保障局",
        "party_gov",
        True,
        False,
        "人社",
        {"has_website": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U005",
        "示例市公共资源交易中心",
        "public_institution",
        True,
        False,
        "公共资源",
        {"has_website": True, "handles_pi": True},
    ),
    (
        "U006",
        "示例市第一人民医院",
        "public_institution",
        True,
        True,
        "医疗",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U007",
        "示例市第二中学",
        "public_institution",
        False,
        False,
        "教育",
        {"has_website": True, "handles_pi": True},
    ),
    (
        "U008",
        "示例市融媒体中心",
        "public_institution",
        True,
        False,
        "新闻媒体",
        {"has_website": True, "has_new_media": True},
    ),
    (
        "U009",
        "示例市大数据中心",
        "public_institution",
        True,
        True,
        "政务云",
        {"has_website": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U010",
        "示例市自来水有限公司",
        "soe",
        True,
        True,
        "供水",
        {"has_website": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U011",
        "示例市燃气集团有限公司",
        "soe",
        True,
        True,
        "燃气",
        {"has_website": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U012",
        "示例市公交集团有限公司",
        "soe",
        True,
        False,
        "交通",
        {"has_website": True, "has_new_media": True, "handles_pi": True},
    ),
    (
        "U013",
        "示例市供电有限公司",
        "soe",
        True,
        True,
        "电力",
        {"has_website": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U014",
        "示例市农村商业银行股份有限公司",
        "soe",
        True,
        True,
        "金融",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U015",
        "示例云计算科技有限公司",
        "private_enterprise",
        True,
        False,
        "云服务",
        {"has_website": True, "handles_pi": True},
    ),
    (
        "U016",
        "示例网络科技有限公司",
        "private_enterprise",
        False,
        False,
        "互联网信息服务",
        {"has_website": True, "has_new_media": True, "handles_pi": True},
    ),
    (
        "U017",
        "示例智慧停车运营有限公司",
        "private_enterprise",
        False,
        False,
        "交通",
        {"has_website": True, "handles_pi": True},
    ),
    (
        "U018",
        "示例电子商务有限公司",
        "private_enterprise",
        True,
        False,
        "电子商务",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U019",
        "示例物流信息服务有限公司",
        "private_enterprise",
        False,
        False,
        "物流",
        {"has_website": True, "handles_pi": True},
    ),
    (
        "U020",
        "示例市图书馆",
        "public_institution",
        False,
        False,
        "文化",
        {"has_website": True, "has_new_media": True},
    ),
    # 兵团 units: a regiment (团场), the town run with it (团镇合一) and one of its companies (连队).
    (
        "U021",
        "示例师第一团",
        "regiment",
        True,
        False,
        "团场",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "important_data": True},
    ),
    (
        "U022",
        "示例镇人民政府（第一团）",
        "regiment_town",
        True,
        False,
        "政务",
        {"has_website": True, "has_new_media": True, "handles_pi": True, "classified": True},
    ),
    (
        "U023",
        "示例师第一团第三连",
        "company",
        False,
        False,
        "连队",
        {"handles_pi": True},
    ),
]
# A unit's parent in the registry (a company belongs to its regiment).
PARENTS = {"U023": "U021"}

# unit code -> [(system code suffix, name, MLPS level, CII, internet-facing)]
SYSTEMS = {
    "U001": [("OA", "协同办公系统", 3, False, False), ("WEB", "政府门户网站", 3, False, True)],
    "U002": [
        ("EDU", "教育招生管理平台", 3, False, True),
        ("WEB", "教育局门户网站", 2, False, True),
    ],
    "U003": [("HIS", "全民健康信息平台", 3, False, False)],
    "U004": [
        ("SI", "社会保险业务系统", 3, False, False),
        ("WEB", "人社网上办事大厅", 3, False, True),
    ],
    "U005": [("TRADE", "电子交易平台", 3, False, True)],
    "U006": [
        ("HIS", "医院信息系统", 3, True, False),
        ("APP", "预约挂号小程序后台", 2, False, True),
    ],
    "U007": [("WEB", "学校门户网站", 2, False, True)],
    "U008": [("CMS", "融媒体内容发布系统", 3, False, True)],
    "U009": [
        ("CLOUD", "政务云平台", 3, True, False),
        ("SHARE", "数据共享交换平台", 3, True, False),
    ],
    "U010": [
        ("SCADA", "供水调度控制系统", 3, True, False),
        ("BILL", "营业收费系统", 2, False, True),
    ],
    "U011": [("SCADA", "燃气管网监控系统", 3, True, False)],
    "U012": [("PAY", "公交支付系统", 3, False, True), ("DISP", "智能调度系统", 2, False, False)],
    "U013": [("DMS", "配电自动化系统", 4, True, False)],
    "U014": [("CORE", "核心业务系统", 4, True, False), ("EBANK", "网上银行系统", 3, True, True)],
    "U015": [("IAAS", "云服务平台", 3, False, True)],
    "U016": [("PORTAL", "资讯门户网站", 2, False, True)],
    "U017": [("PARK", "停车收费平台", 2, False, True)],
    "U018": [("MALL", "电商交易平台", 3, False, True), ("CRM", "会员管理系统", 2, False, False)],
    "U019": [("TMS", "运输管理系统", 2, False, True)],
    "U020": [("WEB", "图书馆门户网站", 1, False, True)],
    "U021": [("OA", "团场综合办公系统", 2, False, False)],
    "U022": [("WEB", "镇政务服务网站", 2, False, True)],
}

# Systems the 等保 extension requirements apply to: cloud platforms and industrial control systems.
CLOUD_SYSTEMS = {"U009-CLOUD", "U015-IAAS"}
ICS_SYSTEMS = {"U010-SCADA", "U011-SCADA", "U013-DMS"}


# username, role, display name, department code, unit code, certificate number
USERS = [
    ("admin", "admin", "系统管理员", None, None, ""),
    ("coordinator", "coordinator", "陈协调", "CAC", None, ""),
    ("inspector1", "inspector", "李检查", "CAC", None, "网信执字0101号"),
    ("inspector2", "inspector", "王警官", "PSB", None, "公网安执字0202号"),
    ("inspector3", "inspector", "赵工信", "MIIT", None, "工信执字0303号"),
    ("inspector4", "inspector", "孙保密", "SEC", None, "保密执字0404号"),
    ("viewer", "viewer", "周领导", None, None, ""),
    ("unit_u001", "unit", "市政府办联络员", None, "U001", ""),
    ("unit_u006", "unit", "第一医院联络员", None, "U006", ""),
    ("unit_u010", "unit", "自来水公司联络员", None, "U010", ""),
    ("unit_u014", "unit", "农商行联络员", None, "U014", ""),
]

ROUNDS = [
    ("元旦春节重大节点专项检查", "major_dates", "enterprise_inspection", (1, 6), (1, 24)),
    ("重点单位网络安全检查", "key_units", "party_gov_supervision", (3, 2), (3, 27)),
    ("重要系统等级保护专项检查", "key_systems", "enterprise_inspection", (5, 6), (5, 29)),
    ("数据安全和个人信息保护专项排查", "risk_review", "special_review", (7, 1), (7, 24)),
    ("国庆重大节点专项检查", "major_dates", "enterprise_inspection", (9, 1), (9, 25)),
    ("年度网络安全风险隐患排查", "risk_review", "special_review", (11, 2), (11, 27)),
]


# The first two characters of a 统一社会信用代码 (GB 32100): 11 机关, 12 事业单位, 91 企业.
CREDIT_PREFIX = {
    "party_gov": "11",
    "regiment": "11",
    "regiment_town": "11",
    "public_institution": "12",
    "soe": "91",
    "private_enterprise": "91",
}
# 兵团's administrative division code (6 digits) in fictional numbers; 0997 is 阿拉尔's area code.
AREA_CODE = "0997"
DIVISION_CODE = "659099"


def _credit_code(n: int, kind: str) -> str | None:
    """A fictional 统一社会信用代码 with a valid GB 32100 check digit; None for a 连队, which is
    no registered body of its own."""
    from ..directory.creditcode import check_digit

    prefix = CREDIT_PREFIX.get(kind)
    if prefix is None:
        return None
    first17 = prefix + DIVISION_CODE + f"MA{n:07d}"
    return first17 + check_digit(first17)


def filing_number(unit_code: str, n: int) -> str:
    """A fictional 等保备案 number in the real shape: 11 digits, a hyphen, 5 digits."""
    return f"{DIVISION_CODE[:6]}26{int(unit_code[1:]):03d}-{n:05d}"


def _one(model, **by):
    return db.session.scalar(sa.select(model).filter_by(**by))


def has_users() -> bool:
    return db.session.scalar(sa.select(User.id).limit(1)) is not None


def seed(year: int | None = None, *, inspections: bool = True) -> dict[str, int]:
    """Create whatever of the demo data is missing. Commits once; returns how many rows it added."""
    year = year or local_today().year
    added = {"departments": 0, "units": 0, "systems": 0, "users": 0, "rounds": 0, "inspections": 0}
    departments = {}
    for code, name, name_en in DEPARTMENTS:
        dept = _one(Department, code=code)
        if dept is None:
            dept = Department(code=code, name=name, name_en=name_en)
            db.session.add(dept)
            added["departments"] += 1
        departments[code] = dept
    units = {}
    for n, (code, name, kind, key, cii, sector, facts) in enumerate(UNITS, start=1):
        unit = _one(Unit, code=code)
        if unit is None:
            unit = Unit(
                code=code,
                name=name,
                kind=kind,
                is_key_unit=key,
                is_cii=cii,
                sector=sector,
                credit_code=_credit_code(n, kind),
                address=f"示例市示例区示例路{n}号",
                contact_name=f"联络员{n}",
                contact_phone=f"{AREA_CODE}-460{n:04d}",
                contact_email=f"liaison{n}@example.cn",
                **facts,
            )
            db.session.add(unit)
            added["units"] += 1
        units[code] = unit
    db.session.flush()
    for child, parent in PARENTS.items():
        if units[child].parent_id is None:
            units[child].parent = units[parent]
    for unit_code, systems in SYSTEMS.items():
        for n, (suffix, name, level, cii, internet) in enumerate(systems, start=1):
            code = f"{unit_code}-{suffix}"
            if _one(System, code=code) is None:
                db.session.add(
                    System(
                        unit=units[unit_code],
                        code=code,
                        name=name,
                        mlps_level=level,
                        is_cii=cii,
                        internet_facing=internet,
                        is_cloud=code in CLOUD_SYSTEMS,
                        is_ics=code in ICS_SYSTEMS,
                        filing_number=filing_number(unit_code, n) if level >= 2 else "",
                        address="https://www.example.cn/" + code.lower() if internet else "机房A",
                    )
                )
                added["systems"] += 1
    password_hash = None
    for username, role, display, dept_code, unit_code, cert in USERS:
        if _one(User, username=username) is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            db.session.add(
                User(
                    username=username,
                    role=role,
                    display_name=display,
                    password_hash=password_hash,
                    department=departments.get(dept_code),
                    unit=units.get(unit_code),
                    certificate_no=cert,
                )
            )
            added["users"] += 1
    for seq, (title, theme, nature, start, end) in enumerate(ROUNDS, start=1):
        if _one(Round, year=year, seq=seq) is None:
            rnd = Round(
                year=year,
                seq=seq,
                title=f"{year}年第{seq}轮{title}",
                theme=theme,
                nature=nature,
                start_date=date(year, *start),
                end_date=date(year, *end),
            )
            rnd.departments = list(departments.values())
            db.session.add(rnd)
            added["rounds"] += 1
    if any(added.values()):
        audit.record(None, "demo.seed", object_type="Demo", after=added)
    db.session.commit()
    from .inspections import seed_inspections

    added["inspections"] = seed_inspections(year) if inspections else 0
    return added
