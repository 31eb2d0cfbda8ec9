"""Generated, labelled data for demos and tests; never real logs."""
