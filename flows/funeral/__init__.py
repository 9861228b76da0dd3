"""The funeral subsidy's casework (flows.programs.funeral_subsidy is its pure rule)."""
