"""Partner-data imports (population registry, legacy beneficiaries): read, validate, report, bulk upsert.

Nothing here keeps an ID number in clear beyond the row being processed: the database gets a keyed hash and
ciphertext, the reject report and every message get the masked form only.
"""
