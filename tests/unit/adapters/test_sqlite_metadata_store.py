import pytest

from contracts.metadata_store_contract import MetadataStoreContract, TuningStoreContract
from noticebot.adapters.local.sqlite_metadata_store import MIGRATIONS, SqliteMetadataStore


class TestSqliteMetadataStore(MetadataStoreContract, TuningStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return SqliteMetadataStore(tmp_path / "meta.sqlite3")


def test_schema_is_versioned_and_reopening_keeps_data(tmp_path):
    from contracts.metadata_store_contract import make_doc

    store = SqliteMetadataStore(tmp_path / "m.db")
    assert store.schema_version == len(MIGRATIONS)
    store.put_document(make_doc())
    again = SqliteMetadataStore(tmp_path / "m.db")
    assert again.schema_version == len(MIGRATIONS)
    assert again.get_document("ws1", "d1").title == "A"


def test_a_version_1_database_migrates_to_the_tuning_tables(tmp_path):
    import sqlite3

    from contracts.metadata_store_contract import make_doc, make_job

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version=1; COMMIT;")
    db.close()
    store = SqliteMetadataStore(path)
    assert store.schema_version == len(MIGRATIONS) >= 2
    store.put_document(make_doc())
    store.put_job(make_job())
    assert store.get_job("ws1", "j1").job_id == "j1"


def test_a_version_2_database_gains_ingest_leases_and_keeps_its_documents(tmp_path):
    import sqlite3
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:2], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version={version}; COMMIT;")
    db.execute("INSERT INTO documents VALUES ('ws1','d1','a.txt','A','text/plain',3,'abc',"
               "'tenants/ws1/raw/d1/a.txt','processing',NULL,0,NULL,'upload','{}','u1',"
               "'2026-01-01T00:00:00+00:00','2026-01-01T00:00:00+00:00')")
    db.commit()
    db.close()
    store = SqliteMetadataStore(path)
    assert store.schema_version == len(MIGRATIONS) >= 3
    old = store.get_document("ws1", "d1")
    assert (old.attempts, old.lease_until, old.lease_holder) == (0, None, "")
    # A row left processing by a version without leases is not held by anyone.
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert store.claim_document("ws1", "d1", holder="m", lease_until=now + timedelta(minutes=5),
                                now=now)


def test_unsettled_documents_span_workspaces_and_skip_settled_ones(tmp_path):
    from contracts.metadata_store_contract import make_doc
    from noticebot.domain.models import DocumentStatus

    store = SqliteMetadataStore(tmp_path / "m.db")
    store.put_document(make_doc("ws1", "q", sha="1"))
    store.put_document(make_doc("ws2", "p", sha="2", status=DocumentStatus.PROCESSING))
    store.put_document(make_doc("ws1", "i", sha="3", status=DocumentStatus.INDEXED))
    store.put_document(make_doc("ws2", "f", sha="4", status=DocumentStatus.FAILED))
    assert sorted(d.document_id for d in store.unsettled_documents()) == ["p", "q"]
