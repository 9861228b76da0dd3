"""城乡低保 casework: economic check, home visit, public notice, objections, approvals (flows.dibao.cases)."""
