"""Pure folds of event streams, the read-model tables they fill, and period scoring."""
