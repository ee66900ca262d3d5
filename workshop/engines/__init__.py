"""Heavy machinery behind small interfaces: a sentence-embedding model, later a translation
engine. An engine knows only the ground floor (no database, no Flask request), is called off
eventlet's hub (see `offhub`), and is simply off when it is missing or broken."""
