from parkzero.cli.main import run

run()
