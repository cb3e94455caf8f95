"""evonet train --live: a network learning, in a window or in the terminal."""
