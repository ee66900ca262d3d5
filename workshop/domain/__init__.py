"""The rules and writes of a workshop, one module per concern.

Each write validates, commits one short transaction, then publishes one change; `queries` reads,
`schemas` shapes the JSON each audience sees, `rules` states phases and statuses as data.
"""
