"""The simulated year (`zerotrip simulate`): see flows.simulation.city_year."""
