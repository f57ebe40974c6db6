"""Option chain panel, IV smile, and the strategy builder."""
