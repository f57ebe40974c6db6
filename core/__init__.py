"""ShrivenQuant core package."""
