"""Search strategies over a (P, D) matrix of flat genomes, in ask/tell form."""
