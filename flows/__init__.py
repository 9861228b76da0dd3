"""Zero-trip flows: programs as dated rules, proactive scans, application lifecycle, identity binding.

A flow is "event (turned 80, died, certificate issued) → handler (propose, upgrade, stop) → messages".
"""
