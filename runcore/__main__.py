from runcore.cli.main import entry

entry()
