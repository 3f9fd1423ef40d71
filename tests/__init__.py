"""Test package: a package so that `tests.reference_data` is importable by tests and bench alike."""
