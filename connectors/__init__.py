"""ShrivenQuant connectors package."""
