"""Development infrastructure shared by the tests and the bench.

It lives outside `tests/` so that the bench can use it without importing from the
test suite, and outside `videogen/` and `components/` because the app never needs
it at run time (import-linter's contracts in pyproject.toml hold both lines).
"""
