"""What people look at: replays, the network panel, GIFs, figures, the live training view."""
