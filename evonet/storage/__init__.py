"""Files: the .npz container, evonet's file kinds, run folders, histories, memory checks."""
