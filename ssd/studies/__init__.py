"""Studies: each is a set of experiment arms plus its own report (testbed, smollm, paper, control)."""
