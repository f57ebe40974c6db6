"""Option chains: build per-expiry tables of calls and puts with live quotes, IV and Greeks."""
