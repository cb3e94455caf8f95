"""Evolution runs: settings, the generation loop, rollouts, evaluators and reporters."""
