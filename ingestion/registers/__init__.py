"""One module per source register: its files, its contract, its raw tables."""
