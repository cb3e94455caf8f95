"""Networks: the topology, the flat genome layout, the batched forward pass and backprop."""
