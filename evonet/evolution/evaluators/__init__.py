"""Where a generation's rollouts run: this process, worker processes, or Ray."""
