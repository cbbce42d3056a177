from newsarchive.cli.main import main

main()
