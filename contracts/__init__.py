"""Published contracts: what each service puts on the bus, importable by every other service.

One module per publishing service (`needs`, `volunteers`, `matching`, `notify`): its topic (`TOPIC`), the
marshmallow schema of every event payload it publishes (`EVENTS`, validated on publish and on consume), and the
codes its payloads carry (reasons, kinds). A consumer builds its catalogue from these modules; no service imports
another service. The modules here import nothing but marshmallow and the shared field types of
`wspolnota.schemas`. The agreed names and fields, and the rules behind them: docs/events.md.
"""
