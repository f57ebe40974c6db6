"""Resources: themes, default layouts and keymaps, sample strategies, sample data."""
