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
