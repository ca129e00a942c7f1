"""The torch process (the torch engine's Python side): serves the runner's FYM operations over stdin/stdout."""
