"""Reporting: the text of a result and a report, the Markdown summary, the picture, the reproduction snippet."""
