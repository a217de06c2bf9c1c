"""``tinykit report``: one self-contained HTML page showing a model, its memory plan,
its budgets and its measured speed (:mod:`tinykit.report.api`)."""
