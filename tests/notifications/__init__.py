"""Tests of the bell, the list and e-mail of notifications."""
