"""Charts: the candlestick chart with volume, studies and the user's orders; the depth chart; the
time-and-sales tape."""
