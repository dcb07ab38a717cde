from tests.accounting.conftest import ledger  # noqa: F401 - the small park with readings and sources
