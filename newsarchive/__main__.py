from newsarchive.crawler.cli import main

main()
