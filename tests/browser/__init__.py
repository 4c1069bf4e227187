"""Real-browser tests of the published site (Playwright driving Debian's Chromium)."""
