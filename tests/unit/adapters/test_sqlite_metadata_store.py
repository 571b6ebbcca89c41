import pytest

from contracts.metadata_store_contract import MetadataStoreContract
from noticebot.adapters.local.sqlite_metadata_store import MIGRATIONS, SqliteMetadataStore


class TestSqliteMetadataStore(MetadataStoreContract):
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
