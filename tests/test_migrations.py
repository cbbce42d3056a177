"""Alembic migrations: the migrated schema equals the models on SQLite and PostgreSQL; adoption; CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine

from newsarchive.archive.index import ArchiveIndex, make_engine
from newsarchive.archive.schema import (
    BASELINE,
    current_revision,
    ensure_schema,
    head_revision,
    is_managed,
    target_metadata,
)
from newsarchive.cli.main import cli
from tests.pg import pg_unavailable_reason, temp_pg_database


def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'index.sqlite'}"


def _postgres(tmp_path: Path) -> Iterator[str]:
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from (_sqlite if request.param == "sqlite" else _postgres)(tmp_path)


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to:
                is_managed(obj, name, type_, reflected, compare_to),
        })
        return list(compare_metadata(context, target_metadata()))


def test_migrated_schema_matches_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    assert ensure_schema(engine, replay=True) == head_revision()  # every migration script, on SQLite too
    assert current_revision(engine) == head_revision()
    assert differences(engine) == []
    assert ensure_schema(engine) == head_revision()  # idempotent
    engine.dispose()


def schema_of(engine: Engine) -> dict[str, object]:
    """Everything SQLAlchemy's inspector reports of every table, Alembic's version table included; columns
    by name (a migration appends the columns it adds: their position is all that differs, and nothing
    addresses columns by position)."""
    found = inspect(engine)
    return {table: {"columns": sorted((c["name"], str(c["type"]), c["nullable"], c.get("default"),
                                       c.get("autoincrement")) for c in found.get_columns(table)),
                    "pk": found.get_pk_constraint(table),
                    "fks": sorted(map(repr, found.get_foreign_keys(table))),
                    "indexes": sorted(map(repr, found.get_indexes(table))),
                    "uniques": sorted(map(repr, found.get_unique_constraints(table))),
                    "checks": sorted(map(repr, found.get_check_constraints(table)))}
            for table in sorted(found.get_table_names())}


def test_new_sqlite_database_from_models_equals_the_migrated_one(tmp_path: Path) -> None:
    """A new SQLite index is created from the models and stamped at head, not migrated: the result must be
    what the migrations make, to the inspector's every detail, and Alembic must take it as at head."""
    from alembic import command

    from newsarchive.archive.schema import alembic_config

    migrated, created = (make_engine(f"sqlite:///{tmp_path / name}") for name in ("migrated.sqlite", "created.sqlite"))
    ensure_schema(migrated, replay=True)
    assert ensure_schema(created) == head_revision()
    assert schema_of(created) == schema_of(migrated)
    assert differences(created) == []
    for engine in (created, migrated):  # what the inspector does not report: story_bands is WITHOUT ROWID
        with engine.connect() as conn:
            assert "WITHOUT ROWID" in conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'story_bands'")).scalar()
    with created.begin() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        command.downgrade(alembic_config(conn), "-1")  # Alembic's own bookkeeping works on the stamp
        command.upgrade(alembic_config(conn), "head")
    assert current_revision(created) == head_revision()
    migrated.dispose()
    created.dispose()


def test_the_schema_comparison_sees_a_difference(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.sqlite'}")
    ensure_schema(engine)
    before = schema_of(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_extra ON captures (host, status)"))
    assert schema_of(engine) != before
    engine.dispose()


def test_comparison_can_fail(db_url: str) -> None:
    """The comparison notices a schema that is not the models' (so the test above can fail)."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_captures_digest"))
        conn.execute(text("ALTER TABLE fetch_failures ADD COLUMN extra INTEGER"))
    found = {d[0] if isinstance(d, tuple) else d[0][0] for d in differences(engine)}  # type: ignore[index]
    assert {"add_index", "remove_column"} <= found
    engine.dispose()


def test_pre_migration_database_is_adopted(tmp_path: Path) -> None:
    """A database created by create_all (no alembic_version) is stamped and upgraded, data kept."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    target_metadata().create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO crawl_runs (id, started_at, status, spider, args, pages, articles, errors, "
                          "stats) VALUES (7, '2024-01-01 00:00:00', 'finished', 'news', '{}', 3, 1, 0, '{}')"))
    assert ensure_schema(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pages FROM crawl_runs WHERE id = 7")).scalar() == 3
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]
    assert BASELINE <= head_revision()
    assert differences(engine) == []
    engine.dispose()


def test_archive_index_migrates_and_keeps_foreign_tables(db_url: str) -> None:
    """ArchiveIndex brings a fresh database to head; tables it does not map (job stores) are left alone."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE newsarchive_schedule_jobs (id VARCHAR(191) PRIMARY KEY)"))
    index = ArchiveIndex(db_url)
    assert current_revision(index.engine) == head_revision()
    assert "captures" in inspect(index.engine).get_table_names()
    assert "newsarchive_schedule_jobs" in inspect(index.engine).get_table_names()
    assert differences(index.engine) == []
    index.close()
    engine.dispose()


def test_db_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current", "--index-url", url, "--home", str(tmp_path)])
    assert before.exit_code == 0, before.output
    assert "current: none" in before.output
    upgraded = runner.invoke(cli, ["db", "upgrade", "--index-url", url, "--home", str(tmp_path)])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"-> {head_revision()}" in upgraded.output
    again = runner.invoke(cli, ["db", "upgrade", "--index-url", url, "--home", str(tmp_path)])
    assert "up to date" in again.output
    after = runner.invoke(cli, ["db", "current", "--index-url", url, "--home", str(tmp_path)])
    assert f"current: {head_revision()}" in after.output


def test_db_upgrade_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--index-url", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot connect to index")
    assert "Traceback" not in result.output


def test_every_table_lives_in_models() -> None:
    """All tables are mapped in newsarchive.archive.models, so importing it registers the whole schema."""
    import newsarchive

    package = Path(newsarchive.__file__).parent
    mapping = {str(p.relative_to(package)) for p in package.rglob("*.py")
               if "__tablename__" in p.read_text() and "migrations" not in p.parts}
    assert mapping == {"archive/models.py"}


def test_full_text_objects_are_created(db_url: str) -> None:
    """Migration 0002 builds the PostgreSQL GIN index of newsarchive.archive.search; SQLite FTS5 is left to
    search.ensure_search_index (built and filled on first use)."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'articles_fts'")).first()
        else:
            assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_articles_fulltext'")).first()
    engine.dispose()


def test_search_works_on_a_migrated_index(db_url: str, tmp_path: Path) -> None:
    """Articles written after `db upgrade` are found by newsarchive.archive.search."""
    from newsarchive.archive.search import SearchQuery, ensure_search_index, search_articles
    from tests.archive_builder import BERICHT_URL, STORY_URL, build_archive

    engine = make_engine(db_url)
    ensure_schema(engine)
    engine.dispose()
    archive = build_archive(tmp_path / "home", db_url)  # the crawler's ArchiveIndex writes the rows
    ensure_search_index(archive.index.engine)  # what search does first: builds FTS5 on SQLite, no-op on PostgreSQL
    assert differences(archive.index.engine) == []  # the search objects are not mistaken for schema drift
    hits = search_articles(archive.index, SearchQuery(q="steel cables")).hits
    assert [h.url for h in hits] == [STORY_URL]
    assert [h.url for h in search_articles(archive.index, SearchQuery(q="Hafenbrücke")).hits] == [BERICHT_URL]
    archive.index.close()


def test_adopted_database_gets_the_baseline_tables_it_lacks(tmp_path: Path) -> None:
    """create_all made only the tables of the modules imported at the time; adoption adds the others."""
    from newsarchive.archive import schema

    engine = create_engine(f"sqlite:///{tmp_path / 'partial.sqlite'}")
    metadata = target_metadata()
    metadata.create_all(engine, tables=[metadata.tables[n] for n in ("crawl_runs", "captures", "articles")])
    ensure_schema(engine)
    assert set(schema.BASELINE_TABLES) <= set(inspect(engine).get_table_names())
    assert differences(engine) == []
    engine.dispose()


def test_baseline_tables_are_those_of_the_first_revision() -> None:
    from newsarchive.archive import schema

    first = (schema.MIGRATIONS / "versions" / "0001_initial_schema.py").read_text()
    created = set(re.findall(r"op\.create_table\('(\w+)'", first))
    assert created == set(schema.BASELINE_TABLES)


def test_head_constant_is_the_newest_script() -> None:
    """schema.HEAD (used for the fast up-to-date check) must name the newest migration script."""
    from newsarchive.archive import schema

    assert schema.HEAD == head_revision()


def test_story_bands_are_backfilled_from_an_index_clustered_before_them(db_url: str) -> None:
    """An index at revision 0003 whose stories the datasketch-based code made (its story_clusters rows, no
    band table): the upgrade fills story_bands from the stored signatures, and the next close places new
    articles exactly as the in-memory LSH over every article would."""
    from alembic import command
    from sqlalchemy.orm import Session

    from newsarchive.archive.dedup import LSH_BANDS, cluster_articles
    from newsarchive.archive.models import StoryBand, StoryCluster
    from newsarchive.archive.schema import alembic_config
    from tests.dedup_reference import (
        add_texts,
        add_to_session,
        expected_clusters,
        reference_clusters,
        stored_clusters,
        synthetic_texts,
    )

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
    assert "story_bands" not in inspect(engine).get_table_names()
    texts = synthetic_texts(500, seed=13)
    with Session(engine) as s, s.begin():
        old = add_to_session(s, texts[:420])
        s.add_all(StoryCluster(article_id=k, story_id=p.story_id, method=p.method, matched_article_id=p.matched_article_id,
                               similarity=p.similarity, text_hash=h, shingles=p.shingles, signature=p.signature)
                  for (k, _, h), p in zip(old, reference_clusters(old).values(), strict=True))
    engine.dispose()
    index = ArchiveIndex(db_url)  # upgrades to head
    assert current_revision(index.engine) == head_revision()
    with index.sessions() as s:
        signed = s.scalar(select(func.count()).select_from(StoryCluster).where(StoryCluster.signature.is_not(None)))
        assert signed and s.scalar(select(func.count()).select_from(StoryBand)) == signed * LSH_BANDS
    new = add_texts(index, texts[420:], first=420)
    report = cluster_articles(index)
    assert report.articles == 80 and report.near > 5
    assert stored_clusters(index) == expected_clusters(old + new)
    index.close()
