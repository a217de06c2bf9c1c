from tinykit.cli import main

main()
