"""Generic views that games build on: a pygame window, a curses screen, key names."""
