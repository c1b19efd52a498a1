from cnai.cli import main

main()
