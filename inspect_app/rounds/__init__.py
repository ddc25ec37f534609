"""The six rounds of the year: planning, targets and joint teams."""
