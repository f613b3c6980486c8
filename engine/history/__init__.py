"""Customer history and the contact ledger: tables, sessions, migrations, importers."""
