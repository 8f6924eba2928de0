from runcore.cli.launch import entry

entry()
