"""The torch engine's worker: serves the runner's FYM operations over stdin/stdout."""
