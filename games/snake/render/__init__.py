"""Snake drawn for people: a pygame window, a curses terminal, the steering keys."""
