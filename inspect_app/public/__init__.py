"""Pages anyone may open without logging in: the published list of inspection items."""
