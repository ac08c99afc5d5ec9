"""pytest-alembic's standard migration tests, on SQLite and PostgreSQL (``db_url``).

They run the packaged migrations through ade-db's own ``env.py``, handing it an Engine in
``config.attributes["connection"]`` as Alembic's cookbook (and so pytest-alembic) does; the
``ade db`` commands hand it a Connection instead (tests/db/test_migrations.py).

- single head: the history has one head, so ``upgrade head`` is unambiguous;
- upgrade: every revision applies in order from an empty database;
- model definitions match DDL: autogenerate against the migrated database finds nothing to do;
- up/down consistency: every revision can be downgraded and upgraded again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.config import Config
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine

from ade.db.engine import create_engine
from ade.db.migrate import alembic_config as ade_alembic_config

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture()
def alembic_config() -> Config:
    """The packaged migrations, configured exactly as ``ade db migrate`` configures them."""
    return ade_alembic_config()


@pytest.fixture()
def alembic_engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, null_pool=True)
    try:
        yield engine
    finally:
        engine.dispose()
