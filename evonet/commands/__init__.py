"""One module per ``evonet`` subcommand; each adds its parser and owns its output."""
