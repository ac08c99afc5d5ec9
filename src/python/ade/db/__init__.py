"""ADE's database layer: models, engines and sessions, settings and Alembic migrations.

Deliberately empty: the CLI imports submodules lazily, so importing ``ade.db`` must stay free
of SQLAlchemy, Alembic and pydantic. Import what you need from the submodules:
``ade.db.models``, ``ade.db.engine``, ``ade.db.settings``, ``ade.db.migrate``, ``ade.db.errors``.
"""
