"""One module per `ssd` subcommand: argument parsing and printing, no logic of its own (ssd.cli dispatches)."""
