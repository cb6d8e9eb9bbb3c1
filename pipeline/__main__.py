"""`python -m pipeline` runs the edgewatch CLI."""

from pipeline.cli import main

main(prog_name="edgewatch")
