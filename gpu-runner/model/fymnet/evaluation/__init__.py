"""Measurements of the model and its artifacts: quality, parity, MotionBench cases, engine speed."""
