"""Every figure the office reports, computed once in SQL (figures.py); the dashboard, the
workbooks, the annual report and the API read the same functions, so their totals agree."""
