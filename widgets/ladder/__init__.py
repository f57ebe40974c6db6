"""DOM ladder and order book panel."""
