"""The store contract against a SQLite file per test."""

from __future__ import annotations

from pathlib import Path

from wenti.testing.contract import StoreContract
from wenti_sql import open_store


class TestSqliteStoreContract(StoreContract):
    def make_store(self, tmp_path: Path):
        return open_store(f"sqlite:///{tmp_path / 'contract.db'}")
