"""Small factories for test data; each commits so the app sees the rows (inside the test's transaction)."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

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
        user = User(role=role, password_hash=_password_hash(), **kw)
        db.session.add(user)
        db.session.commit()
        return user

    def round(self, year: int = 2026, seq: int = 1, **kw) -> Round:
        kw.setdefault("title", f"{year}年第{seq}轮")
        kw.setdefault("start_date", date(year, seq * 2 - 1, 1))
        rnd = Round(year=year, seq=seq, **kw)
        db.session.add(rnd)
        db.session.commit()
        return rnd
