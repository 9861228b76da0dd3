"""Proactive scans (主动发现): set-based SQL that turns registry data into pre-filled applications."""
