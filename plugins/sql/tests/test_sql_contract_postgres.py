"""The store contract against PostgreSQL (one fresh database per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wenti.testing.contract import StoreContract
from wenti_sql import open_store

pytestmark = pytest.mark.postgres


class TestPostgresStoreContract(StoreContract):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_url: str) -> None:
        self.url = postgres_url

    def make_store(self, tmp_path: Path):
        return open_store(self.url)
