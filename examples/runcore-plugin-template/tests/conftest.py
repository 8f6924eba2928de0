pytest_plugins = ["runcore.testing"]
