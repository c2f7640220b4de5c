"""The store's schema management on both backends."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from ixops.db import SCHEMA_HEAD, current_revision, ensure_schema, head_revision, make_engine


def test_schema_head_constant_matches_the_migrations() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_first_use_creates_the_schema_and_second_is_a_no_op(database_url: str) -> None:
    engine: Engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        ensure_schema(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        assert {"site", "device", "interface", "link", "access_unit"} <= set(
            inspect(engine).get_table_names()
        )
        ensure_schema(engine)
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
