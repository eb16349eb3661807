"""One plotting module per notebook, for figures that take more than a few lines (the notebooks call them)."""
