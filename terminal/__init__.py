"""ShrivenQuant terminal package."""
