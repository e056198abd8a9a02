"""Extension family: the update/assessment pipeline (the patch extension, its operations and results)."""
