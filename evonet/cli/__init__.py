"""The evonet command line: argument parsing and printing around the library."""
