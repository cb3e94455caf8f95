"""Snake: the rule book and its compiled rules, the batched engine, views, Gymnasium."""
