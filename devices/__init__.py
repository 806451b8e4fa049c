"""Device layer: TSCP/1 codec, adapters (serial, socket, replay), simulator, registry.

Plain Python only: nothing here imports Qt, the database or the domain.
"""
