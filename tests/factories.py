"""Small factories for test data; each commits so the app sees the rows (inside the test's transaction)."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from inspect_app.auth import totp
from inspect_app.extensions import db
from inspect_app.models import Department, Round, System, Unit, User

TEST_PASSWORD = "correct-horse-42"
_seq = itertools.count(1)
_hash = None


def _password_hash() -> str:
    global _hash
    _hash = _hash or generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")
    return _hash


class Factory:
    def department(self, code: str | None = None, **kw) -> Department:
        n = next(_seq)
        dept = Department(code=code or f"D{n}", name=kw.pop("name", f"部门{n}"), **kw)
        db.session.add(dept)
        db.session.commit()
        return dept

    def unit(self, **kw) -> Unit:
        n = next(_seq)
        kw.setdefault("code", f"T{n:04d}")
        kw.setdefault("name", f"测试单位{n}")
        kw.setdefault("kind", "party_gov")
        unit = Unit(**kw)
        db.session.add(unit)
        db.session.commit()
        return unit

    def system(self, unit: Unit | None = None, **kw) -> System:
        n = next(_seq)
        kw.setdefault("code", f"S{n:04d}")
        kw.setdefault("name", f"测试系统{n}")
        kw.setdefault("mlps_level", 3)
        system = System(unit=unit or self.unit(), **kw)
        db.session.add(system)
        db.session.commit()
        return system

    def user(self, role: str = "coordinator", **kw) -> User:
        n = next(_seq)
        kw.setdefault("username", f"{role}{n}")
        if role == "unit" and "unit" not in kw and "unit_id" not in kw:
            kw["unit"] = self.unit()
        if role == "inspector" and "department" not in kw and "department_id" not in kw:
            kw["department"] = self.department()
        secret = kw.pop("mfa_secret", None)  # as the user's app shows it: stored sealed
        user = User(role=role, password_hash=_password_hash(), **kw)
        db.session.add(user)
        if secret is not None:
            db.session.flush()
            user.mfa_secret = totp.seal(secret, user.id)
        db.session.commit()
        return user

    def round(self, year: int = 2026, seq: int = 1, **kw) -> Round:
        existing = db.session.query(Round).filter_by(year=year, seq=seq).one_or_none()
        if existing is not None:
            return existing
        kw.setdefault("title", f"{year}年第{seq}轮")
        kw.setdefault("start_date", date(year, seq * 2 - 1, 1))
        rnd = Round(year=year, seq=seq, **kw)
        db.session.add(rnd)
        db.session.commit()
        return rnd

    def template(
        self, key: str = "TST", version: str = "1", target: str = "unit", items=None, **kw
    ):
        """A checklist version; items are dicts of ChecklistItem fields (code and text at least)."""
        from inspect_app.models import ChecklistItem, ChecklistTemplate

        template = ChecklistTemplate(
            key=key,
            version=version,
            title=kw.pop("title", f"测试清单{key}"),
            target=target,
            sha256=kw.pop("sha256", f"{key}-{version}".ljust(64, "0")[:64]),
            **kw,
        )
        for position, spec in enumerate(items or [{"code": f"{key}-01", "text": "是否符合？"}]):
            spec = {
                "kind": "yes_no",
                "severity": "medium",
                "deadline_days": 30,
                "evidence": "optional",
                **spec,
            }
            spec.setdefault("section_title", "A 基本要求")
            template.items.append(ChecklistItem(position=position, **spec))
        db.session.add(template)
        db.session.commit()
        return template

    def visit(self, *, unit=None, round=None, lead=None, **kw):
        """A visit of a unit in a round (notice fields and record fields as keywords)."""
        from inspect_app.models import Visit

        unit = unit or self.unit()
        round = round or self.round(seq=3)
        kw.setdefault("notice_status", "approved" if kw.get("notice_number") else None)
        visit = Visit(round_id=round.id, unit_id=unit.id, lead_id=lead.id if lead else None, **kw)
        db.session.add(visit)
        db.session.flush()
        return visit

    def inspection(
        self,
        *,
        template=None,
        unit=None,
        system=None,
        round=None,
        members=None,
        lead=None,
        visit=None,
        **kw,
    ):
        """An inspection with a team of two inspectors (the first is the lead) unless given,
        in its own visit unless one is given (notice_* keywords go to the visit)."""
        from inspect_app.models import Inspection, InspectionMember

        if template is None:
            from inspect_app.models import ChecklistTemplate

            template = (
                db.session.query(ChecklistTemplate).filter_by(key="TST", version="1").one_or_none()
                or self.template()
            )
        unit = unit or (system.unit if system is not None else self.unit())
        round = round or self.round(seq=kw.pop("seq", 3))
        if members is None:
            members = [self.user(role="inspector"), self.user(role="inspector")]
        visit_kw = {k: kw.pop(k) for k in list(kw) if k.startswith("notice_")}
        if visit is None:
            visit = self.visit(
                unit=unit,
                round=round,
                lead=lead or members[0],
                scheduled_on=kw.get("scheduled_on"),
                **visit_kw,
            )
        else:
            for key, value in visit_kw.items():
                setattr(visit, key, value)
        inspection = Inspection(
            round_id=round.id,
            visit_id=visit.id,
            unit_id=unit.id,
            system_id=system.id if system is not None else None,
            template_id=template.id,
            lead_id=(lead or members[0]).id,
            **kw,
        )
        db.session.add(inspection)
        for user in members:
            inspection.members.append(
                InspectionMember(
                    user_id=user.id,
                    department_id=user.department_id,
                    certificate_no=f"证{user.id:04d}",
                )
            )
        db.session.add(inspection)
        db.session.flush()
        db.session.refresh(visit, ["inspections"])
        visit.sync_team()  # as rounds.services keeps it
        db.session.commit()
        return inspection

    def finding(self, inspection=None, *, status: str = "open", due_date=None, **kw):
        """A finding of a submitted inspection with its rectification item (status, due date)."""
        from inspect_app.models import Finding, RectificationItem

        inspection = inspection or self.inspection(status="submitted")
        n = next(_seq)
        finding = Finding(
            code=kw.pop("code", f"F-{n:05d}"),
            inspection_id=inspection.id,
            item_id=kw.pop("item_id", inspection.template.items[0].id),
            unit_id=inspection.unit_id,
            system_id=inspection.system_id,
            description=kw.pop("description", "检查发现未落实：测试要求"),
            severity=kw.pop("severity", "medium"),
            **kw,
        )
        finding.rectification = RectificationItem(
            unit_id=inspection.unit_id, deadline_days=30, due_date=due_date, status=status
        )
        db.session.add(finding)
        db.session.commit()
        return finding
