"""Market data state: order books, bars, the latest quote per instrument."""
