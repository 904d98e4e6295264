"""The dev harness: the demo, the local run of every process against the local stack (used by the
demo, the integration tests and the benchmarks) and the seeded sample feed. Never deployed."""
