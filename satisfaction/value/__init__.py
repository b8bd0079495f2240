"""Customer value: transactions, RFM, ABC, lifecycle, CLV and the survey link."""
