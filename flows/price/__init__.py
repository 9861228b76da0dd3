"""The price subsidy's casework (flows.programs.price_subsidy is its pure rule)."""
