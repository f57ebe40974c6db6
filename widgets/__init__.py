"""ShrivenQuant widgets package."""
