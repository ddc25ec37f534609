"""Migration b7d41e6a9c20: the 兵团 unit kinds are accepted after it and folded back before it."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from inspect_app import create_app
from inspect_app.extensions import db

from .conftest import make_test_config

INSERT = sa.text(
    "INSERT INTO units (code, name, kind, is_key_unit, is_cii, sector, address, contact_name,"
    " contact_phone, contact_email, has_website, has_new_media, handles_pi, important_data,"
    " classified, active, created_at, updated_at)"
    " VALUES (:code, :code, :kind, false, false, '', '', '', '', '', false, false, false, false,"
    " false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def _insert(code: str, kind: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(INSERT, {"code": code, "kind": kind})


def _kinds() -> dict[str, str]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT code, kind FROM units")).all())


def test_bingtuan_kinds_are_stored_after_the_migration_and_folded_into_their_character_before_it(
    new_database_url, tmp_path
):
    app = create_app(make_test_config(new_database_url(), tmp_path))
    with app.app_context():
        upgrade(revision="b7d41e6a9c20")
        for code, kind in (("T1", "regiment"), ("T2", "regiment_town"), ("T3", "company")):
            _insert(code, kind)
        with pytest.raises(sa.exc.IntegrityError):
            _insert("X1", "bogus")
        downgrade(revision="5f58307847ee")
        assert _kinds() == {"T1": "party_gov", "T2": "party_gov", "T3": "other"}
        with pytest.raises(sa.exc.IntegrityError):
            _insert("X2", "regiment")
        upgrade(revision="b7d41e6a9c20")
        _insert("T4", "regiment_town")
        assert _kinds()["T4"] == "regiment_town"
        db.engine.dispose()
