"""The clinic hub: a PostgreSQL server every chair pushes its ended sessions to (issue 18).

Storage only, like the rest of ``db``: it knows nothing of ``console`` or Qt.
:mod:`db.hub.schema` makes the hub's tables; :mod:`db.hub.push` sends a chair's
ended sessions and its clinical safety records there.
"""
