def register(registry):
    raise RuntimeError("database not configured")
