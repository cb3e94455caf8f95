"""Read-only views of games for people: a pygame window and a curses terminal."""
