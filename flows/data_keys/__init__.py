"""Data-key rotation (`zerotrip keys rotate-data`): which columns depend on the data key, and the resumable
batch job that re-keys them."""
