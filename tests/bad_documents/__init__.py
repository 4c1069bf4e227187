"""Broken documents for tests/test_bad_documents.py and bench/bad_documents_bounds.py."""
