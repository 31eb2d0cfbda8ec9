"""Test helpers for vigil and code built on it; imports hypothesis, so dev installs only."""
