"""Storage: the tables, the engine and its write transactions, and the migrations."""
