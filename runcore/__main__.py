from runcore.cli.main import main

main()
