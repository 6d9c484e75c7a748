"""The kernel side: the magics, their settings, the job cards, the form and tables."""
