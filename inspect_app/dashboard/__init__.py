"""Coordinators' and viewers' home: the year and the current round at a glance, SVG charts served
as images of their own, and the printable annual report (年度通报), all read from reports/."""
