"""The elderly care service subsidy's casework (flows.programs.elderly_care_service_subsidy is its rule)."""
